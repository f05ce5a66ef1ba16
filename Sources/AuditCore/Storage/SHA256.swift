import CSHA256
import Foundation

/// SHA-256 (FIPS 180-4), for content-addressed keys of models and for recording file hashes.
/// Checked against the standard test vectors in AuditCoreTests; the compression function is C
/// (Sources/CSHA256), with the x86 SHA extensions where the CPU has them.
struct SHA256 {
    private var h: [UInt32] = [
        0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19,
    ]
    private var buffer: [UInt8] = []
    private var length: UInt64 = 0

    init() {}

    mutating func update<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        for b in bytes {
            buffer.append(b)
            length &+= 1
            if buffer.count == 64 {
                buffer.withUnsafeBytes { compress($0.baseAddress!) }
                buffer.removeAll(keepingCapacity: true)
            }
        }
    }

    mutating func update(_ text: String) {
        var text = text
        text.withUTF8 { update(UnsafeRawBufferPointer($0)) }
    }

    /// Contiguous bytes: whole 64-byte blocks are compressed straight from the buffer.
    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var i = 0
        while i < bytes.count && !buffer.isEmpty {
            update(CollectionOfOne(bytes[i]))
            i += 1
        }
        let whole = (bytes.count - i) / 64
        if whole > 0 {
            compress(bytes.baseAddress! + i, blocks: whole)
            length &+= UInt64(whole * 64)
            i += whole * 64
        }
        update(bytes[i...])  // the tail, fewer than 64 bytes, through the byte-wise path
    }

    mutating func update(_ data: Data) { data.withUnsafeBytes { update($0) } }

    mutating func update<T>(raw array: [T]) {
        array.withUnsafeBytes { update($0) }
    }

    mutating func finalize() -> [UInt8] {
        let bitLength = length &* 8
        update([0x80])
        while buffer.count != 56 { update([0]) }
        for i in (0..<8).reversed() { buffer.append(UInt8((bitLength >> (UInt64(i) * 8)) & 0xFF)) }
        buffer.withUnsafeBytes { compress($0.baseAddress!) }
        buffer.removeAll()
        return h.flatMap { w in (0..<4).reversed().map { UInt8((w >> (UInt32($0) * 8)) & 0xFF) } }
    }

    mutating func hexDigest() -> String { finalize().map { String(format: "%02x", $0) }.joined() }

    static func hex(_ text: String) -> String {
        var s = SHA256()
        s.update(text)
        return s.hexDigest()
    }

    /// The digest of a file's bytes, read 1 MiB at a time (never whole), or nil when it cannot be read.
    static func hex(contentsOf path: String) -> String? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var s = SHA256()
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { block.deallocate() }
        while true {
            let got = read(fd, block.baseAddress, block.count)
            if got < 0 { if errno == EINTR { continue } else { return nil } }
            if got == 0 { break }
            s.update(UnsafeRawBufferPointer(rebasing: block[0..<got]))
        }
        return s.hexDigest()
    }

    /// One 64-byte block at `block` into the state (CSHA256: the SHA extensions where the CPU has
    /// them, plain C elsewhere; the same state either way).
    private mutating func compress(_ block: UnsafeRawPointer) { compress(block, blocks: 1) }

    private mutating func compress(_ data: UnsafeRawPointer, blocks: Int) {
        h.withUnsafeMutableBufferPointer { state in
            mia_sha256_blocks(state.baseAddress!, data.assumingMemoryBound(to: UInt8.self), blocks)
        }
    }
}
