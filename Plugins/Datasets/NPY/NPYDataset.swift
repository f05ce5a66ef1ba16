import Foundation
import PluginKit

/// The `npy` dataset loader: a features array and a labels array, each a NumPy `.npy` file,
/// memory-mapped (PluginKit's `NpyMapping`, the project's one `.npy` codec).
///
/// Features: `[N, ...]` little-endian float32, float64 or uint8, C order; a record's features
/// are its trailing dimensions (`[N]` gives records of shape [1]), each value times `scale`,
/// as float32. Labels: `[N]` int32, int64 or uint8, each in [0, class_count). Everything is
/// checked at `open`, and an error names the file and the record: a shape that does not match,
/// a label out of range, a feature that is not finite (after scaling). The files stay mapped;
/// `read` converts only the records asked for. The host hashes both files' contents for the
/// run's provenance (they are `path` options).
final class NPYDataset: DatasetLoader {
    static let name = "npy"
    static let summary =
        "NumPy .npy arrays: features [N, ...] float32/float64/uint8 and labels [N] integers, memory-mapped"
    static let options: [OptionSpec] = [
        OptionSpec(
            "features", .path, required: true, "`.npy` file of features, [N, ...] float32, float64 or uint8, C order"),
        OptionSpec("labels", .path, required: true, "`.npy` file of labels, [N] int32, int64 or uint8"),
        OptionSpec(
            "scale", .float, default: "1.0", "factor applied to every feature (1/255 for uint8 pixels in [0, 1])"
        ).above(0),
        OptionSpec("class_count", .int, "number of classes; when absent, the largest label plus one").within(
            1...1_000_000),
        OptionSpec("limit", .int, default: "0", "use only the first `limit` records (0 means all)").atLeast(0),
    ]

    /// The features in place, in their file's element type.
    enum Features {
        case float32(UnsafeBufferPointer<Float>)
        case float64(UnsafeBufferPointer<Double>)
        case uint8(UnsafeBufferPointer<UInt8>)
    }

    let featuresPath: String
    /// Kept alive: `features` points into it.
    let mapping: NpyMapping
    let features: Features
    let scale: Float
    let featureShape: [Int]
    let featureSize: Int
    let recordCount: Int
    let classCount: Int
    let labels: [Int32]

    init(options: PluginOptions, host: HostServices) throws {
        let featuresPath = try options.string("features")
        self.featuresPath = featuresPath
        let labelsPath = try options.string("labels")
        let scale = options.has("scale") ? try options.double("scale") : 1
        let limit = options.has("limit") ? try options.int("limit") : 0
        guard scale.isFinite, scale > 0 else {
            throw PluginError(.invalidArgument, "option `scale` must be finite and > 0, got \(scale)")
        }
        guard limit >= 0 else {
            throw PluginError(.invalidArgument, "option `limit` must be 0 (all) or positive, got \(limit)")
        }
        self.scale = Float(scale)

        let mapping = try Self.map(featuresPath, what: "features")
        self.mapping = mapping
        let shape = mapping.header.shape
        guard shape.count >= 1 else {
            throw PluginError(
                .io, "the features file \(featuresPath) holds a scalar; it must be [N, ...], one row per record")
        }
        switch mapping.header.descr {
        case Float.descr: features = .float32(try Self.checked { try mapping.buffer(Float.self) })
        case Double.descr: features = .float64(try Self.checked { try mapping.buffer(Double.self) })
        case UInt8.descr: features = .uint8(try Self.checked { try mapping.buffer(UInt8.self) })
        default:
            throw PluginError(
                .io,
                "the features file \(featuresPath) holds '\(mapping.header.descr)'; expected float32 '<f4', float64 '<f8' or uint8 '|u1'"
            )
        }
        let featureShape = shape.count == 1 ? [1] : Array(shape.dropFirst())
        self.featureShape = featureShape
        featureSize = featureShape.reduce(1, *)
        guard featureShape.reduce(1, *) > 0 else {
            throw PluginError(
                .io, "the features file \(featuresPath) has records of shape \(featureShape), with no value")
        }

        let labelMapping = try Self.map(labelsPath, what: "labels")
        guard labelMapping.header.shape.count == 1 else {
            throw PluginError(
                .io,
                "the labels file \(labelsPath) has shape \(labelMapping.header.shape); expected [N], one label per record"
            )
        }
        let all: [Int64]
        switch labelMapping.header.descr {
        case Int32.descr: all = try Self.checked { try labelMapping.buffer(Int32.self) }.map(Int64.init)
        case Int64.descr: all = Array(try Self.checked { try labelMapping.buffer(Int64.self) })
        case UInt8.descr: all = try Self.checked { try labelMapping.buffer(UInt8.self) }.map(Int64.init)
        default:
            throw PluginError(
                .io,
                "the labels file \(labelsPath) holds '\(labelMapping.header.descr)'; expected int32 '<i4', int64 '<i8' or uint8 '|u1'"
            )
        }
        guard all.count == shape[0] else {
            throw PluginError(
                .io,
                "the features file \(featuresPath) holds \(shape[0]) records but the labels file \(labelsPath) holds \(all.count): they must match"
            )
        }
        let count = limit > 0 ? min(limit, all.count) : all.count
        recordCount = count
        if let bad = all.prefix(count).firstIndex(where: { $0 < 0 }) {
            throw PluginError(
                .io, "the labels file \(labelsPath) has label \(all[bad]) at record \(bad); labels must be >= 0")
        }
        let classes: Int
        if options.has("class_count") {
            classes = try options.int("class_count")
            guard classes >= 1 else {
                throw PluginError(.invalidArgument, "option `class_count` must be at least 1, got \(classes)")
            }
            if let bad = all.prefix(count).firstIndex(where: { $0 >= Int64(classes) }) {
                throw PluginError(
                    .io,
                    "the labels file \(labelsPath) has label \(all[bad]) at record \(bad), outside [0, \(classes)) set by option `class_count`"
                )
            }
        } else {
            let largest = all.prefix(count).max() ?? 0
            guard largest < Int64(Int32.max) else {
                throw PluginError(
                    .io, "the labels file \(labelsPath) has label \(largest); labels must fit a 32-bit class index")
            }
            classes = Int(largest) + 1
        }
        classCount = classes
        labels = all.prefix(count).map { Int32($0) }
        try checkFinite()
        mapping.releaseAll()
        host.log(.debug, "npy: \(count) records of shape \(featureShape) from \(featuresPath), \(classes) classes")
    }

