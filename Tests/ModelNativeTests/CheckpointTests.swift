import Foundation
import Kernels
import PluginKit
import Testing

@testable import ModelNative

/// Trains on `x`, `y` with held-out `hx`, `hy`; returns the history.
func train(_ model: NativeModel, _ x: [Float], _ y: [Int32], _ hx: [Float], _ hy: [Int32], seed: UInt64) throws
    -> [EpochRecord]
{
    var history: [EpochRecord] = []
    try x.withUnsafeBufferPointer { xp in
        try y.withUnsafeBufferPointer { yp in
            try hx.withUnsafeBufferPointer { hxp in
                try hy.withUnsafeBufferPointer { hyp in
                    try model.train(
                        TrainingData(features: xp, labels: yp, heldoutFeatures: hxp, heldoutLabels: hyp, seed: seed)
                    ) {
                        history.append($0)
                    }
                }
            }
        }
    }
    return history
}

/// Mean cross-entropy of a model's logits, computed here anew.
func meanLoss(_ logits: [Float], _ y: [Int32], classes: Int) -> Double {
    var total = 0.0
    for (i, label) in y.enumerated() {
        let row = (0..<classes).map { Double(logits[i * classes + $0]) }
        let top = row.max()!
        total += top + log(row.map { exp($0 - top) }.reduce(0, +)) - row[Int(label)]
    }
    return total / Double(y.count)
}

@Test func checkpointsHoldTheWeightsOfTheirEpoch() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("native-checkpoints-\(UUID())").path
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let (x, y) = syntheticData(count: 80, features: 12, seed: 8)
    var options: [String: OptionValue] = [
        "architecture": .string("mlp"), "hidden_sizes": .list([.int(16)]), "epochs": .int(4), "batch_size": .int(16),
        "checkpoint_epochs": .list([.int(2), .int(4)]), "checkpoint_folder": .string(folder),
    ]
    let full = try makeModel(options, shape: [12])
    _ = try train(full, x, y, x, y, seed: 3)
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == ["epoch-2.bin", "epoch-4.bin"])
    // The epoch-2 checkpoint equals a model trained for exactly 2 epochs with the same seed.
    options["epochs"] = .int(2)
    options["checkpoint_epochs"] = .list([])
    let short = try makeModel(options, shape: [12])
    _ = try train(short, x, y, x, y, seed: 3)
    let restored = try makeModel(options, shape: [12])
    try restored.load(from: folder + "/epoch-2.bin")
    #expect(try logits(restored, x).map(\.bitPattern) == logits(short, x).map(\.bitPattern))
    let last = try makeModel(options, shape: [12])
    try last.load(from: folder + "/epoch-4.bin")
    #expect(try logits(last, x).map(\.bitPattern) == logits(full, x).map(\.bitPattern))
    #expect(throws: PluginError.self) {
        try makeModel(["checkpoint_epochs": .list([.int(1)])], shape: [12])
    }
}

@Test func earlyStoppingKeepsTheBestHeldOutEpoch() throws {
    // Few noisy training records and a high learning rate: held-out loss turns up early.
    let (x, _) = syntheticData(count: 40, features: 12, seed: 21)
    let y = (0..<40).map { Int32($0 % 3) }  // labels unrelated to the features: memorisation only
    let (hx, hy) = syntheticData(count: 60, features: 12, seed: 22)
    let options: [String: OptionValue] = [
        "architecture": .string("mlp"), "hidden_sizes": .list([.int(64)]), "epochs": .int(60), "batch_size": .int(8),
        "learning_rate": .double(0.01), "early_stopping_patience": .int(3),
    ]
    let model = try makeModel(options, shape: [12])
    let history = try train(model, x, y, hx, hy, seed: 4)
    #expect(history.count < 60, "training should stop early")
    let best = history.min { $0.heldoutLoss < $1.heldoutLoss }!
    #expect(history.count == best.epoch + 3)
    let kept = meanLoss(try logits(model, hx), hy, classes: 3)
    #expect(abs(kept - best.heldoutLoss) < 1e-4, "the model keeps the best epoch's weights")
}
