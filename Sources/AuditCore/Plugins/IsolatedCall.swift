import CPluginGuard
import Foundation
import PluginABI
import PluginKit

/// The shared-memory block of one isolated `score` call (layout: `mia_isolated_call_t` in
/// Sources/CPluginGuard/include/isolated_call.h): a memfd both processes map, the header first,
/// then each array at a 64-byte-aligned offset. The host writes the signals, the child writes
/// the scores and the mask; nothing is copied through a pipe.
///
/// Owns the mapping and the file descriptor; both are released by `close()`.
final class IsolatedCallBlock {
    let base: UnsafeMutableRawPointer
    let size: Int
    let fd: Int32
    private let owner: Bool

    var header: UnsafeMutablePointer<mia_isolated_call_t> { base.assumingMemoryBound(to: mia_isolated_call_t.self) }

    /// A new block of `size` bytes (host side).
    init(size: Int) throws {
        fd = mia_isolated_block(size)
        guard fd >= 0 else {
            throw PluginError(.io, "cannot create shared memory of \(size) bytes: \(String(cString: strerror(errno)))")
        }
        self.size = size
        owner = true
        base = try Self.map(fd, size)
        base.initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<mia_isolated_call_t>.size)
    }

    /// The host's block at `path` (`/proc/<host>/fd/<fd>`), in the child.
    init(path: String) throws {
        fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else {
            throw PluginError(.io, "cannot open the shared memory \(path): \(String(cString: strerror(errno)))")
        }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_size >= MemoryLayout<mia_isolated_call_t>.size else {
            Glibc.close(fd)
            throw PluginError(.io, "the shared memory \(path) is too small")
        }
        size = Int(st.st_size)
        owner = false
        base = try Self.map(fd, size)
        guard header.pointee.magic == MIA_ISOLATED_MAGIC, header.pointee.size == UInt64(size) else {
            throw PluginError(.io, "\(path) is not an isolated call's shared memory")
        }
    }

    private static func map(_ fd: Int32, _ size: Int) throws -> UnsafeMutableRawPointer {
        let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
        guard let p, p != MAP_FAILED else {
            throw PluginError(.io, "cannot map shared memory: \(String(cString: strerror(errno)))")
        }
        return p
    }

    /// What the child opens: this process's descriptor of the memfd.
    var childPath: String { "/proc/\(getpid())/fd/\(fd)" }

    func close() {
        munmap(base, size)
        Glibc.close(fd)
    }

    func offset(_ slot: Int) -> Int {
        withUnsafeBytes(of: header.pointee.offsets) { Int($0.load(fromByteOffset: slot * 8, as: UInt64.self)) }
    }

    func setOffset(_ slot: Int, _ value: Int) {
        withUnsafeMutableBytes(of: &header.pointee.offsets) {
            $0.storeBytes(of: UInt64(value), toByteOffset: slot * 8, as: UInt64.self)
        }
    }

    /// The array at `slot`, or nil when absent.
    func pointer<T>(_ slot: Int, _ type: T.Type) -> UnsafeMutablePointer<T>? {
        let o = offset(slot)
        return o == 0 ? nil : (base + o).assumingMemoryBound(to: T.self)
    }

    var message: String {
        get {
            withUnsafeBytes(of: header.pointee.message) {
                String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
        }
        set {
            withUnsafeMutableBytes(of: &header.pointee.message) { m in
                let bytes = Array(newValue.utf8.prefix(m.count - 1))
                m.copyBytes(from: bytes)
                m[bytes.count] = 0
            }
        }
    }

    /// A new block with room for arrays of `lengths` bytes (0 = absent) at slots 0, 1, ...: its
    /// header marked (magic, size) and every array's offset set.
    static func arrays(_ lengths: [Int]) throws -> IsolatedCallBlock {
        precondition(lengths.count <= Int(MIA_ISOLATED_ARRAY_COUNT))
        let (offsets, size) = layout(lengths)
        let block = try IsolatedCallBlock(size: size)
        block.header.pointee.magic = MIA_ISOLATED_MAGIC
        block.header.pointee.size = UInt64(size)
        for (slot, offset) in offsets.enumerated() { block.setOffset(slot, offset) }
        return block
    }

    /// Copies `values` into the array at `slot` (which has room for them).
    func write<T>(_ values: UnsafeBufferPointer<T>, at slot: Int) {
        guard let to = pointer(slot, T.self), let from = values.baseAddress, !values.isEmpty else { return }
        to.update(from: from, count: values.count)
    }

    /// The `count` values of the array at `slot`.
    func read<T>(_ slot: Int, _ type: T.Type, count: Int) -> [T] {
        guard let from = pointer(slot, T.self), count > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: from, count: count))
    }

    /// The bytes from the header to the end of every array: offsets for `lengths` (bytes, 0 = absent).
    static func layout(_ lengths: [Int]) -> (offsets: [Int], size: Int) {
        func align(_ x: Int) -> Int { (x + 63) & ~63 }
        var at = align(MemoryLayout<mia_isolated_call_t>.size)
        var offsets: [Int] = []
        for l in lengths {
            offsets.append(l == 0 ? 0 : at)
            at = align(at + l)
        }
        return (offsets, max(at, 4096))
    }
}
