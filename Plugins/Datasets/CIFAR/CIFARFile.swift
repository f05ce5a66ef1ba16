import Foundation
import PluginKit

/// The CIFAR binary record layout of a variant: how many label bytes precede the pixels, which
/// of them is the class, and how many classes there are.
struct CIFARFormat: Sendable {
    let variant: String
    /// "fine" or "coarse" (CIFAR-100 only), for messages.
    let label: String
    let labelBytes: Int
    /// Which label byte is the class (0 for CIFAR-10 and CIFAR-100 coarse, 1 for fine).
    let labelOffset: Int
    let classCount: Int

    static let pixelCount = 3 * 32 * 32

    var recordSize: Int { labelBytes + Self.pixelCount }

    /// The format of `variant` ("cifar10", "cifar100") with `label` ("fine", "coarse").
    init(variant: String, label: String) throws {
        self.variant = variant
        self.label = label
        switch (variant, label) {
        case ("cifar10", _): (labelBytes, labelOffset, classCount) = (1, 0, 10)
        case ("cifar100", "fine"): (labelBytes, labelOffset, classCount) = (2, 1, 100)
        case ("cifar100", "coarse"): (labelBytes, labelOffset, classCount) = (2, 0, 20)
        case ("cifar100", _):
            throw PluginError(.invalidArgument, "option `label` must be fine or coarse, got `\(label)`")
        default: throw PluginError(.invalidArgument, "option `variant` must be cifar10 or cifar100, got `\(variant)`")
        }
    }
}

/// One CIFAR binary file, memory-mapped, with its size and the labels of the records used
/// checked when it is opened (so a foreign file fails at open rather than mid-run). The reader
/// the fuzz harness `fuzz/harnesses/cifar.swift` drives.
struct CIFARFile {
    let path: String
    let data: Data
    let format: CIFARFormat
    /// The records used: all of the file's, or the first `limit`.
    let count: Int

    /// Opens `path` and checks it; `limit` > 0 uses only its first `limit` records.
    init(path: String, format: CIFARFormat, limit: Int = 0) throws {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw PluginError(.io, "cannot read the CIFAR file `\(path)`: \(error.localizedDescription)")
        }
        try self.init(path: path, data: data, format: format, limit: limit)
    }

    /// Checks `data`, the bytes of the file at `path`.
    init(path: String, data: Data, format: CIFARFormat, limit: Int = 0) throws {
        let recordSize = format.recordSize
        guard !data.isEmpty, data.count % recordSize == 0 else {
            let other = format.variant == "cifar10" ? 2 + CIFARFormat.pixelCount : 1 + CIFARFormat.pixelCount
            let hint =
                data.count > 0 && data.count % other == 0
                ? " (its size fits the \(format.variant == "cifar10" ? "cifar100" : "cifar10") format: check `variant`)"
                : " (is it the binary version, not the Python or MATLAB one?)"
            throw PluginError(
                .invalidArgument,
                "`\(path)` is \(data.count) bytes, not a whole number of \(format.variant) records of \(recordSize) bytes"
                    + hint)
        }
        let count = limit > 0 ? min(data.count / recordSize, limit) : data.count / recordSize
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            for r in 0..<count {
                let value = Int(raw[r * recordSize + format.labelOffset])
                if value >= format.classCount {
                    throw PluginError(
                        .invalidArgument,
                        "`\(path)`: record \(r) has label \(value), but \(format.variant)\(format.variant == "cifar100" ? " \(format.label)" : "") has \(format.classCount) classes"
                    )
                }
            }
        }
        (self.path, self.data, self.format, self.count) = (path, data, format, count)
    }

    /// Copies records `first ..< first + take` (of those used) into `features` (`pixel * scale`,
    /// [3, 32, 32] per record) and `labels`, from index `at` of the output.
    func copy(
        first: Int, take: Int, scale: Float, into features: UnsafeMutableBufferPointer<Float>,
        labels: UnsafeMutableBufferPointer<Int32>, at: Int
    ) {
        precondition(first >= 0 && take >= 0 && first + take <= count, "records outside the file")
        let n = CIFARFormat.pixelCount
        precondition(features.count >= (at + take) * n && labels.count >= at + take, "buffers too small")
        let recordSize = format.recordSize
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            for r in 0..<take {
                let record = (first + r) * recordSize
                labels[at + r] = Int32(bytes[record + format.labelOffset])
                let out = (at + r) * n
                for i in 0..<n { features[out + i] = Float(bytes[record + format.labelBytes + i]) * scale }
            }
        }
    }
}
