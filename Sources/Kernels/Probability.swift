#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

/// Softmax-family functions of one logits row, and the normal distribution.
///
/// Rows are `[C]` f32 logits; every result is computed in f64. Each log-sum-exp is taken as
/// `m + log1p(Σ_{j≠argmax} exp(z_j - m))` with `m` the row's maximum, so the log-probability of a
/// dominant class stays accurate when it is near 0 (p near 1), which keeps `log(1 - p)` accurate
/// too. Tests compare with direct formulas to 1e-12 relative on moderate logits.
public enum Probability {
    /// `log Σ_j exp(z_j)` of a logits row ([C], C ≥ 1).
    @inlinable
    public static func logSumExp(_ z: UnsafeBufferPointer<Float>) -> Double {
        let (m, tail) = maxAndTail(z)
        return m + tail
    }

    /// The row's maximum m and `log1p(Σ_{j≠argmax} exp(z_j - m))`, whose sum is the
    /// log-sum-exp. Kept apart so that `z_j - m - tail` loses nothing to rounding at |m|.
    @inlinable
    public static func maxAndTail(_ z: UnsafeBufferPointer<Float>) -> (max: Double, tail: Double) {
        var m = -Double.infinity
        var arg = 0
        for j in 0..<z.count where Double(z[j]) > m {
            m = Double(z[j])
            arg = j
        }
        var rest = 0.0
        for j in 0..<z.count where j != arg { rest += exp(Double(z[j]) - m) }
        return (m, log1p(rest))
    }

    /// `log Σ_{j≠skip} exp(z_j)`: the log-sum-exp of every logit but one (-inf when C = 1).
    @inlinable
    public static func logSumExp(_ z: UnsafeBufferPointer<Float>, excluding skip: Int) -> Double {
        var m = -Double.infinity
        var arg = -1
        for j in 0..<z.count where j != skip && Double(z[j]) > m {
            m = Double(z[j])
            arg = j
        }
        guard arg >= 0 else { return -.infinity }
        var rest = 0.0
        for j in 0..<z.count where j != skip && j != arg { rest += exp(Double(z[j]) - m) }
        return m + log1p(rest)
    }

    /// Log-softmax of a row: `out[j] = z_j - logSumExp(z)`. `out.count == z.count`.
    @inlinable
    public static func logSoftmax(_ z: UnsafeBufferPointer<Float>, into out: UnsafeMutableBufferPointer<Double>) {
        let (m, tail) = maxAndTail(z)
        for j in 0..<z.count { out[j] = (Double(z[j]) - m) - tail }
    }

    /// Softmax of a row: `out[j] = exp(z_j - logSumExp(z))`, summing to 1.
    @inlinable
    public static func softmax(_ z: UnsafeBufferPointer<Float>, into out: UnsafeMutableBufferPointer<Double>) {
        let (m, tail) = maxAndTail(z)
        for j in 0..<z.count { out[j] = exp((Double(z[j]) - m) - tail) }
    }

    /// Cross-entropy loss of the true class: `-log p_y = logSumExp(z) - z_y` (≥ 0).
    @inlinable
    public static func crossEntropy(_ z: UnsafeBufferPointer<Float>, label y: Int) -> Double {
        let (m, tail) = maxAndTail(z)
        return max(0, (m - Double(z[y])) + tail)
    }

    /// `log p_y = z_y - logSumExp(z)`, accurate near 0 when p_y is near 1.
    @inlinable
    public static func logProbability(_ z: UnsafeBufferPointer<Float>, label y: Int) -> Double {
        let (m, tail) = maxAndTail(z)
        return (Double(z[y]) - m) - tail
    }

    /// Logit-scaled confidence of the true class (Carlini et al. 2022):
    /// `log(p_y / (1 - p_y)) = z_y - log Σ_{j≠y} exp(z_j)`, exact and stable for p_y near 0 or 1.
    @inlinable
    public static func logitScaledConfidence(_ z: UnsafeBufferPointer<Float>, label y: Int) -> Double {
        Double(z[y]) - logSumExp(z, excluding: y)
    }

    /// `log(1 - exp(a))` for `a ≤ 0`, accurate near 0 and near -inf (Mächler 2012).
    @inlinable
    public static func log1mExp(_ a: Double) -> Double {
        a > -0.693_147_180_559_945_3 ? log(-expm1(a)) : log1p(-exp(a))
    }

    /// Index of the largest logit (the first one on ties): the predicted class.
    @inlinable
    public static func argmax(_ z: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        for j in 1..<max(1, z.count) where z[j] > z[best] { best = j }
        return best
    }

    // MARK: Normal distribution

    /// `log φ((x - mean) / sd) - log sd`: the log density of N(mean, sd²) at x.
    @inlinable
    public static func normalLogPDF(_ x: Double, mean: Double, sd: Double) -> Double {
        let z = (x - mean) / sd
        return -0.5 * z * z - log(sd) - 0.918_938_533_204_672_7  // log √(2π)
    }

    /// Standard normal CDF `Φ(z) = erfc(-z/√2) / 2`.
    @inlinable
    public static func normalCDF(_ z: Double) -> Double { 0.5 * erfc(-z * 0.707_106_781_186_547_5) }

    /// `log(1 - Φ(z))`, the log upper tail of the standard normal, finite for every finite z and
    /// accurate to a few ulps relative over the whole range, in log space:
    ///
    /// - z < 0: `log1p(-Φ(z))` with `Φ(z) = erfc(-z/√2)/2 ≤ 1/2`; below z ≈ -8.3 the result is
    ///   ≈ -Φ(z) (tiny, but exact in f64 down to erfc's underflow near z ≈ -38.5), where
    ///   `log(erfc(z/√2)/2)` would round to exactly 0 and tie every such record.
    /// - 0 ≤ z < 37: `log(erfc(z/√2)/2)` (erfc keeps full relative accuracy in its tail).
    /// - z ≥ 37: the asymptotic series `-z²/2 - log(z√(2π)) + log(1 - 1/z² + 3/z⁴ - 15/z⁶)`
    ///   (relative error < 1e-9 there), past erfc's underflow.
    @inlinable
    public static func normalLogSF(_ z: Double) -> Double {
        if z < 0 { return log1p(-0.5 * erfc(-z * 0.707_106_781_186_547_5)) }
        if z < 37 { return log(0.5 * erfc(z * 0.707_106_781_186_547_5)) }
        let z2 = 1 / (z * z)
        return -0.5 * z * z - log(z) - 0.918_938_533_204_672_7 + log(1 - z2 + 3 * z2 * z2 - 15 * z2 * z2 * z2)
    }
}
