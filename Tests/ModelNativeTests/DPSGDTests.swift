import Foundation
import Kernels
import PluginKit
import Testing

@testable import ModelNative

/// A model, its records and every record's index, for the per-example gradient tests.
private struct Fixture {
    let model: NativeModel
    let x: [Float]
    let y: [Int32]
    let indices: [Int32]

    init(_ options: [String: OptionValue], shape: [Int], classes: Int = 3, records: Int = 8, seed: UInt64 = 7) throws {
        model = try NativeModel(
            options: PluginOptions(options), spec: ModelSpec(featureShape: shape, classCount: classes),
            host: .standalone)
        let d = shape.reduce(1, *)
        x = randomFloats(records * d, seed: seed).map { 2 * $0 }
        y = (0..<records).map { Int32($0 % classes) }
        indices = (0..<records).map { Int32($0) }
        model.network.initialize(seed: 11)
        model.network.reserve(batch: records)
    }

    var network: Network { model.network }
    var p: Int { network.parameterCount }

    func clipped(_ c: Float) -> [[Float]] {
        PerExampleGradients(network: network, clipNorm: c).clippedGradients(x, y, indices: indices, count: y.count)
    }

    /// The clipped sum through `accumulate` (batched or one record at a time).
    func accumulated(_ c: Float, perRecord: Bool) -> [Float] {
        var sum = [Float](repeating: 0, count: p)
        _ = PerExampleGradients(network: network, clipNorm: c).accumulate(
            x, y, indices: indices, first: 0, count: y.count, smoothing: 0, into: &sum, forcePerRecord: perRecord)
        return sum
    }

    /// The gradient of the summed loss by the ordinary batch code: forward, loss gradient with
    /// scale 1, backward.
    func batchGradient() -> [Float] {
        network.load(x, indices: nil, first: 0, batch: y.count)
        let z = network.forward(batch: y.count, training: true)
        _ = SoftmaxCrossEntropy.evaluate(
            logits: z, labels: y, rows: y.count, classes: network.classCount, gradient: network.logitGradient, scale: 1)
        network.backward(batch: y.count)
        return Array(UnsafeBufferPointer(start: network.gradients.pointer, count: p))
    }
}

private func norm(_ v: [Float]) -> Double { v.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot() }

private func maxRelativeError(_ a: [Float], _ b: [Float]) -> Double {
    let scale = max(norm(b) / Double(b.count).squareRoot(), 1e-6)
    return zip(a, b).map { Double(abs($0 - $1)) }.max()! / scale
}

private let mlp: [String: OptionValue] = ["architecture": .string("mlp"), "hidden_sizes": .list([.int(5), .int(4)])]

@Test func clippedPerExampleGradientsHaveNormAtMostC() throws {
    let f = try Fixture(mlp, shape: [6])
    let raw = f.clipped(1e9)
    let norms = raw.map(norm).sorted()
    let c = Float(norms[norms.count / 2])  // half the records get clipped
    let clipped = f.clipped(c)
    var unchanged = 0
    for (g, h) in zip(raw, clipped) {
        #expect(norm(h) <= Double(c) * (1 + 1e-5))
        if norm(g) <= Double(c) {
            #expect(g == h)
            unchanged += 1
        } else {
            #expect(abs(norm(h) - Double(c)) <= 1e-5 * Double(c))  // clipped onto the sphere
            let ratio = norm(h) / norm(g)
            #expect(zip(g, h).allSatisfy { abs(Double($1) - ratio * Double($0)) <= 1e-6 * (1 + abs(Double($0))) })
        }
    }
    #expect(unchanged >= 1 && unchanged < raw.count)
}

@Test(arguments: [false, true])
func batchedClippedSumEqualsSumOfPerRecordGradients(dropout: Bool) throws {
    var options = mlp
    if dropout { options["dropout"] = .double(0.3) }
    let f = try Fixture(options, shape: [6])
    #expect(PerExampleGradients(network: f.network, clipNorm: 1).isBatched)
    let norms = f.clipped(1e9).map(norm).sorted()
    let c = Float(norms[norms.count / 2])
    f.network.initialize(seed: 11)  // same dropout stream for each computation
    let batched = f.accumulated(c, perRecord: false)
    f.network.initialize(seed: 11)
    let individual = f.clipped(c).reduce(into: [Float](repeating: 0, count: f.p)) { s, g in
        for i in s.indices { s[i] += g[i] }
    }
    #expect(maxRelativeError(batched, individual) < 1e-4)
    // Without clipping, the per-record sum is the gradient of the summed loss.
    f.network.initialize(seed: 11)
    let unclipped = f.accumulated(1e9, perRecord: true)
    f.network.initialize(seed: 11)
    #expect(maxRelativeError(unclipped, f.batchGradient()) < 1e-4)
}

