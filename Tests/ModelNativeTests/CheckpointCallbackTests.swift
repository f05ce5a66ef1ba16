import Foundation
import Kernels
import PluginKit
import Testing

@testable import ModelNative

/// Trains `model` on `x`, `y` with host checkpoints at `epochs`; at each, the callback saves the
/// training instance (as the host does) and returns the logits on `x` of a fresh instance loaded
/// from that file. Returns the epochs the callback saw, those logits, and the history.
func trainWithCheckpoints(
    _ model: NativeModel, _ options: [String: OptionValue], _ x: [Float], _ y: [Int32], seed: UInt64, epochs: [Int]
) throws -> (fired: [Int], logits: [Int: [Float]], history: [EpochRecord]) {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("native-host-checkpoint-\(UUID()).bin")
        .path
    defer { try? FileManager.default.removeItem(atPath: file) }
    var fired: [Int] = []
    var kept: [Int: [Float]] = [:]
    var history: [EpochRecord] = []
    try x.withUnsafeBufferPointer { xp in
        try y.withUnsafeBufferPointer { yp in
            let data = TrainingData(
                features: xp, labels: yp, heldoutFeatures: xp, heldoutLabels: yp, seed: seed, checkpointEpochs: epochs,
                onCheckpoint: { epoch in
                    fired.append(epoch)
                    try model.save(to: file)
                    let copy = try makeModel(options, shape: [12])
                    try copy.load(from: file)
                    kept[epoch] = try logits(copy, x)
                })
            try model.train(data) { history.append($0) }
        }
    }
    return (fired, kept, history)
}

/// Logits on `x` of a model trained `epochs` epochs (no checkpoints) from `seed`.
func plainLogits(_ options: [String: OptionValue], epochs: Int, _ x: [Float], _ y: [Int32], seed: UInt64) throws
    -> [Float]
{
    var o = options
    o["epochs"] = .int(epochs)
    let model = try makeModel(o, shape: [12])
    _ = try train(model, x, y, x, y, seed: seed)
    return try logits(model, x)
}

let checkpointMLP: [String: OptionValue] = [
    "architecture": .string("mlp"), "hidden_sizes": .list([.int(16)]), "epochs": .int(5), "batch_size": .int(16),
]

@Test func hostCheckpointsFireAtTheListedEpochsWithThoseEpochsWeights() throws {
    let (x, y) = syntheticData(count: 80, features: 12, seed: 8)
    let model = try makeModel(checkpointMLP, shape: [12])
    // Epoch 7 is past the training's 5 epochs: never reached, never called.
    let run = try trainWithCheckpoints(model, checkpointMLP, x, y, seed: 3, epochs: [2, 4, 7])
    #expect(run.fired == [2, 4])
    #expect(run.history.count == 5)
    for epoch in [2, 4] {
        // The checkpoint is the model a training of exactly that many epochs from the same seed gives.
        let expected = try plainLogits(checkpointMLP, epochs: epoch, x, y, seed: 3)
        #expect(run.logits[epoch]?.map(\.bitPattern) == expected.map(\.bitPattern), "epoch \(epoch)")
    }
    // Taking checkpoints leaves the training alone: the final model is the one trained without them.
    let final = try plainLogits(checkpointMLP, epochs: 5, x, y, seed: 3)
    #expect(try logits(model, x).map(\.bitPattern) == final.map(\.bitPattern))
}

@Test func anErrorAtACheckpointStopsTrainingThere() throws {
    let (x, y) = syntheticData(count: 80, features: 12, seed: 8)
    let model = try makeModel(checkpointMLP, shape: [12])
    var fired: [Int] = []
    var epochs: [Int] = []
    let error = #expect(throws: PluginError.self) {
        try x.withUnsafeBufferPointer { xp in
            try y.withUnsafeBufferPointer { yp in
                let data = TrainingData(
                    features: xp, labels: yp, seed: 3, checkpointEpochs: [1, 3, 4],
                    onCheckpoint: { epoch in
                        fired.append(epoch)
                        if epoch == 3 { throw PluginError(.io, "no room left for the checkpoint") }
                    })
                try model.train(data) { epochs.append($0.epoch) }
            }
        }
    }
    #expect(error?.status == .io)
    #expect(error?.message == "no room left for the checkpoint")
    #expect(fired == [1, 3])
    #expect(epochs == [1, 2, 3], "no epoch runs after the failed checkpoint")
}

