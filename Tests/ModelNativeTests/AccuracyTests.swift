import Foundation
import PluginKit
import Testing

@testable import ModelNative

func trainAndTest(_ options: [String: OptionValue], trainCount: Int, testCount: Int) throws -> (
    accuracy: Double, history: [EpochRecord]
) {
    let train = try FashionMNIST.load("train", count: trainCount)
    let test = try FashionMNIST.load("t10k", count: testCount)
    let model = try NativeModel(
        options: PluginOptions(options), spec: ModelSpec(featureShape: [1, 28, 28], classCount: 10), host: .standalone)
    var history: [EpochRecord] = []
    try train.features.withUnsafeBufferPointer { xp in
        try train.labels.withUnsafeBufferPointer { yp in
            try model.train(TrainingData(features: xp, labels: yp, seed: 2026)) { history.append($0) }
        }
    }
    let z = try logits(model, test.features)
    var correct = 0
    for r in 0..<test.labels.count {
        let row = z[(r * 10)..<(r * 10 + 10)]
        if row.firstIndex(of: row.max()!)! - r * 10 == Int(test.labels[r]) { correct += 1 }
    }
    return (Double(correct) / Double(test.labels.count), history)
}

/// An MLP on a Fashion-MNIST slice: small enough for a debug build.
@Test(.enabled(if: FashionMNIST.isAvailable))
func mlpLearnsFashionMNIST() throws {
    let (accuracy, history) = try trainAndTest(
        [
            "architecture": .string("mlp"), "hidden_sizes": .list([.int(128)]), "epochs": .int(4),
            "batch_size": .int(64),
        ],
        trainCount: 6000, testCount: 2000)
    #expect(accuracy > 0.80, "test accuracy \(accuracy)")
    #expect(history.last!.trainLoss < history.first!.trainLoss)
}

#if !DEBUG
    /// LeNet-5 on a larger slice: only in release builds, where convolutions are fast.
    @Test(.enabled(if: FashionMNIST.isAvailable))
    func lenet5LearnsFashionMNIST() throws {
        let (accuracy, _) = try trainAndTest(
            ["architecture": .string("lenet5"), "epochs": .int(3)], trainCount: 20000, testCount: 5000)
        #expect(accuracy > 0.80, "test accuracy \(accuracy)")
    }
#endif
