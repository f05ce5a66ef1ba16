import Foundation
import PluginKit

/// CIFAR-10 and CIFAR-100 in their binary formats, from the files a user downloaded.
///
/// A file is a sequence of records: CIFAR-10 has 1 label byte then 3,072 pixel bytes; CIFAR-100
/// has 2 label bytes (coarse, then fine) then 3,072 pixel bytes. The pixels are the red, green
/// and blue 32x32 planes, each row-major, which is exactly the `[3, 32, 32]` (channels, height,
/// width) layout of a record's features. A feature is `pixel * scale`.
///
/// Files are memory-mapped and read in the order given; every file's size and every label are
/// checked when the dataset is opened.
final class CIFARDataset: DatasetLoader {
    static let name = "cifar"
    static let summary = "CIFAR-10 / CIFAR-100 binary files (data_batch_N.bin, train.bin, test.bin): [3, 32, 32] images"
    static let options: [OptionSpec] = [
        OptionSpec("files", .stringList, required: true, "the binary files, read in this order"),
        OptionSpec(
            "variant", .string, default: "\"cifar10\"", choices: ["cifar10", "cifar100"], "the format: cifar10 or cifar100"),
        OptionSpec(
            "label", .string, default: "\"fine\"", choices: ["fine", "coarse"],
            "CIFAR-100 only: fine (100 classes) or coarse (20 superclasses) labels"),
        OptionSpec("scale", .float, default: "0.00392156862745098", "factor applied to each pixel byte (default 1/255)").above(0),
        OptionSpec("limit", .int, default: "0", "use only the first N records; 0 uses all").atLeast(0),
    ]

    static let pixelCount = 3 * 32 * 32

    /// One file: its mapped bytes and the index of its first record.
    struct Part {
        let path: String
        let data: Data
        let first: Int
        let count: Int
    }

    let parts: [Part]
    let labelBytes: Int
    /// Which label byte is the class (0 for CIFAR-10 and CIFAR-100 coarse, 1 for fine).
    let labelOffset: Int
    let scale: Float
    let dataInfo: DatasetInfo

    init(options: PluginOptions, host: HostServices) throws {
        let files = try options.strings("files")
        guard !files.isEmpty else { throw PluginError(.invalidArgument, "option `files` names no file") }
        let variant = options.has("variant") ? try options.string("variant") : "cifar10"
        let label = options.has("label") ? try options.string("label") : "fine"
        let classCount: Int
        switch (variant, label) {
        case ("cifar10", _):
            (labelBytes, labelOffset, classCount) = (1, 0, 10)
        case ("cifar100", "fine"):
            (labelBytes, labelOffset, classCount) = (2, 1, 100)
        case ("cifar100", "coarse"):
            (labelBytes, labelOffset, classCount) = (2, 0, 20)
        case ("cifar100", _):
            throw PluginError(.invalidArgument, "option `label` must be fine or coarse, got `\(label)`")
        default:
            throw PluginError(.invalidArgument, "option `variant` must be cifar10 or cifar100, got `\(variant)`")
        }
        scale = Float(options.has("scale") ? try options.double("scale") : 1.0 / 255)
        let limit = options.has("limit") ? try options.int("limit") : 0
        guard limit >= 0 else { throw PluginError(.invalidArgument, "option `limit` must be 0 or more") }

        let recordSize = labelBytes + Self.pixelCount
        let labelOffset = self.labelOffset
        var parts: [Part] = []
        var total = 0
        for path in files {
            if limit > 0 && total >= limit { break }
            let data: Data
            do {
                data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
            } catch {
                throw PluginError(.io, "cannot read the CIFAR file `\(path)`: \(error.localizedDescription)")
            }
            guard !data.isEmpty, data.count % recordSize == 0 else {
                let other = variant == "cifar10" ? 2 + Self.pixelCount : 1 + Self.pixelCount
                let hint =
                    data.count > 0 && data.count % other == 0
                    ? " (its size fits the \(variant == "cifar10" ? "cifar100" : "cifar10") format: check `variant`)"
                    : " (is it the binary version, not the Python or MATLAB one?)"
                throw PluginError(
                    .invalidArgument,
                    "`\(path)` is \(data.count) bytes, not a whole number of \(variant) records of \(recordSize) bytes" + hint)
            }
            var count = data.count / recordSize
            if limit > 0 { count = min(count, limit - total) }
            // Check every label now, so a foreign file fails at open rather than mid-run.
            try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                for r in 0..<count {
                    let value = Int(raw[r * recordSize + labelOffset])
                    if value >= classCount {
                        throw PluginError(
                            .invalidArgument,
                            "`\(path)`: record \(r) has label \(value), but \(variant)\(variant == "cifar100" ? " \(label)" : "") has \(classCount) classes"
                        )
                    }
                }
            }
            parts.append(Part(path: path, data: data, first: total, count: count))
            total += count
        }
        self.parts = parts
        dataInfo = DatasetInfo(recordCount: total, classCount: classCount, featureShape: [3, 32, 32])
    }

    func info() throws -> DatasetInfo { dataInfo }

    func read(
        start: Int, count: Int, features: UnsafeMutableBufferPointer<Float>, labels: UnsafeMutableBufferPointer<Int32>
    ) throws {
        let n = Self.pixelCount
        guard start >= 0, count >= 0, start + count <= dataInfo.recordCount else {
            throw PluginError(.invalidArgument, "records [\(start), \(start + count)) are outside [0, \(dataInfo.recordCount))")
        }
        guard features.count >= count * n, labels.count >= count else {
            throw PluginError(.invalidArgument, "buffers too small for \(count) CIFAR records")
        }
        let recordSize = labelBytes + n
        var done = 0
        for part in parts where part.first + part.count > start + done && done < count {
            let local = start + done - part.first
            let take = min(part.count - local, count - done)
            part.data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                let bytes = raw.bindMemory(to: UInt8.self)
                for r in 0..<take {
                    let record = (local + r) * recordSize
                    labels[done + r] = Int32(bytes[record + labelOffset])
                    let out = (done + r) * n
                    for i in 0..<n { features[out + i] = Float(bytes[record + labelBytes + i]) * scale }
                }
            }
            done += take
        }
    }
}
