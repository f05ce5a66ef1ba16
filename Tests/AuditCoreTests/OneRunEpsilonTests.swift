import Foundation
import Kernels
import Testing

@testable import AuditCore

/// The one-run ε lower bound (Steinke, Nasr and Jagielski 2023) and the classical multi-run one.
@Suite struct OneRunEpsilonTests {
    /// P[Binomial(r, q) ≥ v] the other way: I_q(v, r − v + 1), the regularized incomplete beta.
    func tail(_ r: Int, _ q: Double, atLeast v: Int) -> Double {
        v <= 0 ? 1 : regularizedBeta(q, a: Double(v), b: Double(r - v + 1))
    }

    /// The theorem's p-value from tails alone: P[B ≥ v] + 2mδ max_i (P[B ≥ v − i] − P[B ≥ v]) / i.
    func pValueFromTails(m: Int, r: Int, v: Int, epsilon: Double, delta: Double) -> Double {
        let q = exp(epsilon) / (1 + exp(epsilon))
        let t = tail(r, q, atLeast: v)
        let worst = (1...max(1, v)).map { i in (tail(r, q, atLeast: v - i) - t) / Double(i) }.max() ?? 0
        return min(1, t + 2 * Double(m) * delta * (v > 0 ? worst : 0))
    }

    @Test func tenRightGuessesOutOfTenGiveTheClosedForm() {
        // By hand from the theorem with δ = 0: P[Bin(10, q) ≥ 10] = q^10 ≤ 0.05 holds up to
        // q = 0.05^(1/10) = 0.741134, so ε = log(q / (1 − q)) = log(0.741134 / 0.258866) = 1.0519.
        let epsilon = oneRunEpsilonLowerBound(canaries: 100, guesses: 10, correct: 10, delta: 0, confidence: 0.95)
        let q = pow(0.05, 0.1)
        #expect(abs(epsilon - log(q / (1 - q))) < 1e-7)
        #expect(abs(epsilon - 1.0519) < 1e-4)
    }

    @Test func thePValueMatchesTheTheoremComputedFromBetaTails() {
        for (m, r, v, epsilon, delta) in [
            (1000, 200, 180, 1.5, 1e-5), (50, 40, 30, 0.7, 1e-3), (10, 10, 3, 0.0, 0.01),
            (400, 400, 350, 2.0, 0),
        ] {
            let ours = oneRunPValue(canaries: m, guesses: r, correct: v, epsilon: epsilon, delta: delta)
            let other = pValueFromTails(m: m, r: r, v: v, epsilon: epsilon, delta: delta)
            #expect(abs(ours - other) < 1e-9, "m \(m) r \(r) v \(v) ε \(epsilon) δ \(delta): \(ours) vs \(other)")
        }
    }

