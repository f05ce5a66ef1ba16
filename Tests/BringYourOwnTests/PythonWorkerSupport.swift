import Foundation
import PluginKit

@testable import ModelPython

/// Paths of the repository's Python side, found from this file's location.
enum Repository {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let python = root + "/python"
    static let examples = python + "/examples"
}

/// A `python` model backend over `module`, with the repository's `python` folder on PYTHONPATH.
func pythonModel(
    module: String, spec: ModelSpec, workerOptions: String = "{}", timeout: Double = 60,
    extra: [String: OptionValue] = [:]
) throws -> PythonModel {
    try PythonModel(
        options: PluginOptions(
            [
                "module": .string(module), "python_path": .list([.string(Repository.python)]),
                "worker_options": .string(workerOptions), "timeout_seconds": .double(timeout),
            ].merging(extra) { $1 }),
        spec: spec, host: .standalone)
}

/// A small seeded dataset: `n` records of `d` features, class `i % k`, the class mean shifted
/// so the classes are separable.
func syntheticRecords(n: Int, d: Int, k: Int, seed: UInt64) -> (features: [Float], labels: [Int32]) {
    var state = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    func uniform() -> Float {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Float(state >> 40) / Float(1 << 24)
    }
    var features = [Float](repeating: 0, count: n * d)
    var labels = [Int32](repeating: 0, count: n)
    for i in 0..<n {
        labels[i] = Int32(i % k)
        for j in 0..<d { features[i * d + j] = uniform() - 0.5 + (j % k == i % k ? 1 : 0) }
    }
    return (features, labels)
}

extension PythonModel {
    /// Trains on arrays; returns the reported history.
    @discardableResult
    func train(features: [Float], labels: [Int32], seed: UInt64) throws -> [EpochRecord] {
        var history: [EpochRecord] = []
        try features.withUnsafeBufferPointer { f in
            try labels.withUnsafeBufferPointer { l in
                try train(TrainingData(features: f, labels: l, seed: seed)) { history.append($0) }
            }
        }
        return history
    }

    /// Logits of `count` records.
    func predict(_ features: [Float], count: Int) throws -> [Float] {
        var out = [Float](repeating: .nan, count: count * spec.classCount)
        try features.withUnsafeBufferPointer { f in
            try out.withUnsafeMutableBufferPointer { try predict(features: f, count: count, into: $0) }
        }
        return out
    }
}
