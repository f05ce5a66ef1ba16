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
        OptionSpec("images", .path, required: true, "IDX file of images, [count, rows, columns] unsigned bytes, gzipped or plain"),
        OptionSpec("labels", .path, required: true, "IDX file of labels, [count] unsigned bytes, gzipped or plain"),
        OptionSpec("scale", .float, default: "\(1.0 / 255.0)", "factor applied to each pixel byte (1/255 gives pixels in [0, 1])"),
        OptionSpec("class_count", .int, "number of classes; when absent, the largest label in the labels file plus one"),
        OptionSpec("limit", .int, default: "0", "use only the first `limit` records (0 means all)"),
    ]

    /// Where the Debian package `dataset-fashion-mnist` puts its files.
    static let fashionMNISTFolder = "/usr/share/datasets/fashion-mnist"

    let imagesPath: String
    let classCount: Int
    let rows: Int
    let columns: Int
    let recordCount: Int
    /// [recordCount, rows * columns] pixel bytes.
    let pixels: [UInt8]
    let labels: [Int32]
    /// `lookup[b]` is the feature value of pixel byte `b`.
    let lookup: [Float]

    init(options: PluginOptions, host: HostServices) throws {
        let imagesPath = try options.string("images")
        let labelsPath = try options.string("labels")
        let scale = options.has("scale") ? try options.double("scale") : 1.0 / 255.0
        let limit = options.has("limit") ? try options.int("limit") : 0
        guard scale.isFinite else { throw PluginError(.invalidArgument, "option `scale` must be finite, got \(scale)") }
        guard limit >= 0 else { throw PluginError(.invalidArgument, "option `limit` must be 0 (all) or positive, got \(limit)") }

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

        let count = limit > 0 ? min(limit, imageFile.recordCount) : imageFile.recordCount
        self.imagesPath = imagesPath
        self.classCount = classCount
        self.rows = imageFile.dimensions[1]
        self.columns = imageFile.dimensions[2]
        self.recordCount = count
        self.pixels = imageFile.bytes
        self.labels = labelFile.bytes.prefix(count).map { Int32($0) }
        self.lookup = (0..<256).map { Float(Double($0) * scale) }
        host.log(.debug, "idx: \(count) records of \(rows)x\(columns) from \(imagesPath), \(classCount) classes")
    }

    func info() throws -> DatasetInfo {
        DatasetInfo(recordCount: recordCount, classCount: classCount, featureShape: [1, rows, columns])
    }

    func read(
        start: Int, count: Int, features: UnsafeMutableBufferPointer<Float>, labels out: UnsafeMutableBufferPointer<Int32>
    ) throws {
        guard start >= 0, count >= 0, start <= recordCount - count else {
            throw PluginError(
                .invalidArgument, "read of records [\(start), \(start + count)) is outside the \(recordCount) records of \(imagesPath)")
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
                let base = start * size
                for i in 0..<(count * size) { features[i] = table[Int(src[base + i])] }
            }
        }
        for i in 0..<count { out[i] = labels[start + i] }
    }
}
