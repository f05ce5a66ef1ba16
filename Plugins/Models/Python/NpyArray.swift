import Foundation

/// The `.npy` files arrays travel in between the plugin and its worker (format 1.0 written;
/// 1.0, 2.0 and 3.0 read), little-endian, C order.
enum NpyArray {
    /// A complete `.npy` file holding `count` elements of `descr` (`<f4`, `<i4`) with `shape`,
    /// copied from `raw`.
    static func encode(_ raw: UnsafeRawBufferPointer, descr: String, shape: [Int]) -> [UInt8] {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out: [UInt8] = []
        out.reserveCapacity(10 + header.utf8.count + raw.count)
        out += [0x93] + Array("NUMPY".utf8) + [1, 0]
        let length = UInt16(header.utf8.count)
        out += [UInt8(length & 0xFF), UInt8(length >> 8)]
        out += Array(header.utf8)
        out += raw
        return out
    }

    /// What a `.npy` file holds: element type, shape, and where the data starts.
    struct Layout: Equatable {
        var descr: String
        var shape: [Int]
        var dataOffset: Int
        var count: Int { shape.reduce(1, *) }
    }

    /// Reads the header of the `.npy` file `bytes`; checks that the data that follows has exactly
    /// the size the header announces.
    static func layout(_ bytes: ArraySlice<UInt8>) throws -> Layout {
        let b = bytes.startIndex
        guard bytes.count >= 10, bytes[b] == 0x93, Array(bytes[(b + 1)..<(b + 6)]) == Array("NUMPY".utf8) else {
            throw NpyError("not a .npy array (bad magic)")
        }
        let major = bytes[b + 6]
        let headerLength: Int
        let start: Int
        switch major {
        case 1:
            headerLength = Int(bytes[b + 8]) | Int(bytes[b + 9]) << 8
            start = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw NpyError("truncated .npy header") }
            headerLength = (0..<4).reduce(0) { $0 | Int(bytes[b + 8 + $1]) << (8 * $1) }
            start = 12
        default:
            throw NpyError(".npy format version \(major) is not supported")
        }
        guard bytes.count >= start + headerLength else { throw NpyError("truncated .npy header") }
        let header = String(decoding: bytes[(b + start)..<(b + start + headerLength)], as: UTF8.self)
        guard let descr = quoted(after: "'descr':", in: header) else {
            throw NpyError("no dtype in .npy header: \(header)")
        }
        guard header.contains("'fortran_order': False") else {
            throw NpyError("a Fortran-order array is not supported")
        }
        guard let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")")
        else {
            throw NpyError("no shape in .npy header: \(header)")
        }
        var shape: [Int] = []
        for part in header[open.upperBound..<close].split(separator: ",") {
            let text = part.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            guard let d = Int(text), d >= 0 else { throw NpyError("bad shape in .npy header: \(header)") }
            shape.append(d)
        }
        let size: Int
        switch descr {
        case "<f4", "<i4": size = 4
        case "<f8", "<i8": size = 8
        default: throw NpyError("dtype `\(descr)` is not supported (float32, float64, int32 or int64 only)")
        }
        let layout = Layout(descr: descr, shape: shape, dataOffset: start + headerLength)
        // The element count itself can overflow (reproduced with fuzz/harnesses/worker.swift): the
        // product is taken with the element size, checked at each step.
        var payload = size, overflow = false
        for d in shape where !overflow { (payload, overflow) = payload.multipliedReportingOverflow(by: d) }
        guard !overflow, bytes.count - layout.dataOffset == payload else {
            throw NpyError(
                "the .npy array of shape \(shape) holds \(bytes.count - layout.dataOffset) bytes of data, not \(payload)"
            )
        }
        return layout
    }

    /// The float values of a `<f4` or `<f8` array.
    static func floats(_ bytes: ArraySlice<UInt8>, _ layout: Layout, into out: UnsafeMutableBufferPointer<Float>) throws
    {
        precondition(out.count >= layout.count)
        bytes.withUnsafeBytes { raw in
            let data = UnsafeRawBufferPointer(rebasing: raw[layout.dataOffset...])
            switch layout.descr {
            case "<f4":
                for i in 0..<layout.count { out[i] = data.loadUnaligned(fromByteOffset: 4 * i, as: Float.self) }
            case "<f8":
                for i in 0..<layout.count { out[i] = Float(data.loadUnaligned(fromByteOffset: 8 * i, as: Double.self)) }
            default:
                break
            }
        }
        guard layout.descr == "<f4" || layout.descr == "<f8" else {
            throw NpyError("expected a float array, got dtype `\(layout.descr)`")
        }
    }

    private static func quoted(after key: String, in header: String) -> String? {
        guard let k = header.range(of: key) else { return nil }
        let rest = header[k.upperBound...].drop { $0 == " " }
        guard let q = rest.first, q == "'" || q == "\"" else { return nil }
        let body = rest.dropFirst()
        guard let end = body.firstIndex(of: q) else { return nil }
        return String(body[..<end])
    }
}

/// A `.npy` array that cannot be read.
struct NpyError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
