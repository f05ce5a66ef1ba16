import Foundation
import Kernels

/// Certified lower bounds on Clopper-Pearson upper bounds, each from one or two evaluations of
/// the incomplete beta function instead of a root search (about 45 of them), so that
/// `bestEpsilonPoint` runs the root searches only at ROC points that could still beat the best
/// ε found (W1's profile had these searches at 17 % of a 5-epoch run's samples).
///
/// A candidate c (Wilson's score bound, which lies close to Clopper-Pearson's) is kept only when
/// I_c(k + 1, n − k) is below the level the root search inverts: the function rises with c, so c
/// then lies below the root, and the search's answer (a point of its last bracket, which holds the
/// root) is above c less `margin`. Otherwise the candidate is halved towards k/n once, and then
/// k/n (which the Clopper-Pearson upper bound always exceeds) is the floor.
struct ClopperPearsonFloor {
    /// The level `clopperPearson` inverts for an upper bound: 1 − α/2.
    let level: Double
    /// The normal quantile at `level` (Wilson's z).
    let z: Double
    /// Subtracted from a certified candidate: far above the root search's bracket (1e-13) and
    /// the incomplete beta function's rounding, far below any difference in ε that matters.
    static let margin = 1e-9

    init(confidence: Double) {
        let alpha = 1 - confidence
        level = 1 - alpha / 2
        var (lo, hi) = (0.0, 40.0)
        for _ in 0..<80 {
            let mid = (lo + hi) / 2
            if Probability.normalCDF(mid) < level { lo = mid } else { hi = mid }
        }
        z = lo
    }

    /// A number at most `clopperPearson(successes: k, trials: n, confidence:).upper`.
    func floor(successes k: Int, trials n: Int) -> Double {
        if k == n { return 1 }
        let p = Double(k) / Double(n), nn = Double(n), z2 = z * z
        let centre = (p + z2 / (2 * nn)) / (1 + z2 / nn)
        let half = z / (1 + z2 / nn) * (p * (1 - p) / nn + z2 / (4 * nn * nn)).squareRoot()
        var candidate = min(centre + half, 1)
        for _ in 0..<2 {
            if candidate > p, regularizedBeta(candidate, a: Double(k + 1), b: Double(n - k)) < level {
                return max(p, candidate - Self.margin)
            }
            candidate = p + (candidate - p) / 2
        }
        return p
    }

    /// An upper bound on `epsilonFromCounts` for these counts (which falls as either rate rises):
    /// the formula at the two rates' floors, infinite where a floor of 0 would drop a term.
    func epsilonCeiling(fp: Int, negatives: Int, fn: Int, positives: Int, delta: Double) -> Double {
        let fpr = floor(successes: fp, trials: negatives), fnr = floor(successes: fn, trials: positives)
        if (fnr == 0 && 1 - delta - fpr > 0) || (fpr == 0 && 1 - delta - fnr > 0) { return .infinity }
        return epsilonFromRates(fpr, fnr, delta: delta)
    }
}
