import Foundation

/// Python worker protocol reader (Plugins/Models/Python/WorkerMessage.swift; the arrays through
/// PluginKit's Npy+Bytes.swift):
/// the input is what a worker writes back (a JSON header line, then length-prefixed `.npy`
/// arrays), fed to `AnswerParser` in two pieces; each array of a complete answer is parsed
/// and, when it is a float array, decoded.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let all = UnsafeRawBufferPointer(start: data, count: size)
    var parser = AnswerParser()
    let cut = size / 2
    parser.append(UnsafeRawBufferPointer(rebasing: all[..<cut]))
    if (try? parser.complete()) == nil {
        parser.append(UnsafeRawBufferPointer(rebasing: all[cut...]))
    }
    guard let (_, arrays) = try? parser.complete() ?? nil else { return 0 }
    for (_, npy) in arrays {
        npy.withUnsafeBytes { raw in
            guard let header = try? Npy.parse(raw, source: "fuzz"), header.count <= 1 << 20 else { return }
            let out = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(header.count, 1))
            defer { out.deallocate() }
            _ = try? Npy.floats(raw, header, into: out, source: "fuzz")
        }
    }
    return 0
}
