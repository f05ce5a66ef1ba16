import Foundation
import Kernels

// The one-run f-DP audit of Mahloujifar, Melis and Chaudhuri 2024 ("Auditing f-Differential
// Privacy in One Run"), for the Gaussian tradeoff curve G_μ(x) = Φ(Φ⁻¹(1 − x) − μ) (μ-GDP).
//
// The setting is that of the Steinke et al. one-run audit (OneRunEpsilon.swift): m canaries, each
// in the training set with probability 1/2; a guesser makes c′ guesses ("in"/"out", k = 2 possible
// answers) and abstains on the rest; c of its guesses are right. Under f-DP, one guess on one
// canary that is right with probability p is wrong with probability at least (k − 1)·F⁻¹(p), where
// F⁻¹(p) = Φ(Φ⁻¹(p) − μ) for G_μ (a test of power p has size at least F⁻¹(p)).
//
// The paper's theorem for guessing with abstention turns that per-canary constraint into one on
// the count of right guesses, by a recursion over the counts c, c − 1, …, 0. Suppose the training
// is μ-GDP and P[at least c right guesses] ≥ τ. Start from the right and wrong guess mass that
// event forces per canary, r_c = τ·c/m and h_c = τ·(c′ − c)/m, and go down:
//
//     h_i = max(h_{i+1}, (k − 1)·F⁻¹(r_{i+1})),   r_i = r_{i+1} + i/(c′ − i)·(h_i − h_{i+1}).
//
// Then r_0 + h_0 ≤ c′/m (the guess mass per canary). So when r_0 + h_0 > c′/m, the observed count
// has probability below τ under μ-GDP, and μ is rejected at level τ. The constraint loosens as μ
// grows (F⁻¹ falls), so the rejected μ form an interval [0, μ̂): μ̂ is the lower bound on the
// training's μ at confidence 1 − τ, found by bisection.
//
// μ̂ is turned into ε at the run's δ through the μ-GDP curve (Dong, Roth and Su 2022):
//     δ(ε) = Φ(−ε/μ + μ/2) − e^ε Φ(−ε/μ − μ/2).

