import Foundation

// The one-run ε lower bound of Steinke, Nasr and Jagielski 2023 ("Privacy auditing with one (1)
// training run"): m canaries, each put in the training set independently with probability 1/2;
// a guesser that sees only the trained model says "in" or "out" for r of them (abstaining on the
// rest), v of its guesses right. If the training is (ε, δ)-DP, then for every v
//
//     P[W ≥ v] ≤ P[Binomial(r, q) ≥ v] + 2 m δ · max_{i = 1..v} P[v − i ≤ Binomial(r, q) < v] / i,
//
// with q = e^ε / (1 + e^ε) (the accuracy of ε-randomized response): the paper's main theorem for
// approximate DP and the p-value of its Appendix D. The lower bound at confidence 1 − β is the
// largest ε whose p-value is at most β: any smaller ε is rejected at level β.

/// The p-value of `correct` right guesses out of `guesses` if the training were (ε, δ)-DP on
/// `canaries` canaries (Steinke, Nasr and Jagielski 2023, see above). In [0, 1]; rises with ε.
func oneRunPValue(canaries m: Int, guesses r: Int, correct v: Int, epsilon: Double, delta: Double) -> Double {
    precondition(0 <= v && v <= r && r <= m && epsilon >= 0 && delta >= 0 && delta <= 1)
    let q = 1 / (1 + exp(-epsilon))
    let pmf = binomialPMF(trials: r, probability: q)
    let tail = pmf[v...].reduce(0, +)
    guard delta > 0 else { return min(1, tail) }
    // max over i of P[v − i ≤ B < v] / i, the sum growing one term per i.
    var below = 0.0, worst = 0.0
    for i in stride(from: 1, through: v, by: 1) {
        below += pmf[v - i]
        worst = max(worst, below / Double(i))
    }
    return min(1, tail + 2 * Double(m) * delta * worst)
}

/// The largest ε whose one-run p-value is at most 1 − `confidence` (0 when even ε = 0 is not
/// rejected): the lower bound on the training's ε, at `confidence`, from `correct` right guesses
/// out of `guesses` on `canaries` canaries. Found by bisection to 1e-9 in ε.
func oneRunEpsilonLowerBound(canaries m: Int, guesses r: Int, correct v: Int, delta: Double, confidence: Double)
    -> Double
{
    precondition(confidence > 0 && confidence < 1)
    let beta = 1 - confidence
    guard r > 0, oneRunPValue(canaries: m, guesses: r, correct: v, epsilon: 0, delta: delta) <= beta else { return 0 }
    var lo = 0.0, hi = 1.0
    // q = e^ε / (1 + e^ε) reaches 1 in double precision near ε = 37, where the p-value is 1.
    while hi < 64, oneRunPValue(canaries: m, guesses: r, correct: v, epsilon: hi, delta: delta) <= beta {
        lo = hi; hi *= 2
    }
    while hi - lo > 1e-9 {
        let mid = (lo + hi) / 2
        if oneRunPValue(canaries: m, guesses: r, correct: v, epsilon: mid, delta: delta) <= beta {
            lo = mid
        } else {
            hi = mid
        }
    }
    return lo
}

/// P[Binomial(n, p) = j] for j in 0...n, from log-gamma (stable for large n).
func binomialPMF(trials n: Int, probability p: Double) -> [Double] {
    if p <= 0 { return (0...n).map { $0 == 0 ? 1 : 0 } }
    if p >= 1 { return (0...n).map { $0 == n ? 1 : 0 } }
    func logFactorial(_ k: Int) -> Double { lgamma(Double(k) + 1) }
    let logP: Double = log(p), logQ: Double = log1p(-p), logN = logFactorial(n)
    return (0...n).map { j -> Double in
        let logChoose: Double = logN - logFactorial(j) - logFactorial(n - j)
        let logTerm: Double = logChoose + Double(j) * logP + Double(n - j) * logQ
        return exp(logTerm)
    }
}

/// The guesser of the one-run audit: "in" for the `k` canaries with the highest scores, "out"
/// for the `k` with the lowest, abstaining on the rest and on every canary without a score (NaN,
/// or left out by the attack's evaluation mask). Ties are broken by canary position, which the
/// coin flips do not decide. Returns the guesses made (at most 2k) and how many were right.
func oneRunGuesses(scores: [Double], included: [Bool], scored: [Bool]? = nil, k: Int) -> (guesses: Int, correct: Int) {
    precondition(scores.count == included.count && k >= 0)
    let usable = scores.indices.filter { !scores[$0].isNaN && (scored?[$0] ?? true) }
    let ranked = usable.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
    let perSide = min(k, ranked.count / 2)
    let inside = ranked.prefix(perSide), outside = ranked.suffix(perSide)
    let correct = inside.filter { included[$0] }.count + outside.filter { !included[$0] }.count
    return (2 * perSide, correct)
}