@Test func convolutionalNetworksClipOneRecordAtATime() throws {
    let f = try Fixture(
        [
            "architecture": .string("cnn"), "cnn_channels": .list([.int(3)]), "cnn_blocks": .int(1),
            "dense_width": .int(4),
        ],
        shape: [1, 6, 6], records: 5)
    #expect(!PerExampleGradients(network: f.network, clipNorm: 1).isBatched)
    #expect(maxRelativeError(f.accumulated(1e9, perRecord: false), f.batchGradient()) < 1e-4)
    let c: Float = 0.05
    let sum = f.accumulated(c, perRecord: false)
    #expect(f.clipped(c).allSatisfy { norm($0) <= Double(c) * (1 + 1e-5) })
    #expect(norm(sum) <= 5 * Double(c) * (1 + 1e-5))
}

@Test func noiseHasStandardDeviationSigmaTimesC() throws {
    let sigma = 1.3
    let c = 0.7
    let model = try NativeModel(
        options: PluginOptions([
            "dp_sgd": .bool(true), "dp_noise_multiplier": .double(sigma), "dp_clip_norm": .double(c),
            "hidden_sizes": .list([.int(256)]),
        ]),
        spec: ModelSpec(featureShape: [784], classCount: 10), host: .standalone)
    model.network.reserve(batch: 4)
    let p = model.network.parameterCount
    let clipper = PerExampleGradients(network: model.network, clipNorm: Float(c))
    var rng = SeededRandom(seed: 5)
    var sum = [Float](repeating: 0, count: p)
    let none: [Int32] = []
    let x: [Float] = [0]
    let y: [Int32] = [0]
    // No records: the gradient is the noise alone (denominator 1).
    _ = model.noisyGradient(
        x, y, members: none, count: 0, clipper: clipper, smoothing: 0, noise: &rng, denominator: 1, sum: &sum)
    let g = (0..<p).map { Double(model.network.gradients.pointer[$0]) }
    let mean = g.reduce(0, +) / Double(p)
    var squares = 0.0
    for v in g { squares += (v - mean) * (v - mean) }
    let std = (squares / Double(p - 1)).squareRoot()
    // p ≈ 2·10⁵: the sample std is within 0.5 % and the mean within 0.01 σC with overwhelming odds.
    #expect(abs(std / (sigma * c) - 1) < 0.02, "std \(std), expected \(sigma * c)")
    #expect(abs(mean) < 0.02 * sigma * c, "mean \(mean)")
    // The fraction within one standard deviation is the normal's 68.27 %.
    let inside = Double(g.filter { abs($0) <= sigma * c }.count) / Double(p)
    #expect(abs(inside - 0.6827) < 0.01, "fraction within 1 sd \(inside)")
}

@Test func batchNormIsRefusedWithDPSGD() {
    #expect(throws: PluginError.self) {
        _ = try NativeModel(
            options: PluginOptions(["dp_sgd": .bool(true), "batch_norm": .bool(true)]),
            spec: ModelSpec(featureShape: [4], classCount: 2), host: .standalone)
    }
    #expect(throws: PluginError.self) {
        _ = try NativeOptions(PluginOptions(["dp_sampling": .string("uniform")]))
    }
}

// MARK: - Accountant

/// log A_α by direct numerical integration of Mironov et al.'s definition,
/// `A_α = E_{z∼N(0,σ²)} [((1 − q) + q · exp((2z − 1) / (2σ²)))^α]`, trapezoid rule in log space.
private func logAByIntegration(q: Double, sigma: Double, order alpha: Int) -> Double {
    let h = sigma / 2000
    let lo = -40 * sigma
    let hi = 40 * sigma + Double(alpha)
    var logSum = -Double.infinity
    var z = lo
    while z <= hi {
        let logDensity = -z * z / (2 * sigma * sigma) - log(sigma * (2 * Double.pi).squareRoot())
        let ratio = (1 - q) + q * exp((2 * z - 1) / (2 * sigma * sigma))
        let t = logDensity + Double(alpha) * log(ratio) + log(h)
        logSum = logSum == -.infinity ? t : max(logSum, t) + log1p(exp(-abs(logSum - t)))
        z += h
    }
    return logSum
}

@Test(arguments: [(0.01, 0.8), (0.1, 1.5), (0.004, 1.1)])
func accountantMatchesNumericalIntegration(q: Double, sigma: Double) {
    for alpha in [2, 3, 8, 24] {
        let exact = logAByIntegration(q: q, sigma: sigma, order: alpha) / Double(alpha - 1)
        let rdp = RDPAccountant.stepRDP(q: q, sigma: sigma, order: alpha)
        #expect(abs(rdp - exact) <= 1e-6 * max(abs(exact), 1e-9), "order \(alpha): \(rdp) vs \(exact)")
    }
}