/// Φ⁻¹(p) for p in (0, 1): Acklam's rational approximation (relative error 1.2e-9) refined by one
/// Halley step on Φ, which brings it to about 1e-15 relative. ±∞ at 0 and 1.
func inverseNormalCDF(_ p: Double) -> Double {
    if p <= 0 { return -.infinity }
    if p >= 1 { return .infinity }
    let a = [
        -3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02,
        -3.066479806614716e+01, 2.506628277459239e+00,
    ]
    let b = [
        -5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01,
        -1.328068155288572e+01,
    ]
    let c = [
        -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00,
        4.374664141464968e+00, 2.938163982698783e+00,
    ]
    let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
    func tail(_ q: Double) -> Double {
        let numerator = ((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]
        return numerator / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    }
    var x: Double
    if p < 0.02425 {
        x = tail((-2 * log(p)).squareRoot())
    } else if p > 1 - 0.02425 {
        x = -tail((-2 * log1p(-p)).squareRoot())
    } else {
        let q = p - 0.5, r = q * q
        let numerator = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
        x = numerator / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    }
    // One Halley step: e = Φ(x) − p, u = e·√(2π)·exp(x²/2). The lower tail is refined on Φ and
    // the upper on 1 − Φ, so that neither loses its relative accuracy.
    let e = p < 0.5 ? Probability.normalCDF(x) - p : (1 - p) - Probability.normalCDF(-x)
    let u = e * (2 * Double.pi).squareRoot() * exp(x * x / 2)
    x -= u / (1 + x * u / 2)
    return x
}

/// F⁻¹ of μ-GDP: the least size of a test of power `p` between in and out, Φ(Φ⁻¹(p) − μ).
func gaussianDPLeastError(power p: Double, mu: Double) -> Double {
    if p <= 0 { return 0 }
    if p >= 1 { return 1 }
    return Probability.normalCDF(inverseNormalCDF(p) - mu)
}

/// Whether `correct` right guesses out of `guesses` on `canaries` canaries reject μ-GDP at level
/// `tau` (the recursion above, k = 2): true when r_0 + h_0 > c′/m.
func gaussianDPRejects(canaries m: Int, guesses cPrime: Int, correct c: Int, mu: Double, tau: Double) -> Bool {
    precondition(0 <= c && c <= cPrime && cPrime <= m && mu >= 0 && tau > 0 && tau < 1)
    guard cPrime > 0 else { return false }
    let capacity = Double(cPrime) / Double(m)
    var r = tau * Double(c) / Double(m), h = tau * Double(cPrime - c) / Double(m)
    if r + h > capacity { return true }
    for i in stride(from: c - 1, through: 0, by: -1) {
        let hNext = max(h, gaussianDPLeastError(power: r, mu: mu))
        r += Double(i) / Double(cPrime - i) * (hNext - h)
        h = hNext
        // r and h only grow as i falls, so the test can stop as soon as it is decided.
        if r + h > capacity { return true }
    }
    return false
}

/// The largest μ rejected by `correct` of `guesses` guesses on `canaries` canaries at
/// `confidence` (0 when no μ is): the lower bound on the training's Gaussian-DP μ. Bisection to
/// 1e-6 in μ on [0, 64].
func gaussianDPMuLowerBound(canaries m: Int, guesses cPrime: Int, correct c: Int, confidence: Double) -> Double {
    precondition(confidence > 0 && confidence < 1)
    let tau = 1 - confidence
    guard gaussianDPRejects(canaries: m, guesses: cPrime, correct: c, mu: 0, tau: tau) else { return 0 }
    var lo = 0.0, hi = 1.0
    while hi < 64, gaussianDPRejects(canaries: m, guesses: cPrime, correct: c, mu: hi, tau: tau) { lo = hi; hi *= 2 }
    while hi - lo > 1e-6 {
        let mid = (lo + hi) / 2
        if gaussianDPRejects(canaries: m, guesses: cPrime, correct: c, mu: mid, tau: tau) { lo = mid } else { hi = mid }
    }
    return lo
}

/// δ(ε) of μ-GDP: Φ(−ε/μ + μ/2) − e^ε Φ(−ε/μ − μ/2), the second term in log space (it is
/// e^ε times a tiny tail when ε is large). 0 at μ = 0.
func gaussianDPDelta(mu: Double, epsilon: Double) -> Double {
    guard mu > 0 else { return 0 }
    let first = Probability.normalCDF(-epsilon / mu + mu / 2)
    let second = exp(epsilon + Probability.normalLogSF(epsilon / mu + mu / 2))
    return max(0, first - second)
}

/// The ε of μ-GDP at `delta`: the least ε ≥ 0 with δ(ε) ≤ `delta` (δ(ε) falls with ε), by
/// bisection to 1e-9.
func gaussianDPEpsilon(mu: Double, delta: Double) -> Double {
    precondition(delta > 0 && delta < 1)
    guard gaussianDPDelta(mu: mu, epsilon: 0) > delta else { return 0 }
    var lo = 0.0, hi = 1.0
    while gaussianDPDelta(mu: mu, epsilon: hi) > delta { lo = hi; hi *= 2 }
    while hi - lo > 1e-9 {
        let mid = (lo + hi) / 2
        if gaussianDPDelta(mu: mu, epsilon: mid) > delta { lo = mid } else { hi = mid }
    }
    return hi
}

/// The one-run Gaussian-DP audit of one attack's scores on the canaries: the same guesser and
/// guess counts k as the Steinke bound (`oneRunGuesses`, `audit.canaries.guesses`), each k tested
/// at 1 − (1 − confidence)/|ks| (Bonferroni), the largest μ kept, and the ε it implies at δ.
struct OneRunGaussianDPBound: Codable, Sendable, Equatable {
    /// The lower bound on μ at `confidence` (0 when the guesses show no leakage).
    var mu: Double
    /// The ε of μ-GDP at `delta` (`gaussianDPEpsilon`).
    var epsilon: Double
    var confidence: Double
    var delta: Double
    /// The k that gave `mu`, and its guesses and right guesses.
    var k: Int
    var guesses: Int
    var correct: Int
}

/// `OneRunGaussianDPBound` of scores on the canaries (`included[i]`: canary i's coin flip).
func oneRunGaussianDPBound(
    scores: [Double], included: [Bool], scored: [Bool]? = nil, ks: [Int], delta: Double, confidence: Double = 0.95
) -> OneRunGaussianDPBound {
    precondition(!ks.isEmpty)
    let each = 1 - (1 - confidence) / Double(ks.count)
    var best = OneRunGaussianDPBound(
        mu: 0, epsilon: 0, confidence: confidence, delta: delta, k: ks[0], guesses: 0, correct: 0)
    var first = true
    for k in ks {
        let (r, v) = oneRunGuesses(scores: scores, included: included, scored: scored, k: k)
        let mu = gaussianDPMuLowerBound(canaries: scores.count, guesses: r, correct: v, confidence: each)
        if first || mu > best.mu {
            (best.mu, best.k, best.guesses, best.correct) = (mu, k, r, v)
            first = false
        }
    }
    best.epsilon = delta > 0 && delta < 1 ? gaussianDPEpsilon(mu: best.mu, delta: delta) : 0
    return best
}

/// How the Gaussian-DP bound is computed and what it assumes: written beside it in metrics.json and the report.
let oneRunGaussianDPMethod =
    "Mahloujifar, Melis and Chaudhuri 2024 (f-DP in one run): the same canaries, guesser "
    + "and k as the epsilon bound; mu is the largest value for which mu-Gaussian DP is rejected at 1 - confidence "
    + "(Bonferroni over the k tried) by the paper's recursion over the number of right guesses with the tradeoff "
    + "G_mu; its epsilon is that of the mu-GDP curve at delta, delta(eps) = Phi(-eps/mu + mu/2) - e^eps Phi(-eps/mu - mu/2)"
let oneRunGaussianDPAssumptions =
    "mu is a lower bound on the Gaussian-DP parameter of the training with respect "
    + "to the canaries, valid for any attack; the epsilon beside it assumes the training's privacy curve is a Gaussian "
    + "one (as DP-SGD's nearly is), and is not a lower bound on an arbitrary (epsilon, delta) mechanism"
