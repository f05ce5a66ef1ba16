import Foundation

/// NPY reader (Sources/PluginKit/Npy/Npy.swift, NpyMapping.swift): the input is a `.npy`
/// file; it is mapped, its header parsed, and for each element type the reader accepts, the
/// checked array is read to its last element (ASan catches a read past the mapping).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = InputFile.write(data, size)
    guard let mapping = try? NpyMapping(path: path) else { return 0 }
    _ = mapping.header.count
    if let b = try? mapping.buffer(Float.self) { _ = b.reduce(0, +) }
    if let b = try? mapping.buffer(Double.self) { _ = b.reduce(0, +) }
    if let b = try? mapping.buffer(Int32.self) { _ = b.reduce(0, &+) }
    if let b = try? mapping.buffer(UInt8.self) { _ = b.reduce(0, &+) }
    if let a = try? SignalArray.mapping(path) {
        a.forEachBlock(blockBytes: 64, rowLength: 1) { _ = $0.reduce(0, +) }
    }
    return 0
}
