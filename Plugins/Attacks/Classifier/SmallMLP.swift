import Foundation
import Kernels

/// A small neural attack model: standardised input, one ReLU hidden layer, a sigmoid output,
/// trained on binary cross-entropy with Adam (learning rate 1e-2, β 0.9 / 0.999), batches of 64
/// shuffled each epoch by the seed, He-normal initial weights. Deterministic given the seed.
struct SmallMLP: BinaryClassifier {
    var hiddenUnits: Int
    var epochs: Int
    var standardizer = Standardizer([], width: 0)
    /// [h, d] hidden weights, [h] hidden biases, [h] output weights, output bias.
    var w1: [Double] = [], b1: [Double] = [], w2: [Double] = [], b2 = 0.0

    init(hiddenUnits: Int, epochs: Int) {
        self.hiddenUnits = hiddenUnits
        self.epochs = epochs
    }

    mutating func fit(_ x: [Double], width d: Int, labels y: [UInt8], seed: UInt64) throws {
        standardizer = Standardizer(x, width: d)
        let z = standardizer.apply(x, width: d)
        let n = y.count, h = hiddenUnits
        var rng = SeededRandom(seed: seed)
        let scale = (2 / Double(max(d, 1))).squareRoot()
        w1 = (0..<(h * d)).map { _ in rng.nextGaussian() * scale }
        b1 = [Double](repeating: 0, count: h)
        w2 = (0..<h).map { _ in rng.nextGaussian() * (2 / Double(h)).squareRoot() }
        b2 = 0
        // Parameters flattened as [w1, b1, w2, b2] for Adam.
        let count = h * d + h + h + 1
        var m = [Double](repeating: 0, count: count), v = m, g = m
        var hidden = [Double](repeating: 0, count: h)
        let lr = 1e-2, beta1 = 0.9, beta2 = 0.999, eps = 1e-8
        var step = 0
        var order = Array(0..<n)
        for _ in 0..<epochs {
            rng.shuffle(&order)
            var start = 0
            while start < n {
                let batch = order[start..<min(start + 64, n)]
                start += 64
                for j in 0..<count { g[j] = 0 }
                for i in batch {
                    var t = b2
                    for u in 0..<h {
                        var a = b1[u]
                        for j in 0..<d { a += w1[u * d + j] * z[i * d + j] }
                        hidden[u] = max(0, a)
                        t += w2[u] * hidden[u]
                    }
                    let r = sigmoid(t) - Double(y[i])
                    g[count - 1] += r
                    for u in 0..<h where hidden[u] > 0 {
                        g[h * d + h + u] += r * hidden[u]
                        let back = r * w2[u]
                        g[h * d + u] += back
                        for j in 0..<d { g[u * d + j] += back * z[i * d + j] }
                    }
                }
                step += 1
                let inv = 1 / Double(batch.count)
                let c1 = 1 - pow(beta1, Double(step)), c2 = 1 - pow(beta2, Double(step))
                for j in 0..<count {
                    let gj = g[j] * inv
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

    func memberProbability(_ x: [Double], width d: Int) -> [Double] {
        let z = standardizer.apply(x, width: d)
        let h = hiddenUnits
        return (0..<(x.count / max(d, 1))).map { i in
            var t = b2
            for u in 0..<h {
                var a = b1[u]
                for j in 0..<d { a += w1[u * d + j] * z[i * d + j] }
                t += w2[u] * max(0, a)
            }
            return sigmoid(t)
        }
    }
}
