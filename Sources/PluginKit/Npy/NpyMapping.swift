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
    public func buffer<T: Npy.Element>(_ type: T.Type, accepting descrs: [String]? = nil) throws -> UnsafeBufferPointer<
        T
    > {
        guard (descrs ?? [T.descr]).contains(header.descr) else {
            throw NpyError(
                path: path, message: "element type is not \(T.descr): '\(header.descr)', shape \(header.shape)")
        }
        guard !header.fortranOrder else { throw NpyError(path: path, message: "Fortran order is not supported") }
        let needed = header.count * MemoryLayout<T>.stride
        guard payloadBytes == needed else {
            throw NpyError(
                path: path, message: "holds \(payloadBytes) bytes of data, shape \(header.shape) needs \(needed)")
        }
        guard header.payloadOffset % MemoryLayout<T>.alignment == 0 else {
            throw NpyError(
                path: path, message: "data start at byte \(header.payloadOffset), not aligned for \(T.descr)")
        }
        return UnsafeBufferPointer(
            start: (base! + header.payloadOffset).assumingMemoryBound(to: T.self), count: header.count)
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
