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
/// checked when the dataset is opened (`CIFARFile`).
final class CIFARDataset: DatasetLoader {
    static let name = "cifar"
    static let summary = "CIFAR-10 / CIFAR-100 binary files (data_batch_N.bin, train.bin, test.bin): [3, 32, 32] images"
    static let options: [OptionSpec] = [
        OptionSpec("files", .stringList, required: true, "the binary files, read in this order"),
        OptionSpec(
            "variant", .string, default: "\"cifar10\"", choices: ["cifar10", "cifar100"],
            "the format: cifar10 or cifar100"),
        OptionSpec(
            "label", .string, default: "\"fine\"", choices: ["fine", "coarse"],
            "CIFAR-100 only: fine (100 classes) or coarse (20 superclasses) labels"),
        OptionSpec("scale", .float, default: "0.00392156862745098", "factor applied to each pixel byte (default 1/255)")
            .above(0),
        OptionSpec("limit", .int, default: "0", "use only the first N records; 0 uses all").atLeast(0),
    ]

    static let pixelCount = CIFARFormat.pixelCount

    /// The files in the order given (each checked when opened by `CIFARFile`), with the index
    /// of each one's first record.
    let parts: [(file: CIFARFile, first: Int)]
    let scale: Float
    let dataInfo: DatasetInfo

    init(options: PluginOptions, host: HostServices) throws {
        let files = try options.strings("files")
        guard !files.isEmpty else { throw PluginError(.invalidArgument, "option `files` names no file") }
        let format = try CIFARFormat(
            variant: options.has("variant") ? try options.string("variant") : "cifar10",
            label: options.has("label") ? try options.string("label") : "fine")
        scale = Float(options.has("scale") ? try options.double("scale") : 1.0 / 255)
        let limit = options.has("limit") ? try options.int("limit") : 0
        guard limit >= 0 else { throw PluginError(.invalidArgument, "option `limit` must be 0 or more") }

        var parts: [(file: CIFARFile, first: Int)] = []
        var total = 0
        for path in files {
            if limit > 0 && total >= limit { break }
            let file = try CIFARFile(path: path, format: format, limit: limit > 0 ? limit - total : 0)
            parts.append((file, total))
            total += file.count
        }
        self.parts = parts
        dataInfo = DatasetInfo(recordCount: total, classCount: format.classCount, featureShape: [3, 32, 32])
    }

    func info() throws -> DatasetInfo { dataInfo }

    func read(
        start: Int, count: Int, features: UnsafeMutableBufferPointer<Float>, labels: UnsafeMutableBufferPointer<Int32>
    ) throws {
        let n = Self.pixelCount
        guard start >= 0, count >= 0, start <= dataInfo.recordCount, count <= dataInfo.recordCount - start else {
            throw PluginError(
                .invalidArgument, "records [\(start), \(start + count)) are outside [0, \(dataInfo.recordCount))")
        }
        guard features.count >= count * n, labels.count >= count else {
            throw PluginError(.invalidArgument, "buffers too small for \(count) CIFAR records")
        }
        var done = 0
        for (file, first) in parts where first + file.count > start + done && done < count {
            let local = start + done - first
            let take = min(file.count - local, count - done)
            file.copy(first: local, take: take, scale: scale, into: features, labels: labels, at: done)
            done += take
        }
    }
}
