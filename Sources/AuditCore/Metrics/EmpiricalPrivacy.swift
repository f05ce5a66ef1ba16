import Foundation
import HeapModule
import Kernels

/// Clopper-Pearson ("exact") interval for a binomial proportion: `k` successes in `n` trials,
/// two-sided at `confidence` (0.95: 2.5 % in each tail).
///
/// lower = B⁻¹(α/2; k, n−k+1) (0 when k = 0), upper = B⁻¹(1−α/2; k+1, n−k) (1 when k = n), where
/// B⁻¹ is the inverse of the regularized incomplete beta function, found by bisection to 1e-12.
func clopperPearson(successes k: Int, trials n: Int, confidence: Double = 0.95) -> ConfidenceInterval {
    precondition(n > 0 && k >= 0 && k <= n)
    let alpha = 1 - confidence
    let lower = k == 0 ? 0 : inverseRegularizedBeta(alpha / 2, a: Double(k), b: Double(n - k + 1))
    let upper = k == n ? 1 : inverseRegularizedBeta(1 - alpha / 2, a: Double(k + 1), b: Double(n - k))
    return ConfidenceInterval(lower: lower, upper: upper)
}

/// The largest ε that an attack's ROC points imply under (ε, δ)-differential privacy, each point
/// bounded as if it had been chosen in advance (Kairouz et al. 2015; Jagielski et al. 2020).
///
/// DP bounds every threshold's rates: TPR ≤ e^ε FPR + δ and 1 − FPR ≤ e^ε (1 − TPR) + δ. At each
/// ROC point the false-positive and false-negative rates are replaced by their Clopper-Pearson
/// upper bounds (counts out of the non-members and the members), and the bound is
/// max(log((1 − δ − FPRᵘ) / FNRᵘ), log((1 − δ − FNRᵘ) / FPRᵘ)), maximised over the points.
///
/// NOT a lower bound at `confidence`: the maximum over many points chosen on the same records is
/// optimistic (on scores that know nothing of membership it is often above 0). It is kept as a
/// labelled diagnostic (`empirical_epsilon_uncorrected_max`) and is how `heldOutEpsilonBound`
/// chooses its threshold; the figure a reviewer reads is `heldOutEpsilonBound`'s.
///
/// Exact but not brute force (an N-record ROC has up to N + 1 points, and each Clopper-Pearson
/// bound is a root search): both terms fall as either count rises, so a point whose false
/// positives and false negatives are both at least another point's cannot win and is dropped;
/// the rest are ranked by an optimistic value that puts each count's maximum-likelihood rate
/// (never above its Clopper-Pearson upper bound) in the formula, and searched best first by a
/// tighter certified ceiling (`bestEpsilonPoint`), until no ceiling or optimistic value left
/// exceeds the best exact one.
func empiricalEpsilonLowerBound(_ roc: ROCCurve, delta: Double, confidence: Double = 0.95) -> Double {
    bestEpsilonPoint(roc, delta: delta, confidence: confidence).epsilon
}

/// The ε of one test with `fp` false positives out of `negatives` and `fn` false negatives out of
/// `positives`, from the Clopper-Pearson upper bounds of both rates (two-sided at `confidence`:
/// each upper bound holds with probability 1 − (1 − confidence)/2, both at once with `confidence`).
func epsilonFromCounts(fp: Int, negatives: Int, fn: Int, positives: Int, delta: Double, confidence: Double) -> Double {
    let fprU = clopperPearson(successes: fp, trials: negatives, confidence: confidence).upper
    let fnrU = clopperPearson(successes: fn, trials: positives, confidence: confidence).upper
    return epsilonFromRates(fprU, fnrU, delta: delta)
}

/// max(log((1 − δ − FPR) / FNR), log((1 − δ − FNR) / FPR)), 0 when neither term is positive.
func epsilonFromRates(_ fpr: Double, _ fnr: Double, delta: Double) -> Double {
    var v = 0.0
    if fnr > 0, 1 - delta - fpr > 0 { v = max(v, log((1 - delta - fpr) / fnr)) }
    if fpr > 0, 1 - delta - fnr > 0 { v = max(v, log((1 - delta - fnr) / fpr)) }
    return v
}

