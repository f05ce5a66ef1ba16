import Foundation
import Kernels

/// A quantile regressor: predicts the τ-quantile of y given x, fitted by minimising the pinball
/// loss `ρ_τ(u) = max(τ u, (τ - 1) u)`, u = y - q(x), whose minimiser over functions is the
/// conditional τ-quantile (Koenker and Bassett 1978).
///
/// Model (`HiddenLayerNet`): standardised inputs, then linear (`hiddenUnits` 0) or one ReLU
/// hidden layer of `hiddenUnits`; the target is standardised too, and the output bias starts at
/// the empirical τ-quantile of the standardised target, the output weights at a tenth of
/// He-normal. Adam with a cosine-decayed learning rate from `learningRate` to 0 over the run,
/// batches of 64 shuffled each epoch by the seed, L2 penalty `l2` on the weights (not the
/// biases). Deterministic given the seed.
/// Owned by the QMIA attack (`QMIAAttack`).
public struct QuantileRegressor: Sendable {
    public var quantile: Double
    public var hiddenUnits: Int
    public var epochs: Int
    public var learningRate: Double
    public var l2: Double
    var standardizer = Standardizer([], width: 0)
    var yMean = 0.0, yScale = 1.0
    var net = HiddenLayerNet()

    public init(quantile: Double, hiddenUnits: Int, epochs: Int, learningRate: Double, l2: Double) {
        self.quantile = quantile
        self.hiddenUnits = hiddenUnits
        self.epochs = epochs
        self.learningRate = learningRate
        self.l2 = l2
    }

    /// Fits on `x` ([n, d] row-major) and `y` ([n]).
    public mutating func fit(_ x: [Double], width d: Int, targets y: [Double], seed: UInt64) {
        let n = y.count
        standardizer = Standardizer(x, width: d)
        let z = standardizer.apply(x, width: d)
        yMean = y.reduce(0, +) / Double(max(n, 1))
        let sd = (y.map { ($0 - yMean) * ($0 - yMean) }.reduce(0, +) / Double(max(n, 1))).squareRoot()
        yScale = sd > 1e-12 ? sd : 1
        let t = y.map { ($0 - yMean) / yScale }
        var rng = SeededRandom(seed: seed)
        net = HiddenLayerNet(inputs: d, hiddenUnits: hiddenUnits, outputGain: 0.1, rng: &rng)
        net.b2 = Self.empiricalQuantile(t, quantile)
        net.train(
            z, rows: n, width: d, epochs: epochs, loss: .pinball(targets: t, quantile: quantile),
            schedule: .cosine(from: learningRate), l2: l2, rng: &rng)
    }

    /// Predicted τ-quantiles for `x` ([n, d]), in the target's units.
    public func predict(_ x: [Double], width d: Int) -> [Double] {
        net.outputs(standardizer.apply(x, width: d), width: d).map { yMean + yScale * $0 }
    }

    /// The lower empirical τ-quantile of `values` (the ⌈τ n⌉-th smallest).
    public static func empiricalQuantile(_ values: [Double], _ tau: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let k = min(sorted.count - 1, max(0, Int((tau * Double(sorted.count)).rounded(.up)) - 1))
        return sorted[k]
    }

    /// The mean pinball loss of predictions `q` against `y` at level τ.
    public static func pinballLoss(_ y: [Double], _ q: [Double], tau: Double) -> Double {
        var total = 0.0
        for i in y.indices {
            let u = y[i] - q[i]
            total += u >= 0 ? tau * u : (tau - 1) * u
        }
        return total / Double(max(y.count, 1))
    }
}