@Test func accountantMatchesClosedFormsAndPublishedFigure() {
    // q = 1 is the plain Gaussian mechanism: RDP α / (2σ²) per step.
    #expect(abs(RDPAccountant.stepRDP(q: 1, sigma: 2, order: 5) - 5.0 / 8) < 1e-12)
    #expect(RDPAccountant.stepRDP(q: 0, sigma: 2, order: 5) == 0)
    // TF Privacy's MNIST tutorial: n = 60000, batch 256, σ = 1.1, 60 epochs (14063 steps),
    // δ = 1e-5 → ε ≈ 2.92 with fractional and integer orders. Integer orders alone cannot do
    // better, and here cost about 3 %: the test accepts [2.92, 3.05] (this code: 3.009).
    let (eps, order) = RDPAccountant.epsilon(q: 256.0 / 60000, sigma: 1.1, steps: 14063, delta: 1e-5)
    #expect(eps >= 2.92 && eps <= 3.05, "epsilon \(eps) at order \(order)")
    #expect((8...11).contains(order))
    // More noise, fewer steps or a smaller δ's complement: less epsilon.
    #expect(RDPAccountant.epsilon(q: 256.0 / 60000, sigma: 2, steps: 14063, delta: 1e-5).epsilon < eps)
    #expect(RDPAccountant.epsilon(q: 256.0 / 60000, sigma: 1.1, steps: 1000, delta: 1e-5).epsilon < eps)
}

// MARK: - Training

private func trainTiny(_ extra: [String: OptionValue], seed: UInt64) throws -> NativeModel {
    var options: [String: OptionValue] = [
        "dp_sgd": .bool(true), "hidden_sizes": .list([.int(8)]), "epochs": .int(2), "batch_size": .int(16),
    ]
    for (k, v) in extra { options[k] = v }
    let model = try NativeModel(
        options: PluginOptions(options), spec: ModelSpec(featureShape: [5], classCount: 3), host: .standalone)
    let x = randomFloats(100 * 5, seed: 3)
    let y = (0..<100).map { Int32($0 % 3) }
    try x.withUnsafeBufferPointer { xp in
        try y.withUnsafeBufferPointer { yp in
            try model.train(TrainingData(features: xp, labels: yp, seed: seed)) { _ in }
        }
    }
    return model
}

private func weights(_ m: NativeModel) -> [Float] {
    Array(UnsafeBufferPointer(start: m.network.parameters.pointer, count: m.network.parameterCount))
}

@Test(arguments: ["poisson", "shuffle"])
func dpTrainingIsDeterministicAndReportsEpsilon(sampling: String) throws {
    let a = try trainTiny(["dp_sampling": .string(sampling)], seed: 9)
    let b = try trainTiny(["dp_sampling": .string(sampling)], seed: 9)
    let c = try trainTiny(["dp_sampling": .string(sampling)], seed: 10)
    #expect(weights(a) == weights(b))
    #expect(weights(a) != weights(c))
    // 100 records, batch 16: q = 0.16, round(100 / 16) = 6 steps per epoch, 2 epochs.
    let expected = RDPAccountant.epsilon(q: 0.16, sigma: 1, steps: 12, delta: 1e-5).epsilon
    #expect(a.dpEpsilon == expected)
    #expect(try trainTiny(["dp_sgd": .bool(false)], seed: 9).dpEpsilon == nil)
}

/// DP-SGD on a Fashion-MNIST slice learns (σ = 1); with σ = 1000 the noise drowns the signal.
@Test(.enabled(if: FashionMNIST.isAvailable))
func dpTrainingLearnsFashionMNISTUnlessNoiseIsHuge() throws {
    let base: [String: OptionValue] = [
        "dp_sgd": .bool(true), "hidden_sizes": .list([.int(64)]), "epochs": .int(3), "batch_size": .int(64),
        "learning_rate": .double(0.005), "dp_clip_norm": .double(1),
    ]
    var noisy = base
    noisy["dp_noise_multiplier"] = .double(1000)
    let (accuracy, _) = try trainAndTest(base, trainCount: 3000, testCount: 1000)
    let (drowned, _) = try trainAndTest(noisy, trainCount: 3000, testCount: 1000)
    #expect(accuracy > 0.6, "DP-SGD test accuracy \(accuracy)")
    #expect(drowned < 0.35, "test accuracy with sigma 1000: \(drowned)")
    print("DP-SGD Fashion-MNIST slice: accuracy \(accuracy) (sigma 1), \(drowned) (sigma 1000)")
}
