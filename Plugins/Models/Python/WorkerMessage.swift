import Foundation

/// One message of the worker protocol (python/PROTOCOL.md): a JSON header on one line, then the
/// arrays it names, each an 8-byte little-endian length followed by a `.npy` file.
struct WorkerMessage {
    /// The header, one JSON object without a line break.
    var header: String
    /// The arrays in the order the header's `arrays` lists them: `.npy` files.
    var arrays: [(name: String, npy: [UInt8])] = []

    /// A request: `{"op": op, ...fields, "arrays": [...]}`. `fields` values are JSON texts.
    static func request(_ op: String, _ fields: [(String, String)] = [], arrays: [(name: String, npy: [UInt8])] = [])
        -> WorkerMessage
    {
        var parts = ["\"op\":\(jsonString(op))"] + fields.map { "\(jsonString($0.0)):\($0.1)" }
        if !arrays.isEmpty {
            parts.append("\"arrays\":[" + arrays.map { jsonString($0.name) }.joined(separator: ",") + "]")
        }
        return WorkerMessage(header: "{" + parts.joined(separator: ",") + "}", arrays: arrays)
    }

    /// The bytes on the wire, as segments sent one after the other (the arrays are not copied
    /// into one buffer: a request of a few hundred megabytes is held once, not twice).
    func segments() -> [[UInt8]] {
        var out: [[UInt8]] = [Array(header.utf8) + [UInt8(ascii: "\n")]]
        for array in arrays {
            let n = UInt64(array.npy.count)
            out.append((0..<8).map { UInt8(truncatingIfNeeded: n >> (8 * UInt64($0))) })
            out.append(array.npy)
        }
        return out
    }
}

/// `s` as a JSON string literal.
func jsonString(_ s: String) -> String {
    let data = (try? JSONEncoder().encode(s)) ?? Data("\"\"".utf8)
    return String(decoding: data, as: UTF8.self)
}

/// The header fields of a worker's answer that the plugin reads.
struct WorkerAnswer: Decodable {
    var ok: Bool
    var error: String?
    var traceback: String?
    var `protocol`: Int?
    var worker: String?
    var arrays: [String]?
    var history: [Epoch]?

    struct Epoch: Decodable {
        var epoch: Int?
        var trainLoss: Double?
        var trainAccuracy: Double?
        var heldoutLoss: Double?
        var heldoutAccuracy: Double?
        var seconds: Double?
    }
}

/// Assembles one answer from bytes as they arrive.
struct AnswerParser {
    /// The longest header line accepted.
    static let maxHeaderBytes = 1 << 20
    /// The largest array accepted (1 TiB: a sanity bound against a garbage length).
    static let maxArrayBytes: UInt64 = 1 << 40

    private(set) var buffer: [UInt8] = []
    private var scanned = 0
    private var headerEnd: Int?
    private var answer: WorkerAnswer?

    /// What the worker sent so far, for messages (the first bytes, as text).
    var preview: String {
        let text = String(decoding: buffer.prefix(200), as: UTF8.self)
        return text.replacingOccurrences(of: "\n", with: "\\n")
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) { buffer += bytes }

    /// The complete answer and its arrays, nil while incomplete; throws when the bytes cannot
    /// be an answer.
    mutating func complete() throws -> (WorkerAnswer, [(name: String, npy: ArraySlice<UInt8>)])? {
        guard !buffer.isEmpty else { return nil }
        guard buffer[0] == UInt8(ascii: "{") else {
            throw ProtocolViolation("it wrote `\(preview)` where an answer's JSON header belongs")
        }
        if headerEnd == nil {
            guard let nl = buffer[scanned...].firstIndex(of: UInt8(ascii: "\n")) else {
                scanned = buffer.count
                if buffer.count > Self.maxHeaderBytes {
                    throw ProtocolViolation("its header line is longer than 1 MiB")
                }
                return nil
            }
            headerEnd = nl
            do {
                let decoder = JSONDecoder()
                decoder.keyDecodingStrategy = .convertFromSnakeCase
                answer = try decoder.decode(WorkerAnswer.self, from: Data(buffer[..<nl]))
            } catch {
                throw ProtocolViolation("its header is not an answer: `\(preview)`")
            }
        }
        guard let headerEnd, let answer else { return nil }
        var arrays: [(name: String, npy: ArraySlice<UInt8>)] = []
        var p = headerEnd + 1
        for name in answer.arrays ?? [] {
            guard buffer.count >= p + 8 else { return nil }
            let length = (0..<8).reduce(UInt64(0)) { $0 | UInt64(buffer[p + $1]) << (8 * UInt64($1)) }
            guard length <= Self.maxArrayBytes else {
                throw ProtocolViolation("array `\(name)` claims \(length) bytes")
            }
            p += 8
            guard buffer.count >= p + Int(length) else { return nil }
            arrays.append((name, buffer[p..<(p + Int(length))]))
            p += Int(length)
        }
        guard buffer.count == p else {
            throw ProtocolViolation("it wrote \(buffer.count - p) bytes after its answer")
        }
        return (answer, arrays)
    }
}

/// A worker's bytes that do not follow the protocol.
struct ProtocolViolation: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
