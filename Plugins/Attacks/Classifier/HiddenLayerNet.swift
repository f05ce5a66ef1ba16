import Foundation
import Kernels

/// The small network behind `SmallMLP` (binary cross-entropy) and `QuantileRegressor` (pinball
/// loss): inputs, one ReLU hidden layer of `hiddenUnits` (none when 0: a linear model), one
/// output unit. He-normal initial weights, zero biases; trained with Adam (β 0.9 / 0.999,
/// ε 1e-8) on batches of 64 rows shuffled each epoch, with the loss's slope, a learning-rate
/// schedule and an optional L2 penalty on the weights (not the biases). Deterministic given the
/// random source. Inputs are rows of an [n, d] row-major array, standardised by the caller.
struct HiddenLayerNet: Sendable {
    /// What the output is fitted to, by the slope of the loss in the output for one row.
    enum Loss {
        /// Binary cross-entropy of sigmoid(output) against labels 0 / 1: slope σ(t) - y.
        case logistic(labels: [UInt8])
        /// Pinball loss at level τ against targets y: slope -τ below the target, 1 - τ above it.
        case pinball(targets: [Double], quantile: Double)

        func slope(_ i: Int, _ output: Double) -> Double {
            switch self {
            case .logistic(let y): sigmoid(output) - Double(y[i])
            case .pinball(let t, let tau): t[i] > output ? -tau : (t[i] < output ? 1 - tau : 0)
            }
        }
    }

    /// The learning rate at each Adam step.
    enum Schedule {
        case constant(Double)
        /// Cosine decay from the rate given to 0 over the run (so that the last steps settle
        /// instead of jittering by the step size).
        case cosine(from: Double)

        /// The rate of step `step` (counted from 1) of `total`.
        func rate(step: Int, of total: Int) -> Double {
            switch self {
            case .constant(let rate): rate
            case .cosine(let rate): rate * 0.5 * (1 + cos(Double.pi * Double(step - 1) / Double(total)))
            }
        }
    }

    var hiddenUnits = 0
    /// [h, d] hidden weights, [h] hidden biases, then the output layer: [h] weights (or [d] for
    /// the linear model) and a bias.
    var w1: [Double] = [], b1: [Double] = [], w2: [Double] = [], b2 = 0.0

    init() {}

    /// Fresh weights for `d` inputs: He-normal, the output weights scaled by `outputGain`
    /// (zero weights for the linear model), zero biases.
    init(inputs d: Int, hiddenUnits h: Int, outputGain: Double = 1, rng: inout SeededRandom) {
        hiddenUnits = h
        if h > 0 {
            let scale = (2 / Double(max(d, 1))).squareRoot()
            w1 = (0..<(h * d)).map { _ in rng.nextGaussian() * scale }
            b1 = [Double](repeating: 0, count: h)
            w2 = (0..<h).map { _ in rng.nextGaussian() * (2 / Double(h)).squareRoot() * outputGain }
        } else {
            w2 = [Double](repeating: 0, count: d)
        }
    }

    /// The output for row `i` of `z` ([n, d]); leaves the hidden activations in `hidden` ([h]).
    @inline(__always)
    func output(_ z: [Double], row i: Int, width d: Int, hidden: inout [Double]) -> Double {
        var t = b2
        if hiddenUnits == 0 {
            for j in 0..<d { t += w2[j] * z[i * d + j] }
        } else {
            for u in 0..<hiddenUnits {
                var a = b1[u]
                for j in 0..<d { a += w1[u * d + j] * z[i * d + j] }
                hidden[u] = max(0, a)
                t += w2[u] * hidden[u]
            }
        }
        return t
    }

    /// The outputs for every row of `z` ([n, d]).
    func outputs(_ z: [Double], width d: Int) -> [Double] {
        var hidden = [Double](repeating: 0, count: hiddenUnits)
        return (0..<(z.count / max(d, 1))).map { output(z, row: $0, width: d, hidden: &hidden) }
    }

    /// Fits the `n` rows of `z` ([n, d]) for `epochs` passes.
    mutating func train(
        _ z: [Double], rows n: Int, width d: Int, epochs: Int, loss: Loss, schedule: Schedule, l2: Double = 0,
        rng: inout SeededRandom
    ) {
        let h = hiddenUnits
        // Parameters flattened as [w1, b1, w2, b2] for Adam.
        let count = h * d + h + (h == 0 ? d : h) + 1
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
                    let r = loss.slope(i, output(z, row: i, width: d, hidden: &hidden))
                    g[count - 1] += r
                    if h == 0 {
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
                let lr = schedule.rate(step: step, of: totalSteps)
                let c1 = 1 - pow(beta1, Double(step)), c2 = 1 - pow(beta2, Double(step))
                for j in 0..<count {
                    var gj = g[j] * inv
                    if l2 != 0, j < h * d || (j >= h * d + h && j < count - 1) { gj += l2 * parameter(j, width: d) }
                    m[j] = beta1 * m[j] + (1 - beta1) * gj
                    v[j] = beta2 * v[j] + (1 - beta2) * gj * gj
                    let delta = lr * (m[j] / c1) / ((v[j] / c2).squareRoot() + eps)
                    if j < h * d {
                        w1[j] -= delta
                    } else if j < h * d + h {
                        b1[j - h * d] -= delta
                    } else if j < count - 1 {
                        w2[j - h * d - h] -= delta
                    } else {
                        b2 -= delta
                    }
                }
            }
        }
    }

    /// Flattened parameter `j` (a weight or hidden bias; see `train`).
    private func parameter(_ j: Int, width d: Int) -> Double {
        let h = hiddenUnits
        if j < h * d { return w1[j] }
        if j < h * d + h { return b1[j - h * d] }
        return w2[j - h * d - h]
    }
}
