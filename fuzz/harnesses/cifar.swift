import Foundation

/// CIFAR reader (Plugins/Datasets/CIFAR/CIFARFile.swift): the input is a binary file, opened as
/// CIFAR-10, CIFAR-100 fine and CIFAR-100 coarse, whole and limited to its first records; every
/// record of a file that opens is read back, and its labels must be within the classes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = InputFile.write(data, size)
    for (variant, label) in [("cifar10", "fine"), ("cifar100", "fine"), ("cifar100", "coarse")] {
        guard let format = try? CIFARFormat(variant: variant, label: label) else { preconditionFailure("format \(variant)") }
        for limit in [0, 1, 2] {
            guard let file = try? CIFARFile(path: path, format: format, limit: limit) else { continue }
            precondition(file.count > 0 && file.count * format.recordSize <= file.data.count && (limit == 0 || file.count <= limit))
            let n = CIFARFormat.pixelCount
            var features = [Float](repeating: -1, count: file.count * n)
            var labels = [Int32](repeating: -1, count: file.count)
            features.withUnsafeMutableBufferPointer { f in
                labels.withUnsafeMutableBufferPointer { l in
                    file.copy(first: 0, take: file.count, scale: 1, into: f, labels: l, at: 0)
                }
            }
            precondition(labels.allSatisfy { $0 >= 0 && Int($0) < format.classCount }, "a label outside the classes")
            precondition(features.allSatisfy { $0 >= 0 && $0 <= 255 }, "a pixel outside 0...255")
        }
    }
    return 0
}
