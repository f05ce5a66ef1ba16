#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

/// Knowledge distillation's soft-target loss (Hinton, Vinyals and Dean 2015).
///
/// For a student's logits z [K] and a teacher's soft targets p [K] (a probability vector,
/// p = softmax(z_teacher / T)), with q = softmax(z / T):
///
///     loss = T² · KL(p ‖ q) = T² · Σ_j p_j (log p_j − log q_j)
///     ∂loss/∂z_j = T · (q_j − p_j)
///
/// The T² keeps the gradient's size independent of T (Hinton et al., section 2). `log q` is
/// `z/T − logsumexp(z/T)` with the maximum subtracted first; terms with p_j = 0 add 0.
enum SoftTargets {
    /// Turns logits [rows, k] into softmax(z / T) in place, row by row (maximum subtracted).
    static func soften(_ z: UnsafeMutablePointer<Float>, rows: Int, classes k: Int, temperature t: Float) {
        for r in 0..<rows {
            let row = z + r * k
            var m = -Float.infinity
            for j in 0..<k { m = max(m, row[j] / t) }
            var sum: Float = 0
            for j in 0..<k {
                let e = expf(row[j] / t - m)
                row[j] = e
                sum += e
            }
            let inv = 1 / sum
            for j in 0..<k { row[j] *= inv }
        }
    }

    /// Sums the loss over `rows`; counts rows whose arg-max (first maximum) is `labels[r]`
    /// when labels are given.
    ///
    /// - Parameters:
    ///   - logits: the student's logits [rows, k].
    ///   - targets: soft targets [rows, k], each row summing to 1.
    ///   - gradient: when not nil, receives `scale · T · (q − p)` [rows, k] (for a batch mean,
    ///     `scale = 1 / rows`). May be the same memory as `logits`.
    /// - Returns: the summed loss (accumulated in Double) and the number of correct rows.
    static func evaluate(
        logits: UnsafePointer<Float>, targets: UnsafePointer<Float>, rows: Int, classes k: Int, temperature t: Float,
        labels: UnsafePointer<Int32>? = nil, gradient: UnsafeMutablePointer<Float>? = nil, scale: Float = 1
    ) -> (loss: Double, correct: Int) {
        var total = 0.0
        var correct = 0
        for r in 0..<rows {
            let z = logits + r * k
            let p = targets + r * k
            var m = -Float.infinity
            var best = 0
            for j in 0..<k where z[j] > z[best] { best = j }
            if let labels, best == Int(labels[r]) { correct += 1 }
            for j in 0..<k { m = max(m, z[j] / t) }
            var sum: Float = 0
            for j in 0..<k { sum += expf(z[j] / t - m) }
            let lse = m + logf(sum)
            var kl = 0.0
            for j in 0..<k where p[j] > 0 {
                kl += Double(p[j]) * (Double(logf(p[j])) - Double(z[j] / t - lse))
            }
            total += Double(t * t) * kl
            if let g = gradient.map({ $0 + r * k }) {
                for j in 0..<k {
                    let q = expf(z[j] / t - lse)
                    g[j] = scale * t * (q - p[j])
                }
            }
        }
        return (total, correct)
    }
}