/// The ROC point with the largest ε (see `empiricalEpsilonLowerBound`) and its threshold
/// (`score >= threshold` means "member"); nil threshold when no point gives more than 0. Of
/// points with equal ε, the first in the order of their optimistic values.
///
/// `screened` (the default) runs the root searches best first: each point's certified ceiling
/// (`ClopperPearsonFloor`, one or two incomplete-beta evaluations) is computed when its
/// optimistic value could still beat the ceilings already known, the points are searched in the
/// order of their ceilings, and the search stops once no ceiling or optimistic value left is
/// above the best ε found. Unscreened, every point is searched in the order of its optimistic
/// value until that value falls below the best. Both return the same ε and threshold (tested).
func bestEpsilonPoint(
    _ roc: ROCCurve, delta: Double, confidence: Double, screened: Bool = true
) -> (epsilon: Double, threshold: Double?) {
    let positives = roc.memberCount, negatives = roc.nonMemberCount
    guard positives > 0, negatives > 0 else { return (0, nil) }
    // Counts of each ROC point: false positives rise and false negatives fall along the curve.
    var points: [(fp: Int, fn: Int, threshold: Double)] = roc.falsePositiveRates.indices.map { k in
        (
            Int((roc.falsePositiveRates[k] * Double(negatives)).rounded()),
            Int(((1 - roc.truePositiveRates[k]) * Double(positives)).rounded()), roc.thresholds[k]
        )
    }
    // Keep the points no other point beats on both counts (one per distinct count pair).
    points.sort { $0.fp != $1.fp ? $0.fp < $1.fp : $0.fn < $1.fn }
    var front: [(fp: Int, fn: Int, threshold: Double)] = []
    for p in points where front.last.map({ p.fn < $0.fn }) ?? true { front.append(p) }

    func optimistic(_ p: (fp: Int, fn: Int, threshold: Double)) -> Double {
        let fpr = Double(p.fp) / Double(negatives), fnr = Double(p.fn) / Double(positives)
        if (p.fn == 0 && 1 - delta - fpr > 0) || (p.fp == 0 && 1 - delta - fnr > 0) { return .infinity }
        return epsilonFromRates(fpr, fnr, delta: delta)
    }
    let ranked = front.map { (point: $0, bound: optimistic($0)) }.sorted { $0.bound > $1.bound }
    func exact(_ rank: Int) -> Double {
        let p = ranked[rank].point
        return epsilonFromCounts(
            fp: p.fp, negatives: negatives, fn: p.fn, positives: positives, delta: delta, confidence: confidence)
    }
    var best = 0.0
    var bestRank = Int.max
    // A point can change the answer only with an ε above this: within rounding of the best
    // (ties go to the earlier rank), or above 0 while nothing is.
    func cut() -> Double { best > 0 ? best - 1e-9 * best : 0 }
    func offer(_ rank: Int, _ value: Double) {
        if value > best || (value == best && value > 0 && rank < bestRank) { (best, bestRank) = (value, rank) }
    }
    if screened {
        let floors = ClopperPearsonFloor(confidence: confidence)
        var known = Heap<CeilingCandidate>()
        var next = 0
        while true {
            let nextBound = next < ranked.count ? ranked[next].bound : -.infinity
            let topCeiling = known.max?.ceiling ?? -.infinity
            if max(nextBound, topCeiling) <= cut() { break }
            if nextBound > topCeiling {
                let p = ranked[next].point
                let ceiling = floors.epsilonCeiling(
                    fp: p.fp, negatives: negatives, fn: p.fn, positives: positives, delta: delta)
                if ceiling > cut() { known.insert(CeilingCandidate(ceiling: ceiling, rank: next)) }
                next += 1
            } else {
                let candidate = known.removeMax()
                offer(candidate.rank, exact(candidate.rank))
            }
        }
    } else {
        for rank in ranked.indices {
            if ranked[rank].bound <= cut() { break }
            offer(rank, exact(rank))
        }
    }
    return (best, bestRank == Int.max ? nil : ranked[bestRank].point.threshold)
}

/// A ROC point waiting for its root searches: its certified ε ceiling and its rank in the order
/// of optimistic values (the higher ceiling first; of equal ceilings, the earlier rank).
private struct CeilingCandidate: Comparable {
    let ceiling: Double
    let rank: Int
    static func < (a: Self, b: Self) -> Bool { a.ceiling != b.ceiling ? a.ceiling < b.ceiling : a.rank > b.rank }
}