/// The one-run audit of one attack's scores on the canaries: per guess count k tried, the guesses
/// and right guesses, and the bound from the best k at `confidence` after a Bonferroni correction
/// over the k tried (each k's bound is computed at 1 − (1 − confidence)/|ks|, so the largest of
/// them is a lower bound at `confidence` although k was chosen after seeing the scores).
struct OneRunEpsilonBound: Codable, Sendable, Equatable {
    /// The lower bound on ε at `confidence` (0 when the guesses show no leakage).
    var epsilon: Double
    var confidence: Double
    var delta: Double
    /// m: canaries inserted, each in the training set with probability 1/2.
    var canaries: Int
    /// Canaries the attack scored (the others are abstentions).
    var scored: Int
    /// The k (guesses "in" = guesses "out" = k) that gave `epsilon`, and its guesses and right guesses.
    var k: Int
    var guesses: Int
    var correct: Int
    /// Every k tried, fixed before the scores were seen (`audit.canaries.guesses`).
    var kTried: [Int]
    /// The Gaussian-DP bound of Mahloujifar et al. 2024 from the same guesses
    /// (`oneRunGaussianDPBound`); nil in metrics written before it.
    var gaussianDP: OneRunGaussianDPBound? = nil

    enum CodingKeys: String, CodingKey {
        case epsilon, confidence, delta, canaries, scored, k, guesses, correct
        case kTried = "k_tried"
        case gaussianDP = "gaussian_dp"
    }
}

/// `OneRunEpsilonBound` of scores on `canaries` canaries (`included[i]`: canary i's coin flip).
func oneRunEpsilonBound(
    scores: [Double], included: [Bool], scored: [Bool]? = nil, ks: [Int], delta: Double, confidence: Double = 0.95
) -> OneRunEpsilonBound {
    precondition(!ks.isEmpty)
    let m = scores.count
    let each = 1 - (1 - confidence) / Double(ks.count)
    var best = OneRunEpsilonBound(
        epsilon: 0, confidence: confidence, delta: delta, canaries: m,
        scored: scores.indices.filter { !scores[$0].isNaN && (scored?[$0] ?? true) }.count,
        k: ks[0], guesses: 0, correct: 0, kTried: ks)
    var first = true
    for k in ks {
        let (r, v) = oneRunGuesses(scores: scores, included: included, scored: scored, k: k)
        let epsilon = oneRunEpsilonLowerBound(canaries: m, guesses: r, correct: v, delta: delta, confidence: each)
        if first || epsilon > best.epsilon {
            (best.epsilon, best.k, best.guesses, best.correct) = (epsilon, k, r, v)
            first = false
        }
    }
    return best
}

/// The default guess counts of `m` canaries: k = 1 %, 5 %, 10 %, 25 % and 50 % of m (at least 1,
/// duplicates dropped); at 50 % the guesser guesses every canary.
func defaultOneRunGuessCounts(canaries m: Int) -> [Int] {
    var ks: [Int] = []
    for fraction in [0.01, 0.05, 0.1, 0.25, 0.5] {
        let k = max(1, Int((Double(m) * fraction).rounded(.down)))
        if !ks.contains(k) { ks.append(k) }
    }
    return ks
}

/// How the one-run bound is computed and what it assumes: written beside it in metrics.json and the report.
let oneRunEpsilonMethod =
    "Steinke, Nasr and Jagielski 2023 (one training run): each of m canaries put in the "
    + "target's training set with probability 1/2 (seeded coin flips, canaries.json); the attack guesses 'in' for its k "
    + "highest-scored canaries and 'out' for its k lowest, abstaining on the rest; epsilon is the largest value whose "
    + "p-value P[Bin(r, e^eps/(1+e^eps)) >= v] + 2 m delta max_i P[v-i <= Bin < v]/i is at most 1 - confidence, for r "
    + "guesses with v right; the k tried are fixed in advance and the best is kept after a Bonferroni correction over them"
let oneRunEpsilonAssumptions =
    "valid for any attack and any training, as a lower bound on the epsilon of the "
    + "training algorithm with respect to the canaries (the other training records fixed); weak canaries or attacks "
    + "give low bounds, so a bound below the claimed epsilon proves nothing, a bound above it refutes the claim"