    @Test func theBoundIsWhereThePValueCrossesOneMinusTheConfidence() {
        // m = 1000 canaries, 200 guesses, 180 right, δ = 1e-5, 95 %: just below the bound the
        // p-value (computed the other way) is at most 0.05, just above it more.
        let epsilon = oneRunEpsilonLowerBound(canaries: 1000, guesses: 200, correct: 180, delta: 1e-5, confidence: 0.95)
        #expect(epsilon > 1 && epsilon < 2.2)
        #expect(pValueFromTails(m: 1000, r: 200, v: 180, epsilon: epsilon - 1e-6, delta: 1e-5) <= 0.05)
        #expect(pValueFromTails(m: 1000, r: 200, v: 180, epsilon: epsilon + 1e-6, delta: 1e-5) > 0.05)
        // δ only weakens the bound.
        #expect(
            oneRunEpsilonLowerBound(canaries: 1000, guesses: 200, correct: 180, delta: 0, confidence: 0.95) > epsilon)
    }

    @Test func chanceGuessesGiveZero() {
        #expect(oneRunEpsilonLowerBound(canaries: 100, guesses: 100, correct: 50, delta: 0, confidence: 0.95) == 0)
        #expect(oneRunEpsilonLowerBound(canaries: 100, guesses: 0, correct: 0, delta: 0, confidence: 0.95) == 0)
    }

    @Test func theGuesserTakesTheTopAndBottomKAndAbstainsOnUnscored() {
        // Scores by canary: 5, NaN, 4, 4, 1, 0, 9 (canary 6 unscored by the mask).
        let scores = [5, .nan, 4, 4, 1, 0, 9.0]
        let included = [true, true, false, true, false, true, true]
        let scored = [true, true, true, true, true, true, false]
        // Ranked: 0 (5), 2 (4), 3 (4), 4 (1), 5 (0). k = 2: "in" for 0, 2 (1 right), "out" for 4, 5 (1 right).
        let (r, v) = oneRunGuesses(scores: scores, included: included, scored: scored, k: 2)
        #expect(r == 4 && v == 2)
        // k larger than half the scored canaries guesses each at most once.
        #expect(oneRunGuesses(scores: scores, included: included, scored: scored, k: 10).guesses == 4)
    }

    /// Randomized response with ε: canary i's score is its coin flip (±1), flipped with
    /// probability 1/(1 + e^ε); the scores are ε-DP in each canary, and the theorem is tight.
    func randomizedResponse(m: Int, epsilon: Double, seed: UInt64) -> (scores: [Double], included: [Bool]) {
        var rng = SeededRandom(seed: seed)
        let keep = exp(epsilon) / (1 + exp(epsilon))
        let included = (0..<m).map { _ in rng.nextDouble() < 0.5 }
        let scores = included.map { inside in (rng.nextDouble() < keep) == inside ? 1.0 : -1.0 }
        return (scores, included)
    }

    @Test func onRandomizedResponseTheBoundExceedsTheTrueEpsilonInAtMostFivePercentOfTrials() {
        let m = 200, trials = 300, epsilon = 2.0
        var exceedFixed = 0, exceedCorrected = 0
        var bounds: [Double] = []
        for t in 0..<trials {
            let (scores, included) = randomizedResponse(m: m, epsilon: epsilon, seed: 1_000 + UInt64(t))
            // One k fixed in advance (every canary guessed): the theorem's 5 % exactly.
            let fixed = oneRunEpsilonBound(scores: scores, included: included, ks: [m / 2], delta: 0)
            if fixed.epsilon > epsilon { exceedFixed += 1 }
            bounds.append(fixed.epsilon)
            // The default k, best kept after the Bonferroni correction.
            let corrected = oneRunEpsilonBound(
                scores: scores, included: included, ks: defaultOneRunGuessCounts(canaries: m), delta: 0)
            if corrected.epsilon > epsilon { exceedCorrected += 1 }
        }
        // 5 % of 300 is 15; three standard deviations (3.8 each) of slack.
        #expect(exceedFixed <= 26, "fixed k exceeded ε in \(exceedFixed) of \(trials)")
        #expect(exceedCorrected <= 26, "corrected k exceeded ε in \(exceedCorrected) of \(trials)")
        // And the bound is not trivially small: the median is well above half the true ε.
        let median = bounds.sorted()[trials / 2]
        #expect(median > 1.2, "median bound \(median)")
    }

    @Test func theDefaultGuessCountsAreDistinctAndReachHalfOfTheCanaries() {
        #expect(defaultOneRunGuessCounts(canaries: 1000) == [10, 50, 100, 250, 500])
        #expect(defaultOneRunGuessCounts(canaries: 8) == [1, 2, 4])
    }

    @Test func theMultiRunBoundCountsTheBoundRunsAtTheSelectionThreshold() {
        // Selection runs separate perfectly at 1; bound runs: 50 members (5 below 1), 50 non-members (2 at 1).
        let selection = (
            scores: [Double](repeating: 1, count: 20) + [Double](repeating: 0, count: 20),
            isMember: [Bool](repeating: true, count: 20) + [Bool](repeating: false, count: 20)
        )
        let boundMember = [Bool](repeating: true, count: 50) + [Bool](repeating: false, count: 50)
        let boundScores = (0..<100).map { i -> Double in i < 50 ? (i < 5 ? 0 : 1) : (i < 52 ? 1 : 0) }
        let b = multiRunEpsilonBound(selection: selection, bound: (boundScores, boundMember), delta: 1e-5)
        #expect(b.threshold == 1 && b.falseNegatives == 5 && b.falsePositives == 2)
        let fprU = clopperPearson(successes: 2, trials: 50).upper, fnrU = clopperPearson(successes: 5, trials: 50).upper
        let expected = max(log((1 - 1e-5 - fprU) / fnrU), log((1 - 1e-5 - fnrU) / fprU))
        #expect(abs(b.epsilon - expected) < 1e-12)
    }
}
