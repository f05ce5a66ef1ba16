import Foundation
import Kernels
import PluginKit
import Testing

@testable import ModelNative

/// Dirac gradient canaries in the native DP-SGD step (ABI 1.4, `DiracCanaries`).
struct DiracCanaryTests {
    /// A logistic model (one dense layer: weights [classes × features] first, then biases)
    /// trained with DP-SGD and plain SGD (no momentum, no weight decay).
    func model(features: Int, classes: Int, sigma: Double, batch: Int, epochs: Int, lr: Double = 0.05, dp: Bool = true)
        throws -> NativeModel
    {
        let options: [String: OptionValue] = [
            "architecture": .string("logistic"), "optimizer": .string("sgd"), "momentum": .double(0),
            "learning_rate": .double(lr),
            "batch_size": .int(batch), "epochs": .int(epochs), "dp_sgd": .bool(dp),
            "dp_noise_multiplier": .double(sigma),
            "dp_clip_norm": .double(1),
        ]
        return try NativeModel(
            options: PluginOptions(options), spec: ModelSpec(featureShape: [features], classCount: classes),
            host: .standalone)
    }

    func train(_ model: NativeModel, _ x: [Float], _ y: [Int32], seed: UInt64, canaries: GradientCanaries?) throws {
        try x.withUnsafeBufferPointer { xp in
            try y.withUnsafeBufferPointer { yp in
                var data = TrainingData(features: xp, labels: yp, seed: seed)
                data.gradientCanaries = canaries
                try model.train(data) { _ in }
            }
        }
    }

    func coins(_ m: Int, seed: UInt64) -> [Bool] {
        var rng = SeededRandom(seed: seed)
        return (0..<m).map { _ in rng.nextDouble() < 0.5 }
    }

    @Test func withoutNoiseTheScoresSeparateInFromOutExactly() throws {
        // All-zero inputs: the records' gradients on every weight are exactly 0 (dz xᵀ), so a
        // weight's noise-free privatised gradient is C / B for each step its canary joined.
        let d = 300, k = 2, n = 50, batch = 25, m = 60
        let model = try model(features: d, classes: k, sigma: 0, batch: batch, epochs: 20)
        let x = [Float](repeating: 0, count: n * d)
        let y = (0..<n).map { Int32($0 % k) }
        let canaries = GradientCanaries(included: coins(m, seed: 4), seed: 77)
        try train(model, x, y, seed: 5, canaries: canaries)
        #expect(canaries.inserted)
        #expect(
            Set(canaries.coordinates).count == m && canaries.coordinates.allSatisfy { (0..<(d * k + k)).contains($0) })
        let onWeights = (0..<m).filter { canaries.coordinates[$0] < d * k }
        #expect(onWeights.count >= m - 2)
        #expect(canaries.included.contains(true) && canaries.included.contains(false))
        for i in onWeights {
            let joined = canaries.scores[i] * Double(batch)  // steps the canary joined, times C = 1
            if canaries.included[i] {
                // 40 steps at q = 0.5: never joining has probability 1e-12.
                #expect(joined >= 1 - 1e-4 && abs(joined - joined.rounded()) < 1e-4, "canary \(i): \(joined)")
            } else {
                #expect(canaries.scores[i] == 0, "canary \(i) is out: \(canaries.scores[i])")
            }
        }
    }

    @Test func aScoreIsTheSumOfTheNoisyGradientsTheWeightsRecord() throws {
        // Plain SGD steps θ ← θ − η ĝ_t, so Σ_t ĝ_t = (θ_0 − θ_T) / η: the score of canary i,
        // recomputed from the initial and final weights at its coordinate.
        let d = 6, k = 3, lr = 0.05
        let model = try model(features: d, classes: k, sigma: 1, batch: 10, epochs: 3, lr: lr)
        let (x, y) = syntheticData(count: 40, features: d, classes: k, seed: 8)
        let canaries = GradientCanaries(included: coins(12, seed: 9), seed: 31)
        try train(model, x, y, seed: 6, canaries: canaries)
        let initial = try self.model(features: d, classes: k, sigma: 1, batch: 10, epochs: 3, lr: lr)
        initial.network.initialize(seed: 6)
        let p = model.network.parameterCount
        let theta0 = Array(UnsafeBufferPointer(start: initial.network.parameters.pointer, count: p))
        let thetaT = Array(UnsafeBufferPointer(start: model.network.parameters.pointer, count: p))
        for (i, j) in canaries.coordinates.enumerated() {
            let recomputed = (Double(theta0[j]) - Double(thetaT[j])) / lr
            #expect(
                abs(canaries.scores[i] - recomputed) <= 1e-4 * (1 + abs(recomputed)),
                "canary \(i) at \(j): \(canaries.scores[i]) vs \(recomputed)")
        }
        // The noise (σC = 1 per step, 12 steps) makes every score nonzero.
        #expect(canaries.scores.allSatisfy { $0 != 0 })
    }

    @Test func canariesThatAreAllOutLeaveTheTrainingBitIdentical() throws {
        // Their Poisson draws have their own stream: the records' batches and the noise are untouched.
        let (x, y) = syntheticData(count: 40, features: 6, classes: 3, seed: 8)
        let plain = try model(features: 6, classes: 3, sigma: 1, batch: 10, epochs: 2)
        try train(plain, x, y, seed: 6, canaries: nil)
        let out = try model(features: 6, classes: 3, sigma: 1, batch: 10, epochs: 2)
        let canaries = GradientCanaries(included: [Bool](repeating: false, count: 8), seed: 3)
        try train(out, x, y, seed: 6, canaries: canaries)
        let p = plain.network.parameterCount
        #expect(
            Array(UnsafeBufferPointer(start: plain.network.parameters.pointer, count: p))
                == Array(UnsafeBufferPointer(start: out.network.parameters.pointer, count: p)))
        #expect(canaries.inserted)
    }

    @Test func withoutDPSGDOrWithMoreCanariesThanParametersTheTrainingIsRefused() throws {
        let (x, y) = syntheticData(count: 40, features: 6, classes: 3, seed: 8)
        let plain = try model(features: 6, classes: 3, sigma: 1, batch: 10, epochs: 1, dp: false)
        #expect(throws: PluginError.self) {
            try train(plain, x, y, seed: 6, canaries: GradientCanaries(included: [true, false], seed: 1))
        }
        let small = try model(features: 6, classes: 3, sigma: 1, batch: 10, epochs: 1)  // 21 parameters
        let tooMany = GradientCanaries(included: [Bool](repeating: true, count: 22), seed: 1)
        #expect(throws: PluginError.self) { try train(small, x, y, seed: 6, canaries: tooMany) }
        #expect(!tooMany.inserted)
    }
}