@Test func dpSGDTrainingOffersCheckpointsToo() throws {
    let (x, y) = syntheticData(count: 64, features: 12, seed: 9)
    var options = checkpointMLP
    options["epochs"] = .int(3)
    options["dp_sgd"] = .bool(true)
    options["dp_noise_multiplier"] = .double(0.5)
    let model = try makeModel(options, shape: [12])
    let run = try trainWithCheckpoints(model, options, x, y, seed: 4, epochs: [1, 3])
    #expect(run.fired == [1, 3])
    #expect(run.logits[3]?.map(\.bitPattern) == (try logits(model, x)).map(\.bitPattern))
    var one = options
    one["epochs"] = .int(1)
    let short = try makeModel(one, shape: [12])
    _ = try train(short, x, y, x, y, seed: 4)
    #expect(run.logits[1]?.map(\.bitPattern) == (try logits(short, x)).map(\.bitPattern))
}

/// The ABI lets the host call `predict` on the training instance inside `on_checkpoint`. A large
/// predict grows the network's buffers; the training must not change with them (its batches
/// once followed the buffers' size, and DP-SGD's clipper could be overrun).
@Test(arguments: [false, true])
func predictingOnTheTrainingInstanceAtACheckpointLeavesTheTrainingAlone(dpSGD: Bool) throws {
    let (x, y) = syntheticData(count: 80, features: 12, seed: 8)
    var options = checkpointMLP
    if dpSGD {
        options["dp_sgd"] = .bool(true)
        options["dp_noise_multiplier"] = .double(0.5)
    }
    let big = [Float](repeating: 0.25, count: 500 * 12)  // more rows than a batch: grows the buffers
    let probed = try makeModel(options, shape: [12])
    var predicted = 0
    try x.withUnsafeBufferPointer { xp in
        try y.withUnsafeBufferPointer { yp in
            let data = TrainingData(
                features: xp, labels: yp, seed: 3, checkpointEpochs: [1, 2, 3],
                onCheckpoint: { _ in
                    predicted += try logits(probed, big).count
                })
            try probed.train(data) { _ in }
        }
    }
    #expect(predicted == 3 * 500 * 3)  // three checkpoints, 500 rows, 3 classes
    let plain = try makeModel(options, shape: [12])
    _ = try train(plain, x, y, x, y, seed: 3)
    #expect(try logits(probed, x).map(\.bitPattern) == logits(plain, x).map(\.bitPattern))
}

/// Every training loop hands the host a model it can save at a checkpoint, as the host's
/// `audit.checkpoints` does: the defences' loops too (they once refused: not yet "ready").
@Test(arguments: ["distillation", "adversarial_regularization", "dp_sgd"])
func everyTrainingLoopCanBeSavedAtACheckpoint(defence: String) throws {
    let (x, y) = syntheticData(count: 80, features: 12, seed: 8)
    let (px, py) = syntheticData(count: 40, features: 12, seed: 9)
    var options = checkpointMLP
    options["epochs"] = .int(3)
    switch defence {
    case "distillation": options["distillation"] = .bool(true)
    case "adversarial_regularization": options["adversarial_regularization"] = .double(0.5)
    default: options["dp_sgd"] = .bool(true)
    }
    let model = try makeModel(options, shape: [12])
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("native-loop-checkpoint-\(UUID()).bin")
        .path
    defer { try? FileManager.default.removeItem(atPath: file) }
    var saved: [Int] = []
    try x.withUnsafeBufferPointer { xp in
        try y.withUnsafeBufferPointer { yp in
            try px.withUnsafeBufferPointer { pxp in
                try py.withUnsafeBufferPointer { pyp in
                    let data = TrainingData(
                        features: xp, labels: yp, seed: 3, auxiliaryFeatures: pxp, auxiliaryLabels: pyp,
                        checkpointEpochs: [1, 2],
                        onCheckpoint: { epoch in
                            try model.save(to: file)
                            saved.append(epoch)
                        })
                    try model.train(data) { _ in }
                }
            }
        }
    }
    #expect(saved == [1, 2], "\(defence)")
}
