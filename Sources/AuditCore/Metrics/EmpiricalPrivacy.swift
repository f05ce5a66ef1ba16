import Foundation

/// Clopper-Pearson ("exact") interval for a binomial proportion: `k` successes in `n` trials,
/// two-sided at `confidence` (0.95: 2.5 % in each tail).
///
/// lower = B⁻¹(α/2; k, n−k+1) (0 when k = 0), upper = B⁻¹(1−α/2; k+1, n−k) (1 when k = n), where
/// B⁻¹ is the inverse of the regularized incomplete beta function, found by bisection to 1e-12.
public func clopperPearson(successes k: Int, trials n: Int, confidence: Double = 0.95) -> ConfidenceInterval {
    precondition(n > 0 && k >= 0 && k <= n)
    let alpha = 1 - confidence
    let lower = k == 0 ? 0 : inverseRegularizedBeta(alpha / 2, a: Double(k), b: Double(n - k + 1))
    let upper = k == n ? 1 : inverseRegularizedBeta(1 - alpha / 2, a: Double(k + 1), b: Double(n - k))
    return ConfidenceInterval(lower: lower, upper: upper)
}

/// The smallest ε that an attack's ROC is compatible with under (ε, δ)-differential privacy: a
/// lower bound on the ε of the training algorithm implied by this audit (Kairouz et al. 2015;
/// Jagielski et al. 2020), not a proof of anything about it.
///
/// DP bounds every threshold's rates: TPR ≤ e^ε FPR + δ and 1 − FPR ≤ e^ε (1 − TPR) + δ. At each
/// ROC point the false-positive and false-negative rates are replaced by their Clopper-Pearson
/// upper bounds (counts out of the non-members and the members), and the bound is
/// max(log((1 − δ − FPRᵘ) / FNRᵘ), log((1 − δ − FNRᵘ) / FPRᵘ)), maximised over the points.
/// The maximum over many points makes the nominal confidence optimistic; the figure is a
/// diagnostic, and 0 when the attack is no better than chance.
public func empiricalEpsilonLowerBound(_ roc: ROCCurve, delta: Double, confidence: Double = 0.95) -> Double {
    let positives = roc.memberCount, negatives = roc.nonMemberCount
    guard positives > 0, negatives > 0 else { return 0 }
    var best = 0.0
    var cache: [Int: Double] = [:]
    func upperFPR(_ fp: Int) -> Double {
        if let v = cache[fp] { return v }
        let v = clopperPearson(successes: fp, trials: negatives, confidence: confidence).upper
        cache[fp] = v
        return v
    }
    for k in roc.falsePositiveRates.indices {
        let fp = Int((roc.falsePositiveRates[k] * Double(negatives)).rounded())
        let fn = Int(((1 - roc.truePositiveRates[k]) * Double(positives)).rounded())
        let fprU = upperFPR(fp)
        let fnrU = clopperPearson(successes: fn, trials: positives, confidence: confidence).upper
        if fnrU > 0, 1 - delta - fprU > 0 { best = max(best, log((1 - delta - fprU) / fnrU)) }
        if fprU > 0, 1 - delta - fnrU > 0 { best = max(best, log((1 - delta - fnrU) / fprU)) }
    }
    return best
}

/// x with I_x(a, b) = p, by bisection.
func inverseRegularizedBeta(_ p: Double, a: Double, b: Double) -> Double {
    var lo = 0.0, hi = 1.0
    for _ in 0..<200 {
        let mid = (lo + hi) / 2
        if regularizedBeta(mid, a: a, b: b) < p { lo = mid } else { hi = mid }
        if hi - lo < 1e-13 { break }
    }
    return (lo + hi) / 2
}

/// The regularized incomplete beta function I_x(a, b), by its continued fraction (modified
/// Lentz), using the symmetry I_x(a, b) = 1 − I_{1−x}(b, a) where the fraction converges slowly.
func regularizedBeta(_ x: Double, a: Double, b: Double) -> Double {
    if x <= 0 { return 0 }
    if x >= 1 { return 1 }
    let logBeta: Double = lgamma(a + b) - lgamma(a) - lgamma(b)
    let logFront: Double = logBeta + a * log(x) + b * log(1 - x)
    if x > (a + 1) / (a + b + 2) { return 1 - regularizedBeta(1 - x, a: b, b: a) }
    let tiny = 1e-300
    var c = 1.0
    var d = 1 - (a + b) * x / (a + 1)
    if abs(d) < tiny { d = tiny }
    d = 1 / d
    var f = d
    for m in 1...500 {
        let m = Double(m)
        // Even step.
        var num = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
        d = 1 + num * d
        if abs(d) < tiny { d = tiny }
        c = 1 + num / c
        if abs(c) < tiny { c = tiny }
        d = 1 / d
        f *= d * c
        // Odd step.
        num = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
        d = 1 + num * d
        if abs(d) < tiny { d = tiny }
        c = 1 + num / c
        if abs(c) < tiny { c = tiny }
        d = 1 / d
        let delta = d * c
        f *= delta
        if abs(delta - 1) < 1e-15 { break }
    }
    return exp(logFront) * f / a
}
