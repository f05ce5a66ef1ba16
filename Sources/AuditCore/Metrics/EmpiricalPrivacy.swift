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
///
/// Exact but not brute force (an N-record ROC has up to N + 1 points, and each Clopper-Pearson
/// bound is a root search): both terms fall as either count rises, so a point whose false
/// positives and false negatives are both at least another point's cannot win and is dropped;
/// the rest are visited from the most promising down, by an optimistic value that puts each
/// count's maximum-likelihood rate (never above its Clopper-Pearson upper bound) in the formula,
/// and the search stops once no remaining point's optimistic value exceeds the best exact one.
public func empiricalEpsilonLowerBound(_ roc: ROCCurve, delta: Double, confidence: Double = 0.95) -> Double {
    let positives = roc.memberCount, negatives = roc.nonMemberCount
    guard positives > 0, negatives > 0 else { return 0 }
    // Counts of each ROC point: false positives rise and false negatives fall along the curve.
    var points: [(fp: Int, fn: Int)] = roc.falsePositiveRates.indices.map { k in
        (Int((roc.falsePositiveRates[k] * Double(negatives)).rounded()),
         Int(((1 - roc.truePositiveRates[k]) * Double(positives)).rounded()))
    }
    // Keep the points no other point beats on both counts (one per distinct count pair).
    points.sort { $0.fp != $1.fp ? $0.fp < $1.fp : $0.fn < $1.fn }
    var front: [(fp: Int, fn: Int)] = []
    for p in points where front.last.map({ p.fn < $0.fn }) ?? true { front.append(p) }

    func value(_ fprU: Double, _ fnrU: Double) -> Double {
        var v = 0.0
        if fnrU > 0, 1 - delta - fprU > 0 { v = max(v, log((1 - delta - fprU) / fnrU)) }
        if fprU > 0, 1 - delta - fnrU > 0 { v = max(v, log((1 - delta - fnrU) / fprU)) }
        return v
    }
    func optimistic(_ p: (fp: Int, fn: Int)) -> Double {
        let fpr = Double(p.fp) / Double(negatives), fnr = Double(p.fn) / Double(positives)
        if (p.fn == 0 && 1 - delta - fpr > 0) || (p.fp == 0 && 1 - delta - fnr > 0) { return .infinity }
        return value(fpr, fnr)
    }
    let ranked = front.map { (point: $0, bound: optimistic($0)) }.sorted { $0.bound > $1.bound }
    var best = 0.0
    for candidate in ranked {
        // Bounds within rounding of the best are still visited: the result is the exhaustive one.
        if candidate.bound <= best - 1e-9 * max(1, best) { break }
        let fprU = clopperPearson(successes: candidate.point.fp, trials: negatives, confidence: confidence).upper
        let fnrU = clopperPearson(successes: candidate.point.fn, trials: positives, confidence: confidence).upper
        best = max(best, value(fprU, fnrU))
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
