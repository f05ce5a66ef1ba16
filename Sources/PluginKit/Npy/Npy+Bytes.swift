import Foundation

/// `.npy` arrays held in memory rather than in a file: the arrays of the Python worker protocol
/// (Plugins/Models/Python), which travel as whole `.npy` files inside a message. The same header
/// writer and parser as the files of `Npy` and `NpyMapping`, so a hostile header is refused the
/// same way wherever it comes from.
extension Npy {
    /// A whole `.npy` file (format 1.0): the header for `descr` and `shape`, then the bytes of `raw`
    /// (the elements in row-major order, little-endian).
    public static func encode(_ raw: UnsafeRawBufferPointer, descr: String, shape: [Int]) -> [UInt8] {
        var out = headerBytes(descr: descr, shape: shape)
        out.append(contentsOf: raw)
        return out
    }

    /// Bytes per element of the element types the project reads, nil for any other.
    static func elementSize(_ descr: String) -> Int? {
        switch descr {
        case "<f4", "<i4": return 4
        case "<f8", "<i8": return 8
        case "|u1", "|b1": return 1
        default: return nil
        }
    }

    /// The header of the in-memory `.npy` file `bytes`, checked: C order, an element type the
    /// project reads, and after the header exactly the bytes its shape needs. `source` names the
    /// bytes in errors (it stands where a file's path would).
    public static func parse(_ bytes: UnsafeRawBufferPointer, source: String) throws -> Header {
        let header = try Header(bytes, path: source)
        guard !header.fortranOrder else { throw NpyError(path: source, message: "Fortran order is not supported") }
        guard let size = elementSize(header.descr) else {
            throw NpyError(
                path: source,
                message: "element type `\(header.descr)` is not supported (float32, float64, int32, int64 or uint8)")
        }
        // `Header` refuses a shape whose count times 8 bytes overflows, so this product cannot.
        let needed = header.count * size
        guard bytes.count - header.payloadOffset == needed else {
            throw NpyError(
                path: source,
                message:
                    "holds \(bytes.count - header.payloadOffset) bytes of data, shape \(header.shape) needs \(needed)")
        }
        return header
    }

    /// The values of the in-memory float array `bytes` (`<f4`, or `<f8` rounded to the nearest
    /// float) into `out`, which holds at least `header.count` elements; `header` is what
    /// `parse(_:source:)` returned for the same bytes.
    public static func floats(
        _ bytes: UnsafeRawBufferPointer, _ header: Header, into out: UnsafeMutableBufferPointer<Float>, source: String
    ) throws {
        precondition(out.count >= header.count, "Npy.floats: the output holds fewer elements than the array")
        let data = UnsafeRawBufferPointer(rebasing: bytes[header.payloadOffset...])
        switch header.descr {
        case "<f4":
            for i in 0..<header.count { out[i] = data.loadUnaligned(fromByteOffset: 4 * i, as: Float.self) }
        case "<f8":
            for i in 0..<header.count { out[i] = Float(data.loadUnaligned(fromByteOffset: 8 * i, as: Double.self)) }
        default:
            throw NpyError(path: source, message: "expected a float array, got element type `\(header.descr)`")
        }
    }
}
