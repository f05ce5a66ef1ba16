import Foundation
import Kernels
import Testing

@testable import AuditCore

/// The one-run Gaussian-DP (f-DP) bound of Mahloujifar, Melis and Chaudhuri 2024 and its ε.
@Suite struct OneRunGaussianDPTests {
    /// Φ⁻¹ the slow way: bisection on Φ (erfc), independent of the rational approximation.
    func probit(_ p: Double) -> Double {
        var lo = -40.0, hi = 40.0
        for _ in 0..<110 {
            let mid = (lo + hi) / 2
            if 0.5 * erfc(-mid / 2.0.squareRoot()) < p { lo = mid } else { hi = mid }
        }
        return (lo + hi) / 2
    }

    /// The paper's test written out a second time, as plainly as possible: the arrays r and h of
    /// the recursion for counts c … 0, then r_0 + h_0 against c′/m.
    func rejectsPlainly(m: Int, guesses cPrime: Int, correct c: Int, mu: Double, tau: Double) -> Bool {
        var r = [Double](repeating: 0, count: c + 1), h = [Double](repeating: 0, count: c + 1)
        r[c] = tau * Double(c) / Double(m)
        h[c] = tau * Double(cPrime - c) / Double(m)
        if c > 0 {
            for i in (0..<c).reversed() {
                let least = r[i + 1] >= 1 ? 1 : 0.5 * erfc(-(probit(r[i + 1]) - mu) / 2.0.squareRoot())
                h[i] = max(h[i + 1], least)
                r[i] = r[i + 1] + Double(i) / Double(cPrime - i) * (h[i] - h[i + 1])
            }
        }
        return r[0] + h[0] > Double(cPrime) / Double(m)
    }

    /// μ̂ the other way: a scan down from μ = 4 in steps of 0.01 to the first rejected μ, then
    /// from there up in steps of 0.0005 to the last rejected one.
    func muByScan(m: Int, guesses: Int, correct: Int, confidence: Double) -> Double {
        let tau = 1 - confidence
        var mu = 4.0
        while mu > 0, !rejectsPlainly(m: m, guesses: guesses, correct: correct, mu: mu, tau: tau) { mu -= 0.01 }
        guard mu > 0 else { return 0 }
        while rejectsPlainly(m: m, guesses: guesses, correct: correct, mu: mu + 0.0005, tau: tau) { mu += 0.0005 }
        return mu
    }

    @Test func theProbitMatchesBisectionOnPhi() {
        for p in [1e-300, 1e-12, 1e-5, 0.01, 0.02425, 0.1, 0.3, 0.5, 0.77, 0.975, 0.99999] {
            #expect(abs(inverseNormalCDF(p) - probit(p)) < 1e-9 * max(1, abs(probit(p))), "p \(p)")
        }
        #expect(inverseNormalCDF(0) == -.infinity && inverseNormalCDF(1) == .infinity)
    }

