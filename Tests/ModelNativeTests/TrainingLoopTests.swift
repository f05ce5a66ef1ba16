import Foundation
import Kernels
import PluginKit
import Testing

@testable import ModelNative

/// Every kind of training runs through the one loop: early stopping, checkpoints and the history
/// behave the same for each (DP-SGD once had no early stopping).
let trainingKinds = ["plain", "dp_sgd", "distillation", "adversarial_regularization"]

/// `base` with the options of a kind of training.
func optionsOf(_ kind: String, _ base: [String: OptionValue]) -> [String: OptionValue] {
    var o = base
    switch kind {
    case "dp_sgd":
        o["dp_sgd"] = .bool(true)
        o["dp_noise_multiplier"] = .double(0.3)
        o["dp_clip_norm"] = .double(5)
    case "distillation":
        o["distillation"] = .bool(true)
        o["teacher_epochs"] = .int(3)
    case "adversarial_regularization": o["adversarial_regularization"] = .double(0.5)
    default: break
    }
    return o
}

/// Trains `model` on private `x`, `y` with held-out and public records; returns the history.
func trainKind(
    _ model: NativeModel, _ x: [Float], _ y: [Int32], heldout: ([Float], [Int32]), public p: ([Float], [Int32]),
    seed: UInt64,
    checkpoints: [Int] = [], onCheckpoint: ((Int) throws -> Void)? = nil
) throws -> [EpochRecord] {
    var history: [EpochRecord] = []
    try x.withUnsafeBufferPointer { xp in
        try y.withUnsafeBufferPointer { yp in
            try heldout.0.withUnsafeBufferPointer { hxp in
                try heldout.1.withUnsafeBufferPointer { hyp in
                    try p.0.withUnsafeBufferPointer { pxp in
                        try p.1.withUnsafeBufferPointer { pyp in
                            let data = TrainingData(
                                features: xp, labels: yp, heldoutFeatures: hxp, heldoutLabels: hyp, seed: seed,
                                auxiliaryFeatures: pxp, auxiliaryLabels: pyp, checkpointEpochs: checkpoints,
                                onCheckpoint: onCheckpoint)
                            try model.train(data) { history.append($0) }
                        }
                    }
                }
            }
        }
    }
    return history
}

/// The records of the loop tests below: 64 private, 30 held-out and 40 public, 12 features.
func loopRecords() -> (x: [Float], y: [Int32], held: ([Float], [Int32]), pub: ([Float], [Int32])) {
    let (x, y) = syntheticData(count: 64, features: 12, seed: 8)
    return (x, y, syntheticData(count: 30, features: 12, seed: 10), syntheticData(count: 40, features: 12, seed: 9))
}

@Test(arguments: trainingKinds)
func earlyStoppingStopsAndKeepsTheBestEpochForEveryKindOfTraining(_ kind: String) throws {
    // Few training records with labels unrelated to the features and a high learning rate:
    // the held-out loss turns up after a few epochs.
    let (x, _) = syntheticData(count: 40, features: 12, seed: 21)
    let y = (0..<40).map { Int32($0 % 3) }
    let held = syntheticData(count: 60, features: 12, seed: 22)
    let (px, _) = syntheticData(count: 40, features: 12, seed: 23)
    let py = (0..<40).map { Int32(($0 + 1) % 3) }
    let options = optionsOf(
        kind,
        [
            "architecture": .string("mlp"), "hidden_sizes": .list([.int(64)]), "epochs": .int(60),
            "batch_size": .int(8),
            "learning_rate": .double(0.01), "early_stopping_patience": .int(3),
        ])
    let model = try makeModel(options, shape: [12])
    let history = try trainKind(model, x, y, heldout: held, public: (px, py), seed: 4)
    #expect(history.count < 60, "\(kind): training should stop early")
    #expect(history.map(\.epoch) == Array(1...history.count))
    let best = history.min { $0.heldoutLoss < $1.heldoutLoss }!
    #expect(history.count == best.epoch + 3, "\(kind)")
    let kept = meanLoss(try logits(model, held.0), held.1, classes: 3)
    #expect(abs(kept - best.heldoutLoss) < 1e-4, "\(kind): the model keeps the best epoch's weights")
    if kind == "dp_sgd" {
        // The ε accounts for every step run, also the epochs after the best one (the choice of
        // the epoch saw them): 40 records, batch 8, q = 0.2, 5 steps an epoch.
        let spent = RDPAccountant.epsilon(q: 0.2, sigma: 0.3, steps: 5 * history.count, delta: 1e-5).epsilon
        #expect(model.dpEpsilon == spent)
        #expect(history.last?.dpEpsilon == spent)
    }
}

