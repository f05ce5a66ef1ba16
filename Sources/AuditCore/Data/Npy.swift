import Foundation

/// NumPy `.npy` files (format 1.0): the machine-readable arrays of a run (`signals/`, `scores/`).
///
/// Only what the project writes: little-endian `<f4`, `<f8`, `<i4`, `|u1`, C order.
public enum Npy {
    public protocol Element { static var descr: String { get } }

    /// Writes `values` with `shape` to `path` atomically (temporary file, then rename).
    public static func write<T: Element>(_ values: [T], shape: [Int], to path: String) throws {
        precondition(shape.reduce(1, *) == values.count, "npy shape does not match the element count")
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(T.descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let len = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(len & 0xFF), UInt8(len >> 8)])
        data.append(contentsOf: Array(header.utf8))
        values.withUnsafeBytes { data.append(contentsOf: $0) }
        try AtomicFile.write(data, to: path)
    }

    /// Reads an array written by `write`; checks the type, the order and the size.
    public static func read<T: Element>(_ type: T.Type, from path: String, accepting descrs: [String]? = nil) throws -> (values: [T], shape: [Int]) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw NpyError(path: path, message: "cannot read the file")
        }
        let bytes = [UInt8](data)
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else {
            throw NpyError(path: path, message: "not a .npy file (bad magic)")
        }
        let major = bytes[6]
        let headerLength: Int, start: Int
        if major == 1 {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            start = 10
        } else {
            guard bytes.count >= 12 else { throw NpyError(path: path, message: "truncated header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            start = 12
        }
        guard bytes.count >= start + headerLength else { throw NpyError(path: path, message: "truncated header") }
        let header = String(decoding: bytes[start..<(start + headerLength)], as: UTF8.self)
        guard (descrs ?? [T.descr]).contains(where: { header.contains("'descr': '\($0)'") }) else {
            throw NpyError(path: path, message: "element type is not \(T.descr): \(header.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        guard header.contains("'fortran_order': False") else { throw NpyError(path: path, message: "Fortran order is not supported") }
        guard let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else {
            throw NpyError(path: path, message: "no shape in header")
        }
        let shape = header[open.upperBound..<close].split(separator: ",").compactMap {
            Int($0.trimmingCharacters(in: .whitespaces))
        }
        let count = shape.reduce(1, *)
        let payload = start + headerLength
        guard bytes.count - payload == count * MemoryLayout<T>.stride else {
            throw NpyError(path: path, message: "holds \(bytes.count - payload) bytes of data, shape \(shape) needs \(count * MemoryLayout<T>.stride)")
        }
        let values = bytes[payload...].withUnsafeBytes { raw in Array(raw.bindMemory(to: T.self)) }
        return (values, shape)
    }
}

public struct NpyError: Error, CustomStringConvertible {
    public var path: String
    public var message: String
    public var description: String { "\(path): \(message)" }
}

extension Float: Npy.Element { public static var descr: String { "<f4" } }
extension Double: Npy.Element { public static var descr: String { "<f8" } }
extension Int32: Npy.Element { public static var descr: String { "<i4" } }
extension UInt8: Npy.Element { public static var descr: String { "|u1" } }

/// Writes files so that a reader never sees half of one: a temporary file in the same folder,
/// flushed, then renamed into place.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let tmp = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard FileManager.default.createFile(atPath: tmp, contents: data) else {
            throw NpyError(path: tmp, message: "cannot create the file")
        }
        let fd = open(tmp, O_RDONLY)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
        guard rename(tmp, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(tmp)
            throw NpyError(path: path, message: "cannot rename into place: \(reason)")
        }
    }

    public static func write(_ text: String, to path: String) throws { try write(Data(text.utf8), to: path) }
}
