#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

/// Softmax cross-entropy over rows of logits, with optional label smoothing.
///
/// For logits z [rows, K] and label y, the target distribution is
/// `q = (1 − ε) · onehot(y) + ε / K` and the row's loss is
/// `ℓ = −Σ_j q_j log softmax(z)_j = lse(z) − Σ_j q_j z_j`, with `lse(z) = m + log Σ_j e^(z_j − m)`
/// and `m = max_j z_j` (shifting by the maximum keeps every exponent ≤ 0, so nothing overflows).
/// Its gradient is `∂ℓ/∂z_j = softmax(z)_j − q_j`.
/// Tested against a hand-computed case and finite differences (relative tolerance 1e-3 in f32).
public enum SoftmaxCrossEntropy {
    /// Sums the loss over `rows` and counts rows whose arg-max (first maximum) is the label.
    ///
    /// - Parameters:
    ///   - gradient: when not nil, receives `scale · (softmax(z) − q)` [rows, K] (for a batch mean,
    ///     `scale = 1 / rows`). May be the same memory as `logits`.
    /// - Returns: the summed loss (accumulated in Double) and the number of correct rows.
    public static func evaluate(
        logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>, rows: Int, classes k: Int,
        smoothing eps: Float = 0, gradient: UnsafeMutablePointer<Float>? = nil, scale: Float = 1
    ) -> (loss: Double, correct: Int) {
        var total = 0.0
        var correct = 0
        let offTarget = eps / Float(k)
        let onTarget = 1 - eps + offTarget
        for r in 0..<rows {
            let z = logits + r &* k
            let label = Int(labels[r])
            var m = z[0]
            var best = 0
            for j in 1..<max(k, 1) where z[j] > m {
                m = z[j]
                best = j
            }
            if best == label { correct += 1 }
            var sum: Float = 0
            var qz: Float = 0
            for j in 0..<k {
                sum += expf(z[j] - m)
                qz += z[j]
            }
            let lse = m + logf(sum)
            // Σ q_j z_j = ε/K Σ z_j + (1 − ε) z_y
            let weighted = offTarget * qz + (1 - eps) * z[label]
            total += Double(lse - weighted)
            if let g = gradient?.advanced(by: r &* k) {
                let inv = 1 / sum
                for j in 0..<k {
                    g[j] = scale * (expf(z[j] - m) * inv - offTarget)
                }
                g[label] -= scale * (onTarget - offTarget)
            }
        }
        return (total, correct)
    }
}
