import Foundation

/// NumPy `.npy` files (format 1.0): the machine-readable arrays of a run (`signals/`, `scores/`),
/// and arrays a user gives (the `npy` dataset loader). The one codec of the project: the host
/// (AuditCore) and plugins use it from here.
///
/// Element types: little-endian `<f4`, `<f8`, `<i4`, `<i8`, `|u1`; C order only.
public enum Npy {
    public protocol Element { static var descr: String { get } }

    /// Writes `values` with `shape` to `path` atomically (temporary file, then rename).
    public static func write<T: Element>(_ values: [T], shape: [Int], to path: String) throws {
        precondition(shape.reduce(1, *) == values.count, "npy shape does not match the element count")
        let writer = try NpyWriter<T>(path: path, shape: shape)
        try values.withUnsafeBufferPointer { try writer.append($0) }
        try writer.finish()
    }

    /// The header block of a `.npy` file (format 1.0) for `descr` and `shape`, padded with
    /// spaces so that the payload starts at a multiple of 64 bytes.
    static func headerBytes(descr: String, shape: [Int]) -> [UInt8] {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        let len = UInt16(header.utf8.count)
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(len & 0xFF), UInt8(len >> 8)] + Array(header.utf8)
    }

    /// The parsed header of a `.npy` file: element type, order, shape and where the data start.
    public struct Header: Equatable {
        public var descr: String
        public var fortranOrder: Bool
        public var shape: [Int]
        public var payloadOffset: Int

        public var count: Int { shape.reduce(1, *) }

        /// Parses the header at the start of `bytes` (the file's first bytes, at least the whole
        /// header).
        init(_ bytes: UnsafeRawBufferPointer, path: String) throws {
            guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else {
                throw NpyError(path: path, message: "not a .npy file (bad magic)")
            }
            let headerLength: Int, start: Int
            guard (1...3).contains(bytes[6]) else {
                throw NpyError(
                    path: path, message: "format version \(bytes[6]).\(bytes[7]) is not a .npy version (1, 2 or 3)")
            }
            if bytes[6] == 1 {
                headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
                start = 10
            } else {
                guard bytes.count >= 12 else { throw NpyError(path: path, message: "truncated header") }
                headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
                start = 12
            }
            guard bytes.count >= start + headerLength else { throw NpyError(path: path, message: "truncated header") }
            let text = String(
                decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<(start + headerLength)]), as: UTF8.self)
            guard let d = text.range(of: "'descr': '") else {
                throw NpyError(path: path, message: "no element type in header")
            }
            descr = String(text[d.upperBound...].prefix { $0 != "'" })
            fortranOrder = !text.contains("'fortran_order': False")
            guard let open = text.range(of: "'shape': ("), let close = text[open.upperBound...].firstIndex(of: ")")
            else {
                throw NpyError(path: path, message: "no shape in header")
            }
            shape = try Header.parseShape(text[open.upperBound..<close], path: path)
            payloadOffset = start + headerLength
        }
    }

    /// Reads an array written by `write`; checks the type, the order and the size.
    public static func read<T: Element>(_ type: T.Type, from path: String, accepting descrs: [String]? = nil) throws
        -> (values: [T], shape: [Int])
    {
        let mapping = try NpyMapping(path: path)
        let values = Array(try mapping.buffer(T.self, accepting: descrs))
        return (values, mapping.header.shape)
    }

    /// The header of the `.npy` file at `path`, reading nothing past it.
    public static func header(of path: String) throws -> Header { try NpyMapping(path: path).header }
}

/// Writes one `.npy` array in pieces, so that an array larger than memory can be written from
/// parts (model by model): header first, then `append` in row-major order, then `finish`, which
/// checks the count, flushes and renames into place. Dropped unfinished, it leaves no file.
public final class NpyWriter<T: Npy.Element> {
    public let path: String
    public let shape: [Int]
    private let tmp: String
    private var fd: Int32
    private var written = 0

    public init(path: String, shape: [Int]) throws {
        self.path = path
        self.shape = shape
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        tmp = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw NpyError(path: tmp, message: "cannot create the file: \(String(cString: strerror(errno)))")
        }
        try Npy.headerBytes(descr: T.descr, shape: shape).withUnsafeBytes { try put($0) }
    }

    deinit {
        if fd >= 0 {
            close(fd)
            unlink(tmp)
        }
    }

    private func put(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw NpyError(path: tmp, message: "cannot write: \(String(cString: strerror(errno)))") }
            done += n
        }
    }

    /// Appends `values`, the next elements in row-major order.
    public func append(_ values: UnsafeBufferPointer<T>) throws {
        guard fd >= 0 else { throw NpyError(path: path, message: "append after finish") }
        guard written + values.count <= shape.reduce(1, *) else {
            throw NpyError(path: path, message: "more values than shape \(shape) holds")
        }
        if values.isEmpty { return }
        try put(UnsafeRawBufferPointer(values))
        written += values.count
    }

    /// Checks that every element was written, flushes, and renames the file into place.
    public func finish() throws {
        guard written == shape.reduce(1, *) else {
            throw NpyError(path: path, message: "\(written) values written, shape \(shape) needs \(shape.reduce(1, *))")
        }
        fsync(fd)
        close(fd)
        fd = -1
        guard rename(tmp, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(tmp)
            throw NpyError(path: path, message: "cannot rename into place: \(reason)")
        }
    }
}

public struct NpyError: Error, CustomStringConvertible {
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}

extension Float: Npy.Element { public static var descr: String { "<f4" } }
extension Double: Npy.Element { public static var descr: String { "<f8" } }
extension Int32: Npy.Element { public static var descr: String { "<i4" } }
extension UInt8: Npy.Element { public static var descr: String { "|u1" } }
/// int64: numpy's default integer (labels, membership indices); read by `ProvidedSignals` and the `npy` loader.
extension Int64: Npy.Element { public static var descr: String { "<i8" } }
