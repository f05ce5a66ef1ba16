import Foundation
import Kernels

/// A quantile regressor: predicts the τ-quantile of y given x, fitted by minimising the pinball
/// loss `ρ_τ(u) = max(τ u, (τ - 1) u)`, u = y - q(x), whose minimiser over functions is the
/// conditional τ-quantile (Koenker and Bassett 1978).
///
/// Model: standardised inputs, then linear (`hiddenUnits` 0) or one ReLU hidden layer of
/// `hiddenUnits`; the target is standardised too, and the output bias starts at the empirical
/// τ-quantile of the standardised target. Adam (β 0.9 / 0.999) with a cosine-decayed learning
/// rate from `learningRate` to 0 over the run (so that the last steps settle instead of
/// jittering by the step size), batches of 64 shuffled each epoch by the seed, L2 penalty `l2`
/// on the weights (not the biases), He-normal initial weights. Deterministic given the seed.
/// Owned by the QMIA attack (`QMIAAttack`).
public struct QuantileRegressor: Sendable {
    public var quantile: Double
    public var hiddenUnits: Int
    public var epochs: Int
    public var learningRate: Double
    public var l2: Double
    var standardizer = Standardizer([], width: 0)
    var yMean = 0.0, yScale = 1.0
    /// [h, d] hidden weights, [h] hidden biases, then the output layer: [h] weights (or [d] for
    /// the linear model) and a bias.
    var w1: [Double] = [], b1: [Double] = [], w2: [Double] = [], b2 = 0.0

    public init(quantile: Double, hiddenUnits: Int, epochs: Int, learningRate: Double, l2: Double) {
        self.quantile = quantile
        self.hiddenUnits = hiddenUnits
        self.epochs = epochs
        self.learningRate = learningRate
        self.l2 = l2
    }

    /// Fits on `x` ([n, d] row-major) and `y` ([n]).
    public mutating func fit(_ x: [Double], width d: Int, targets y: [Double], seed: UInt64) {
        let n = y.count, h = hiddenUnits, tau = quantile
        standardizer = Standardizer(x, width: d)
        let z = standardizer.apply(x, width: d)
        yMean = y.reduce(0, +) / Double(max(n, 1))
        let sd = (y.map { ($0 - yMean) * ($0 - yMean) }.reduce(0, +) / Double(max(n, 1))).squareRoot()
        yScale = sd > 1e-12 ? sd : 1
        let t = y.map { ($0 - yMean) / yScale }
        var rng = SeededRandom(seed: seed)
        let linear = h == 0
        let width = linear ? d : h
        if !linear {
            let scale = (2 / Double(max(d, 1))).squareRoot()
            w1 = (0..<(h * d)).map { _ in rng.nextGaussian() * scale }
            b1 = [Double](repeating: 0, count: h)
            w2 = (0..<h).map { _ in rng.nextGaussian() * (2 / Double(h)).squareRoot() * 0.1 }
        } else {
            w1 = []
            b1 = []
            w2 = [Double](repeating: 0, count: d)
        }
        b2 = Self.empiricalQuantile(t, tau)
        // Parameters flattened as [w1, b1, w2, b2] for Adam.
        let count = h * d + h + width + 1
        var m = [Double](repeating: 0, count: count), v = m, g = m
        var hidden = [Double](repeating: 0, count: h)
        let beta1 = 0.9, beta2 = 0.999, eps = 1e-8, batchSize = 64
        let totalSteps = max(1, epochs * ((n + batchSize - 1) / batchSize))
        var step = 0
        var order = Array(0..<n)
        for _ in 0..<epochs {
            rng.shuffle(&order)
            var start = 0
            while start < n {
                let batch = order[start..<min(start + batchSize, n)]
                start += batchSize
                for j in 0..<count { g[j] = 0 }
                for i in batch {
                    var q = b2
                    if linear {
                        for j in 0..<d { q += w2[j] * z[i * d + j] }
                    } else {
                        for u in 0..<h {
                            var a = b1[u]
                            for j in 0..<d { a += w1[u * d + j] * z[i * d + j] }
                            hidden[u] = max(0, a)
                            q += w2[u] * hidden[u]
                        }
                    }
                    // d ρ_τ(t - q) / d q: -τ below the target, 1 - τ above it.
                    let r = t[i] > q ? -tau : (t[i] < q ? 1 - tau : 0)
                    g[count - 1] += r
                    if linear {
                        for j in 0..<d { g[j] += r * z[i * d + j] }
                    } else {
                        for u in 0..<h where hidden[u] > 0 {
                            g[h * d + h + u] += r * hidden[u]
                            let back = r * w2[u]
                            g[h * d + u] += back
                            for j in 0..<d { g[u * d + j] += back * z[i * d + j] }
                        }
                    }
                }
                step += 1
                let inv = 1 / Double(batch.count)
                let lr = learningRate * 0.5 * (1 + cos(Double.pi * Double(step - 1) / Double(totalSteps)))
                let c1 = 1 - pow(beta1, Double(step)), c2 = 1 - pow(beta2, Double(step))
                for j in 0..<count {
                    var gj = g[j] * inv
                    let isWeight = j < h * d || (j >= h * d + h && j < count - 1)
                    if isWeight { gj += l2 * parameter(j, h: h, d: d) }
                    m[j] = beta1 * m[j] + (1 - beta1) * gj
                    v[j] = beta2 * v[j] + (1 - beta2) * gj * gj
                    let delta = lr * (m[j] / c1) / ((v[j] / c2).squareRoot() + eps)
                    if j < h * d { w1[j] -= delta }
                    else if j < h * d + h { b1[j - h * d] -= delta }
                    else if j < count - 1 { w2[j - h * d - h] -= delta }
                    else { b2 -= delta }
                }
            }
        }
    }

    private func parameter(_ j: Int, h: Int, d: Int) -> Double {
        if j < h * d { return w1[j] }
        if j < h * d + h { return b1[j - h * d] }
        return w2[j - h * d - h]
    }

    /// Predicted τ-quantiles for `x` ([n, d]), in the target's units.
    public func predict(_ x: [Double], width d: Int) -> [Double] {
        let z = standardizer.apply(x, width: d)
        let h = hiddenUnits
        return (0..<(x.count / max(d, 1))).map { i in
            var q = b2
            if h == 0 {
                for j in 0..<d { q += w2[j] * z[i * d + j] }
            } else {
                for u in 0..<h {
                    var a = b1[u]
                    for j in 0..<d { a += w1[u * d + j] * z[i * d + j] }
                    q += w2[u] * max(0, a)
                }
            }
            return yMean + yScale * q
        }
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