/// For every kind of training: the `checkpoint_epochs` file, the host's checkpoint and a
/// training of exactly that many epochs are the same model; the history has one finite record
/// per epoch, with held-out figures.
@Test(arguments: trainingKinds)
func checkpointsAndHistoryAreTheSameForEveryKindOfTraining(_ kind: String) throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("native-loop-\(UUID())").path
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let (x, y, held, pub) = loopRecords()
    var options = optionsOf(kind, checkpointMLP)
    options["epochs"] = .int(3)
    var withFiles = options
    withFiles["checkpoint_epochs"] = .list([.int(2)])
    withFiles["checkpoint_folder"] = .string(folder)
    let model = try makeModel(withFiles, shape: [12])
    var hostLogits: [Float] = []
    let history = try trainKind(model, x, y, heldout: held, public: pub, seed: 5, checkpoints: [2]) { _ in
        hostLogits = try logits(model, x)
    }
    #expect(history.map(\.epoch) == [1, 2, 3])
    #expect(
        history.allSatisfy { $0.trainLoss.isFinite && $0.heldoutLoss.isFinite && (0...1).contains($0.heldoutAccuracy) })
    #expect(history.allSatisfy { ($0.dpEpsilon != nil) == (kind == "dp_sgd") }, "\(kind)")
    let fromFile = try makeModel(options, shape: [12])
    try fromFile.load(from: folder + "/epoch-2.bin")
    var two = options
    two["epochs"] = .int(2)
    let short = try makeModel(two, shape: [12])
    let shortHistory = try trainKind(short, x, y, heldout: held, public: pub, seed: 5)
    let expected = try logits(short, x).map(\.bitPattern)
    #expect(try logits(fromFile, x).map(\.bitPattern) == expected, "\(kind): checkpoint_epochs file")
    #expect(hostLogits.map(\.bitPattern) == expected, "\(kind): the host's checkpoint")
    #expect(shortHistory.map(\.trainLoss) == history.prefix(2).map(\.trainLoss))
}

/// With `epochs` 0 every kind of training gives the seeded initialisation, ready to predict
/// (distilled and adversarial models were once never marked ready), and no history; DP-SGD has
/// spent ε 0.
@Test(arguments: trainingKinds)
func zeroEpochsGiveTheSeededInitialisationForEveryKindOfTraining(_ kind: String) throws {
    let (x, y, held, pub) = loopRecords()
    var options = optionsOf(kind, checkpointMLP)
    options["epochs"] = .int(0)
    let model = try makeModel(options, shape: [12])
    let history = try trainKind(model, x, y, heldout: held, public: pub, seed: 6)
    #expect(history.isEmpty)
    let initial = try makeModel(
        ["architecture": .string("mlp"), "hidden_sizes": .list([.int(16)]), "epochs": .int(0)], shape: [12])
    _ = try trainKind(initial, x, y, heldout: held, public: pub, seed: 6)
    #expect(try logits(model, x).map(\.bitPattern) == logits(initial, x).map(\.bitPattern), "\(kind)")
    #expect(model.dpEpsilon == (kind == "dp_sgd" ? 0 : nil), "\(kind)")
}

/// `heldout_every`: the held-out records are evaluated after every N-th epoch and after the last;
/// those epochs' figures and the weights are the ones of a training that evaluates every epoch
/// (held-out evaluation is inference only), and the other epochs have no held-out figures.
/// Early stopping, which compares every epoch, refuses any N but 1.
@Test(arguments: trainingKinds)
func heldOutEveryNEpochsKeepsTheWeightsAndTheEvaluatedFigures(_ kind: String) throws {
    let (x, y, held, pub) = loopRecords()
    var every = optionsOf(kind, checkpointMLP)
    every["epochs"] = .int(7)
    var third = every
    third["heldout_every"] = .int(3)
    let a = try makeModel(every, shape: [12])
    let b = try makeModel(third, shape: [12])
    let all = try trainKind(a, x, y, heldout: held, public: pub, seed: 5)
    let some = try trainKind(b, x, y, heldout: held, public: pub, seed: 5)
    #expect(all.map(\.epoch) == Array(1...7) && some.map(\.epoch) == Array(1...7), "\(kind)")
    #expect(all.allSatisfy { $0.heldoutLoss.isFinite && $0.heldoutAccuracy.isFinite }, "\(kind)")
    #expect(some.filter { $0.heldoutLoss.isFinite }.map(\.epoch) == [3, 6, 7], "\(kind)")
    #expect(some.filter { $0.heldoutAccuracy.isFinite }.map(\.epoch) == [3, 6, 7], "\(kind)")
    for (p, q) in zip(all, some) {
        #expect(p.trainLoss == q.trainLoss && p.trainAccuracy == q.trainAccuracy, "\(kind) epoch \(p.epoch)")
        if q.heldoutLoss.isFinite {
            #expect(p.heldoutLoss == q.heldoutLoss && p.heldoutAccuracy == q.heldoutAccuracy, "\(kind) \(p.epoch)")
        }
    }
    #expect(try logits(a, x) == logits(b, x), "\(kind): the weights do not depend on heldout_every")

    var stopping = third
    stopping["early_stopping_patience"] = .int(2)
    #expect(throws: PluginError.self, "\(kind)") { try makeModel(stopping, shape: [12]) }
    var zero = every
    zero["heldout_every"] = .int(0)
    #expect(throws: PluginError.self, "\(kind)") { try makeModel(zero, shape: [12]) }
}
