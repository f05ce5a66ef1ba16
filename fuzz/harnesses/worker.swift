import Foundation

/// Python worker protocol reader (Plugins/Models/Python/WorkerMessage.swift, NpyArray.swift):
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
        guard let layout = try? NpyArray.layout(npy), layout.count <= 1 << 20 else { continue }
        let out = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(layout.count, 1))
        defer { out.deallocate() }
        _ = try? NpyArray.floats(npy, layout, into: out)
    }
    return 0
}
