import Foundation

/// Logistic regression as the attacks' `logistic_regression` model defines it (columns
/// standardised by the training mean and population deviation; Σ log-loss + λ/2 ‖w‖², λ = 1e-2,
/// intercept unpenalised), fitted by Nesterov-accelerated gradient descent, a different method
/// from the plugin's Newton steps: the tests' independent check of a trained attack model.
/// Returns the member probability of each row of `predict`.
///
/// Steps of 1 / L on the mean objective, L = (d + 1) / 4 + λ / n bounding the Lipschitz
/// constant of its gradient for standardised columns; `iterations` steps.
public func independentLogisticRegression(_ x: [[Double]], _ y: [Double], predict: [[Double]], iterations: Int = 5000)
    -> [Double]
{
    let n = x.count, d = x[0].count, lambda = 1e-2
    var mean = [Double](repeating: 0, count: d), sd = mean
    for row in x { for j in 0..<d { mean[j] += row[j] / Double(n) } }
    for row in x {
        for j in 0..<d {
            let deviation = row[j] - mean[j]
            sd[j] += deviation * deviation / Double(n)
        }
    }
    for j in 0..<d { sd[j] = sd[j].squareRoot() }
    func z(_ row: [Double]) -> [Double] {
        var out = [Double](repeating: 1, count: d + 1)
        for j in 0..<d { out[j] = sd[j] > 1e-12 ? (row[j] - mean[j]) / sd[j] : row[j] - mean[j] }
        return out
    }
    let zs = x.map(z)
    let lipschitz = Double(d + 1) / 4 + lambda / Double(n)
    let step = min(1.0, 1 / lipschitz)
    var w = [Double](repeating: 0, count: d + 1), ahead = w
    for k in 0..<iterations {
        var g = [Double](repeating: 0, count: d + 1)
        for i in 0..<n {
            var t = 0.0
            for j in 0...d { t += ahead[j] * zs[i][j] }
            let r = 1 / (1 + exp(-t)) - y[i]
            for j in 0...d { g[j] += r * zs[i][j] }
        }
        for j in 0..<d { g[j] += lambda * ahead[j] }
        let momentum = Double(k) / Double(k + 3)
        for j in 0...d {
            let next = ahead[j] - step * g[j] / Double(n)
            ahead[j] = next + momentum * (next - w[j])
            w[j] = next
        }
    }
    return predict.map { row in
        let zr = z(row)
        var t = 0.0
        for j in 0...d { t += w[j] * zr[j] }
        return 1 / (1 + exp(-t))
    }
}