    /// Maps `path`, naming the option in the error.
    static func map(_ path: String, what: String) throws -> NpyMapping {
        do { return try NpyMapping(path: path) } catch let e as NpyError {
            throw PluginError(.io, "the \(what) file \(e.description)")
        }
    }

    /// Turns an `NpyError` of a checked buffer (order, size, alignment) into a `PluginError`.
    static func checked<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as NpyError { throw PluginError(.io, e.description) }
    }

    /// Refuses a feature that is not finite once scaled, naming its record and position.
    private func checkFinite() throws {
        let n = recordCount * featureSize
        func bad(_ k: Int, _ value: String) -> PluginError {
            PluginError(
                .io,
                "the features file \(featuresPath) has a non-finite feature (\(value)) at record \(k / featureSize), "
                    + "value \(k % featureSize) of the record (flat index \(k))")
        }
        switch features {
        case .float32(let v):
            for k in 0..<n where !(v[k] * scale).isFinite { throw bad(k, "\(v[k]) times scale \(scale)") }
        case .float64(let v):
            for k in 0..<n where !Float(v[k] * Double(scale)).isFinite {
                throw bad(k, "\(v[k]) times scale \(scale), as float32")
            }
        case .uint8:
            // Bytes are at most 255: finite once scaled unless the scale itself overflows.
            if n > 0 && !(255 * scale).isFinite {
                throw PluginError(.invalidArgument, "option `scale` \(scale) makes uint8 features non-finite")
            }
        }
    }

    func info() throws -> DatasetInfo {
        DatasetInfo(recordCount: recordCount, classCount: classCount, featureShape: featureShape)
    }

    func read(
        start: Int, count: Int, features out: UnsafeMutableBufferPointer<Float>,
        labels outLabels: UnsafeMutableBufferPointer<Int32>
    ) throws {
        guard start >= 0, count >= 0, start <= recordCount - count else {
            throw PluginError(
                .invalidArgument,
                "read of records [\(start), \(start + count)) is outside the \(recordCount) records of \(featuresPath)")
        }
        guard out.count == count * featureSize, outLabels.count == count else {
            throw PluginError(
                .invalidArgument,
                "read of \(count) records needs \(count * featureSize) features and \(count) labels; got buffers of \(out.count) and \(outLabels.count)"
            )
        }
        let from = start * featureSize, n = count * featureSize
        switch features {
        case .float32(let v): for k in 0..<n { out[k] = v[from + k] * scale }
        case .float64(let v): for k in 0..<n { out[k] = Float(v[from + k] * Double(scale)) }
        case .uint8(let v): for k in 0..<n { out[k] = Float(v[from + k]) * scale }
        }
        for i in 0..<count { outLabels[i] = labels[start + i] }
    }
}