/// The empirical ε lower bound a report may call one: the threshold is chosen on one half of the
/// records and the bound computed on the other half, so the Clopper-Pearson bounds hold for a
/// threshold fixed before the records that bound it were looked at.
struct HeldOutEpsilonBound: Codable, Sendable, Equatable {
    /// The lower bound on ε at `confidence` (0 when the held-out records show no leakage).
    var epsilon: Double
    /// The threshold chosen on the selection half (`score >= threshold` means "member"); nil when
    /// no threshold there implied any ε above 0.
    var threshold: Double?
    /// Records (members + non-members) that chose the threshold, and that bounded ε.
    var selectionRecords: Int
    var boundRecords: Int
    /// False positives among the bound half's non-members, false negatives among its members.
    var falsePositives: Int
    var falseNegatives: Int
    var nonMembers: Int
    var members: Int

    enum CodingKeys: String, CodingKey {
        case epsilon, threshold
        case selectionRecords = "selection_records"
        case boundRecords = "bound_records"
        case falsePositives = "false_positives"
        case falseNegatives = "false_negatives"
        case nonMembers = "non_members"
        case members
    }
}

/// How `heldOutEpsilonBound` is computed and what it assumes: written beside the figure in
/// metrics.json and the report.
let heldOutEpsilonMethod =
    "threshold chosen on a seeded half of the evaluated records (split within members and "
    + "within non-members), then fixed; its false-positive and false-negative rates on the other half bounded above by "
    + "Clopper-Pearson (each one-sided at 1 - (1 - confidence)/2, so both hold at once with the stated confidence); "
    + "epsilon = max(log((1 - delta - FPR_u) / FNR_u), log((1 - delta - FNR_u) / FPR_u))"
let heldOutEpsilonAssumptions =
    "treats the attack's outcome on each held-out record as an independent trial of "
    + "one fixed test; the records of one training run share that run's randomness, so this is the classical audit's "
    + "reading, not a one-run DP audit (which needs canaries inserted independently with probability 1/2, Steinke, "
    + "Nasr and Jagielski 2023). A bound above the claimed epsilon is evidence against the claim; a bound below it "
    + "proves nothing about the training"

/// `HeldOutEpsilonBound` of one attack's scores. Records whose `evaluationMask` is 0 are left out,
/// as in the rest of the evaluation. The split is a seeded shuffle within members and within
/// non-members (the first half of each chooses).
func heldOutEpsilonBound(
    scores: [Double], isMember: [Bool], evaluationMask: [UInt8]? = nil, delta: Double, confidence: Double = 0.95,
    seed: UInt64
) -> HeldOutEpsilonBound {
    let kept = scores.indices.filter { i in evaluationMask.map { $0[i] != 0 } ?? true }
    var random = SeededRandom(seed: seed)
    var members = kept.filter { isMember[$0] }, nonMembers = kept.filter { !isMember[$0] }
    random.shuffle(&members)
    random.shuffle(&nonMembers)
    let selection = Array(members.prefix(members.count / 2)) + Array(nonMembers.prefix(nonMembers.count / 2))
    let boundMembers = Array(members.dropFirst(members.count / 2))
    let boundNonMembers = Array(nonMembers.dropFirst(nonMembers.count / 2))
    let roc = rocCurve(scores: selection.map { scores[$0] }, isMember: selection.map { isMember[$0] })
    let chosen = bestEpsilonPoint(roc, delta: delta, confidence: confidence).threshold
    var result = HeldOutEpsilonBound(
        epsilon: 0, threshold: chosen, selectionRecords: selection.count,
        boundRecords: boundMembers.count + boundNonMembers.count, falsePositives: 0, falseNegatives: 0,
        nonMembers: boundNonMembers.count, members: boundMembers.count)
    guard let threshold = chosen, !boundMembers.isEmpty, !boundNonMembers.isEmpty else { return result }
    result.falsePositives = boundNonMembers.filter { scores[$0] >= threshold }.count
    result.falseNegatives = boundMembers.filter { !(scores[$0] >= threshold) }.count
    result.epsilon = epsilonFromCounts(
        fp: result.falsePositives, negatives: boundNonMembers.count, fn: result.falseNegatives,
        positives: boundMembers.count, delta: delta, confidence: confidence)
    return result
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
