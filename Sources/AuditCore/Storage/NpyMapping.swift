import Foundation

/// A `.npy` file mapped read-only into memory: its array is read in place, without a copy,
/// and its pages come and go from the page cache, so an array larger than memory can be lent.
///
/// The whole file is mapped from offset 0 (the header shares the first page), `MAP_SHARED`,
/// `PROT_READ`. `release` drops resident pages (`MADV_DONTNEED`): a later read fetches them
/// again from the file with the same values. Unmapped when the last reference goes.
public final class NpyMapping {
    public let path: String
    public let header: Npy.Header
    /// The mapping: the whole file.
    let base: UnsafeMutableRawPointer?
    let length: Int

    /// Maps the file at `path` and parses its header; checks that the file holds exactly the
    /// data the header's shape and element size say.
    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw NpyError(path: path, message: "cannot read the file") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw NpyError(path: path, message: "cannot read the file") }
        length = Int(st.st_size)
        guard length >= 10 else { throw NpyError(path: path, message: "not a .npy file (bad magic)") }
        let p = mmap(nil, length, PROT_READ, MAP_SHARED, fd, 0)
        guard let p, p != MAP_FAILED else {
            throw NpyError(path: path, message: "cannot map the file: \(String(cString: strerror(errno)))")
        }
        base = p
        do {
            header = try Npy.Header(UnsafeRawBufferPointer(start: p, count: length), path: path)
        } catch {
            munmap(p, length)
            throw error
        }
    }

    deinit {
        if let base { munmap(base, length) }
    }

    /// Bytes of data after the header.
    public var payloadBytes: Int { length - header.payloadOffset }

    /// The array in place, checked: element type `T` (or one of `descrs`), C order, exactly
    /// the header's element count, aligned for `T`.
    public func buffer<T: Npy.Element>(_ type: T.Type, accepting descrs: [String]? = nil) throws -> UnsafeBufferPointer<T> {
        guard (descrs ?? [T.descr]).contains(header.descr) else {
            throw NpyError(path: path, message: "element type is not \(T.descr): '\(header.descr)', shape \(header.shape)")
        }
        guard !header.fortranOrder else { throw NpyError(path: path, message: "Fortran order is not supported") }
        let needed = header.count * MemoryLayout<T>.stride
        guard payloadBytes == needed else {
            throw NpyError(path: path, message: "holds \(payloadBytes) bytes of data, shape \(header.shape) needs \(needed)")
        }
        guard header.payloadOffset % MemoryLayout<T>.alignment == 0 else {
            throw NpyError(path: path, message: "data start at byte \(header.payloadOffset), not aligned for \(T.descr)")
        }
        return UnsafeBufferPointer(start: (base! + header.payloadOffset).assumingMemoryBound(to: T.self), count: header.count)
    }

    /// Drops the resident pages holding bytes `[offset, offset + count)` of the payload (whole
    /// pages, widened outward to page boundaries inside the mapping).
    public func release(payloadBytes range: Range<Int>) {
        guard let base, !range.isEmpty else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let lo = (header.payloadOffset + range.lowerBound) / page * page
        let hi = min(length, (header.payloadOffset + range.upperBound + page - 1) / page * page)
        if hi > lo { madvise(base + lo, hi - lo, MADV_DONTNEED) }
    }

    /// Drops every resident page of the mapping.
    public func releaseAll() {
        if let base { madvise(base, length, MADV_DONTNEED) }
    }
}

extension Npy {
    /// Whether `path` is a readable `.npy` file of `T` values, C order, of exactly `shape`
    /// (only its header is read).
    public static func holds<T: Element>(_ type: T.Type, shape: [Int], at path: String) -> Bool {
        guard let m = try? NpyMapping(path: path), (try? m.buffer(T.self)) != nil else { return false }
        return m.header.shape == shape
    }
}

/// A float array of the signals: held in memory, or lent in place from a mapped `.npy` file
/// (reference logits at scale: [R, N, C] f32 of hundreds of models), or, until the run
/// converts it, a `.npy` file of float64 values.
public struct SignalArray {
    public enum Storage {
        case memory([Float])
        case mapped(NpyMapping)
        /// A float64 `.npy` file that `SignalsStage.write` converts into the run folder (and maps).
        case float64File(String, count: Int)
    }

    public var storage: Storage

    public init(_ values: [Float]) { storage = .memory(values) }
    public init(mapping: NpyMapping) { storage = .mapped(mapping) }
    init(storage: Storage) { self.storage = storage }

    /// Maps the little-endian float32 C-order `.npy` file at `path`.
    public static func mapping(_ path: String) throws -> SignalArray {
        let m = try NpyMapping(path: path)
        _ = try m.buffer(Float.self)
        return SignalArray(mapping: m)
    }

    public var count: Int {
        switch storage {
        case .memory(let v): v.count
        case .mapped(let m): m.header.count
        case .float64File(_, let count): count
        }
    }

    public var isEmpty: Bool { count == 0 }

    /// Whether the values are a read-only file mapping.
    public var isMapped: Bool {
        if case .mapped = storage { return true }
        return false
    }

    /// The mapped file, if any.
    public var mapping: NpyMapping? {
        if case .mapped(let m) = storage { return m }
        return nil
    }

    /// Lends the values in place. A `float64File` not yet converted is a programming error.
    public func withUnsafeBufferPointer<T>(_ body: (UnsafeBufferPointer<Float>) throws -> T) rethrows -> T {
        switch storage {
        case .memory(let v): return try v.withUnsafeBufferPointer(body)
        case .mapped(let m): return try body(try! m.buffer(Float.self))  // checked when mapped
        case .float64File(let path, _): preconditionFailure("\(path) is used before its conversion to float32")
        }
    }

    /// A copy of the values in memory (for small arrays and tests).
    public var values: [Float] { withUnsafeBufferPointer { Array($0) } }

    /// Drops the resident pages of elements `range` (mapped arrays only; a no-op otherwise).
    public func release(_ range: Range<Int>) {
        mapping?.release(payloadBytes: (range.lowerBound * 4)..<(range.upperBound * 4))
    }

    /// Drops every resident page (mapped arrays only).
    public func releaseAll() { mapping?.releaseAll() }

    /// Calls `body` with consecutive blocks of about `blockBytes` of the values, releasing each
    /// block's pages after it when mapped: bounded resident memory for a pass over the array.
    public func forEachBlock(blockBytes: Int = 8 << 20, rowLength: Int = 1, _ body: (UnsafeBufferPointer<Float>) throws -> Void) rethrows {
        let rows = max(1, blockBytes / max(1, rowLength * 4))
        let step = rows * max(1, rowLength)
        try withUnsafeBufferPointer { all in
            var start = 0
            while start < all.count {
                let end = min(all.count, start + step)
                try body(UnsafeBufferPointer(rebasing: all[start..<end]))
                release(start..<end)
                start = end
            }
        }
    }
}
