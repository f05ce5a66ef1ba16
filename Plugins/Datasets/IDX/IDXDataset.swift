import PluginKit

/// The `idx` dataset loader: images and labels from a pair of MNIST-family IDX files.
///
/// Records are images: features [1, rows, columns] f32, each pixel `Float(byte * scale)`
/// (`scale` defaults to 1/255, giving pixels in [0, 1]); labels i32 in [0, class_count).
/// Both files are read whole at `open` (or their first `limit` records), gzipped or plain,
/// and checked: the magic, the element type (unsigned bytes), the number of dimensions, that
/// the data is all there, and that both files hold the same number of records.
final class IDXDataset: DatasetLoader {
    static let name = "idx"
    static let summary = "MNIST-family IDX image and label files, gzipped or plain (Fashion-MNIST, MNIST, KMNIST)"
    static let options: [OptionSpec] = [
        OptionSpec(
            "images", .path, required: true,
            "IDX file of images, [count, rows, columns] unsigned bytes, gzipped or plain"),
        OptionSpec("labels", .path, required: true, "IDX file of labels, [count] unsigned bytes, gzipped or plain"),
        OptionSpec(
            "scale", .float, default: "\(1.0 / 255.0)",
            "factor applied to each pixel byte (1/255 gives pixels in [0, 1])"
        ).above(0),
        OptionSpec("class_count", .int, "number of classes; when absent, the largest label in the labels file plus one")
            .within(1...256),
        OptionSpec("limit", .int, default: "0", "use only the first `limit` records of the files (0 means all)")
            .atLeast(0),
        OptionSpec(
            "classes", .intList, default: "[]",
            "keep only records of these classes, in file order, relabelled 0, 1, ... in the order listed (empty: all classes)"
        ).within(0...255),
    ]

    /// Where the Debian package `dataset-fashion-mnist` puts its files.
    static let fashionMNISTFolder = "/usr/share/datasets/fashion-mnist"

    let imagesPath: String
    let classCount: Int
    let rows: Int
    let columns: Int
    let recordCount: Int
    /// [file records, rows * columns] pixel bytes.
    let pixels: [UInt8]
    /// The file record behind each record (all of them, or those of the kept classes).
    let rowOf: [Int]
    let labels: [Int32]
    /// `lookup[b]` is the feature value of pixel byte `b`.
    let lookup: [Float]

    init(options: PluginOptions, host: HostServices) throws {
        let imagesPath = try options.string("images")
        let labelsPath = try options.string("labels")
        let scale = options.has("scale") ? try options.double("scale") : 1.0 / 255.0
        let limit = options.has("limit") ? try options.int("limit") : 0
        guard scale.isFinite else { throw PluginError(.invalidArgument, "option `scale` must be finite, got \(scale)") }
        guard limit >= 0 else {
            throw PluginError(.invalidArgument, "option `limit` must be 0 (all) or positive, got \(limit)")
        }

        // The labels file is small: read it whole, so that the class count does not depend on `limit`.
        let labelFile = try IDXFile(path: labelsPath, what: "labels", expectedDimensions: 1)
        let imageFile = try IDXFile(
            path: imagesPath, what: "images", expectedDimensions: 3, records: limit > 0 ? limit : nil)
        guard imageFile.recordCount == labelFile.recordCount else {
            throw PluginError(
                .io,
                "the images file \(imagesPath) holds \(imageFile.recordCount) records but the labels file "
                    + "\(labelsPath) holds \(labelFile.recordCount): they must be a matching pair")
        }
        let largest = Int(labelFile.bytes.max() ?? 0)
        let classCount: Int
        if options.has("class_count") {
            classCount = try options.int("class_count")
            guard classCount >= 1 else {
                throw PluginError(.invalidArgument, "option `class_count` must be at least 1, got \(classCount)")
            }
            if let bad = labelFile.bytes.firstIndex(where: { Int($0) >= classCount }) {
                throw PluginError(
                    .io,
                    "the labels file \(labelsPath) has label \(labelFile.bytes[bad]) at record \(bad), "
                        + "outside [0, \(classCount)) set by option `class_count`")
            }
        } else {
            classCount = largest + 1
        }

        let fileCount = limit > 0 ? min(limit, imageFile.recordCount) : imageFile.recordCount
        let kept = options.has("classes") ? try options.ints("classes") : []
        var rowOf = Array(0..<fileCount)
        var labels = labelFile.bytes.prefix(fileCount).map { Int32($0) }
        var finalClassCount = classCount
        if !kept.isEmpty {
            guard Set(kept).count == kept.count, kept.allSatisfy({ $0 >= 0 && $0 < classCount }) else {
                throw PluginError(
                    .invalidArgument, "option `classes` must list distinct classes in [0, \(classCount)), got \(kept)")
            }
            var newLabel = [Int32](repeating: -1, count: classCount)
            for (i, c) in kept.enumerated() { newLabel[c] = Int32(i) }
            rowOf = rowOf.filter { newLabel[Int(labels[$0])] >= 0 }
            labels = rowOf.map { newLabel[Int(labelFile.bytes[$0])] }
            finalClassCount = kept.count
        }
        self.imagesPath = imagesPath
        self.classCount = finalClassCount
        self.rows = imageFile.dimensions[1]
        self.columns = imageFile.dimensions[2]
        self.recordCount = rowOf.count
        self.pixels = imageFile.bytes
        self.rowOf = rowOf
        self.labels = labels
        let count = rowOf.count
        self.lookup = (0..<256).map { Float(Double($0) * scale) }
        host.log(.debug, "idx: \(count) records of \(rows)x\(columns) from \(imagesPath), \(finalClassCount) classes")
    }

    func info() throws -> DatasetInfo {
        DatasetInfo(recordCount: recordCount, classCount: classCount, featureShape: [1, rows, columns])
    }

    func read(
        start: Int, count: Int, features: UnsafeMutableBufferPointer<Float>,
        labels out: UnsafeMutableBufferPointer<Int32>
    ) throws {
        guard start >= 0, count >= 0, start <= recordCount - count else {
            throw PluginError(
                .invalidArgument,
                "read of records [\(start), \(start + count)) is outside the \(recordCount) records of \(imagesPath)")
        }
        let size = rows * columns
        guard features.count == count * size, out.count == count else {
            throw PluginError(
                .invalidArgument,
                "read of \(count) records needs \(count * size) features and \(count) labels; got buffers of "
                    + "\(features.count) and \(out.count)")
        }
        lookup.withUnsafeBufferPointer { table in
            pixels.withUnsafeBufferPointer { src in
                for r in 0..<count {
                    let from = rowOf[start + r] * size, to = r * size
                    for i in 0..<size { features[to + i] = table[Int(src[from + i])] }
                }
            }
        }
        for i in 0..<count { out[i] = labels[start + i] }
    }
}