    @Test func aWorkedExampleMatchesTheRecursionWrittenOutAndAScan() {
        // m = 1000 canaries, 100 guesses all right: rejected below μ ≈ 1.2255 at 95 % (the
        // recursion run by hand in Python gave 1.22553).
        for (m, guesses, correct) in [(1000, 100, 100), (1000, 100, 90), (1000, 1000, 700), (200, 40, 38)] {
            let mu = gaussianDPMuLowerBound(canaries: m, guesses: guesses, correct: correct, confidence: 0.95)
            let scanned = muByScan(m: m, guesses: guesses, correct: correct, confidence: 0.95)
            #expect(abs(mu - scanned) < 1e-3, "m \(m) c' \(guesses) c \(correct): \(mu) vs \(scanned)")
            #expect(mu > 0)
            // Just below μ̂ the plain recursion rejects, just above it does not.
            #expect(rejectsPlainly(m: m, guesses: guesses, correct: correct, mu: mu - 1e-4, tau: 0.05))
            #expect(!rejectsPlainly(m: m, guesses: guesses, correct: correct, mu: mu + 1e-4, tau: 0.05))
        }
        #expect(
            abs(gaussianDPMuLowerBound(canaries: 1000, guesses: 100, correct: 100, confidence: 0.95) - 1.22553) < 1e-4)
    }

    @Test func chanceOrFewGuessesGiveZero() {
        #expect(gaussianDPMuLowerBound(canaries: 1000, guesses: 1000, correct: 500, confidence: 0.95) == 0)
        #expect(gaussianDPMuLowerBound(canaries: 100, guesses: 0, correct: 0, confidence: 0.95) == 0)
        // Two canaries both right: probability 1/4 even without leakage, never rejected.
        #expect(gaussianDPMuLowerBound(canaries: 2, guesses: 2, correct: 2, confidence: 0.95) == 0)
    }

    @Test func moreRightGuessesGiveALargerMuAndMoreConfidenceASmallerOne() {
        var last = -1.0
        for correct in stride(from: 100, through: 200, by: 10) {
            let mu = gaussianDPMuLowerBound(canaries: 1000, guesses: 200, correct: correct, confidence: 0.95)
            #expect(mu >= last, "correct \(correct): \(mu) < \(last)")
            if correct >= 130 { #expect(mu > last) }
            last = mu
        }
        #expect(
            gaussianDPMuLowerBound(canaries: 1000, guesses: 200, correct: 180, confidence: 0.99)
                < gaussianDPMuLowerBound(canaries: 1000, guesses: 200, correct: 180, confidence: 0.95))
    }

    @Test func epsilonOfMuMatchesScipyAndTheCurve() {
        // Independent reference: scipy's brentq on Φ(−ε/μ + μ/2) − e^ε Φ(−ε/μ − μ/2) = δ
        // (scipy 1.17.1, norm.cdf): 4.377178095681225, 1.9930914044151173, 7.581279924570115.
        for (mu, delta, reference) in [
            (1.0, 1e-5, 4.377178095681225), (0.5, 1e-5, 1.9930914044151173),
            (2.0, 1e-3, 7.581279924570115),
        ] {
            #expect(abs(gaussianDPEpsilon(mu: mu, delta: delta) - reference) < 1e-7, "μ \(mu) δ \(delta)")
        }
        // At δ ≥ δ(0) = 2Φ(μ/2) − 1 the curve allows ε = 0; μ = 0 is ε = 0 at every δ.
        #expect(gaussianDPEpsilon(mu: 1, delta: 2 * Probability.normalCDF(0.5) - 1 + 1e-9) == 0)
        #expect(gaussianDPEpsilon(mu: 0, delta: 1e-5) == 0)
        // ε grows with μ.
        #expect(gaussianDPEpsilon(mu: 3, delta: 1e-5) > gaussianDPEpsilon(mu: 2, delta: 1e-5))
    }

    /// A μ-GDP mechanism on each canary: its score is N(μ, 1) when it is in the training set and
    /// N(0, 1) when it is out; a threshold test between the two has exactly the tradeoff G_μ.
    func gaussianScores(m: Int, mu: Double, seed: UInt64) -> (scores: [Double], included: [Bool]) {
        var rng = SeededRandom(seed: seed)
        let included = (0..<m).map { _ in rng.nextDouble() < 0.5 }
        return (included.map { ($0 ? mu : 0) + rng.nextGaussian() }, included)
    }

    @Test func onAKnownGaussianMechanismTheBoundExceedsTheTrueMuInAtMostFivePercentOfTrials() {
        let m = 200, trials = 100, mu = 2.0
        var exceed = 0, sum = 0.0
        for t in 0..<trials {
            let (scores, included) = gaussianScores(m: m, mu: mu, seed: 16_000 + UInt64(t))
            let b = oneRunGaussianDPBound(scores: scores, included: included, ks: [10, 50, 100], delta: 1e-5)
            if b.mu > mu { exceed += 1 }
            sum += b.mu
        }
        #expect(exceed <= 8, "the bound exceeded μ = \(mu) in \(exceed) of \(trials) trials")
        // And it is not vacuous: about 0.9 on average at m = 200 (0.91 in a Python rerun).
        #expect(sum / Double(trials) > 0.6, "mean bound \(sum / Double(trials))")
    }

    @Test func theSummaryCarriesTheGaussianBoundBesideTheEpsilonOne() throws {
        let (scores, included) = gaussianScores(m: 400, mu: 3, seed: 7)
        let bounds = CanaryAuditSummary.bounds(
            [(name: "a", scores: scores, mask: [UInt8](repeating: 1, count: 400))], indices: Array(0..<400),
            included: included, guesses: [20, 100, 200], delta: 1e-5, confidence: 0.95)
        let b = try #require(bounds["a"]?.gaussianDP)
        #expect(b.mu > 1 && b.mu <= 3)
        #expect(abs(b.epsilon - gaussianDPEpsilon(mu: b.mu, delta: 1e-5)) < 1e-9)
        let summary = CanaryAuditSummary(
            kind: "natural", count: 400, included: included.filter { $0 }.count, seed: 1, claimedEpsilon: nil,
            delta: 1e-5,
            confidence: 0.95, bounds: bounds, attackOrder: ["a"], indices: Array(0..<400))
        let json = String(decoding: try JSONEncoder().encode(summary), as: UTF8.self)
        #expect(json.contains("\"gaussian_dp\"") && json.contains("\"gaussian_dp_method\""))
        #expect(try JSONDecoder().decode(CanaryAuditSummary.self, from: Data(json.utf8)) == summary)
        #expect(summary.strongestGaussianDP?.attack == "a")
    }
}
