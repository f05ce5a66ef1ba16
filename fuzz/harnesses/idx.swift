import Foundation

/// IDX reader (Plugins/Datasets/IDX/IDXFile.swift): the input is an images file (3
/// dimensions) and a labels file (1 dimension), gzipped or plain; read whole and by prefix.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = InputFile.write(data, size)
    for dims in [3, 1] {
        if let f = try? IDXFile(path: path, what: "images", expectedDimensions: dims) {
            precondition(f.bytes.count == f.recordCount * f.dimensions.dropFirst().reduce(1, *))
        }
        _ = try? IDXFile(path: path, what: "images", expectedDimensions: dims, records: 2)
    }
    return 0
}
