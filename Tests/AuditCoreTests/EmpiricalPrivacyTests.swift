import Foundation
import Kernels
import Testing

@testable import AuditCore

@Suite struct EmpiricalPrivacyTests {
    @Test func clopperPearsonAtTheEdgesHasAClosedForm() {
        // k = 0: upper = 1 − (α/2)^(1/n); k = n: lower = (α/2)^(1/n).
        for n in [1, 10, 1000] {
            let zero = clopperPearson(successes: 0, trials: n)
            #expect(zero.lower == 0)
            #expect(abs(zero.upper - (1 - pow(0.025, 1 / Double(n)))) < 1e-9)
            let all = clopperPearson(successes: n, trials: n)
            #expect(all.upper == 1)
            #expect(abs(all.lower - pow(0.025, 1 / Double(n))) < 1e-9)
        }
    }

    @Test func clopperPearsonMatchesTheBinomialTails() {
        // The upper bound p of k = 3 of n = 20 solves P(X ≤ 3 | p) = 0.025, summed here directly.
        let ci = clopperPearson(successes: 3, trials: 20)
        func binomialCDF(_ k: Int, _ n: Int, _ p: Double) -> Double {
            var total = 0.0
            for i in 0...k {
                let logChoose: Double = lgamma(Double(n + 1)) - lgamma(Double(i + 1)) - lgamma(Double(n - i + 1))
                let logTerm: Double = logChoose + Double(i) * log(p) + Double(n - i) * log(1 - p)
                total += exp(logTerm)
            }
            return total
        }
        #expect(abs(binomialCDF(3, 20, ci.upper) - 0.025) < 1e-9)
        #expect(abs((1 - binomialCDF(2, 20, ci.lower)) - 0.025) < 1e-9)
        #expect(ci.contains(0.15))
    }

    @Test func aPerfectAttackBoundsEpsilonFromTheCountsAlone() {
        // Perfect separation of 1000 members from 1000 non-members: FPR = FNR = 0 at the best
        // threshold, whose upper bounds are 1 − 0.025^(1/1000).
        let scores = (0..<2000).map { Double($0) }
        let member = (0..<2000).map { $0 >= 1000 }
        let roc = rocCurve(scores: scores, isMember: member)
        let u = 1 - pow(0.025, 1.0 / 1000)
        let expected = log((1 - 1e-5 - u) / u)
        #expect(abs(empiricalEpsilonLowerBound(roc, delta: 1e-5) - expected) < 1e-6)
    }

    @Test func aChanceAttackBoundsNothing() {
        let scores = (0..<400).map { Double($0 % 7) }
        let member = (0..<400).map { $0 % 2 == 0 }
        #expect(empiricalEpsilonLowerBound(rocCurve(scores: scores, isMember: member), delta: 1e-5) == 0)
    }

    /// The pruned search against every ROC point, on attacks from chance to strong, with ties.
    @Test(arguments: [0.0, 0.4, 1.5, 4.0])
    func thePrunedSearchFindsTheExhaustiveMaximum(separation: Double) {
        var rng = SeededRandom(seed: 42 + UInt64(separation * 10))
        let n = 600
        let member = (0..<n).map { _ in rng.nextDouble() < 0.45 }
        // Normal scores shifted for members, rounded to give ties.
        let scores = member.map { m -> Double in
            let u = max(rng.nextDouble(), 1e-12), v = rng.nextDouble()
            let z = sqrt(-2 * log(u)) * cos(2 * Double.pi * v)
            return ((z + (m ? separation : 0)) * 20).rounded() / 20
        }
        let roc = rocCurve(scores: scores, isMember: member)
        var exhaustive = 0.0
        for k in roc.falsePositiveRates.indices {
            let fp = Int((roc.falsePositiveRates[k] * Double(roc.nonMemberCount)).rounded())
            let fn = Int(((1 - roc.truePositiveRates[k]) * Double(roc.memberCount)).rounded())
            let fprU = clopperPearson(successes: fp, trials: roc.nonMemberCount).upper
            let fnrU = clopperPearson(successes: fn, trials: roc.memberCount).upper
            if fnrU > 0, 1 - 1e-5 - fprU > 0 { exhaustive = max(exhaustive, log((1 - 1e-5 - fprU) / fnrU)) }
            if fprU > 0, 1 - 1e-5 - fnrU > 0 { exhaustive = max(exhaustive, log((1 - 1e-5 - fnrU) / fprU)) }
        }
        #expect(empiricalEpsilonLowerBound(roc, delta: 1e-5) == exhaustive)
        if separation >= 1.5 { #expect(exhaustive > 0.5) }
    }

    /// The screen's floors are certified: never above the Clopper-Pearson upper bound they stand
    /// for, and close enough to it to prune (at least half of the way from k/n for n ≥ 100).
    @Test(arguments: [0.95, 0.99])
    func clopperPearsonFloorsLieBelowTheUpperBounds(confidence: Double) {
        let floors = ClopperPearsonFloor(confidence: confidence)
        for n in [1, 2, 3, 7, 20, 100, 1000, 5000, 10000] {
            let ks =
                n <= 100
                ? Array(0...n)
                : Array(Set([0, 1, 2, 3, n / 3, n / 2, n - 2, n - 1, n] + stride(from: 0, through: n, by: n / 40)))
            for k in ks {
                let upper = clopperPearson(successes: k, trials: n, confidence: confidence).upper
                let floor = floors.floor(successes: k, trials: n)
                let p = Double(k) / Double(n)
                #expect(floor <= upper, "k \(k) of \(n): floor \(floor) above \(upper)")
                if n >= 100, k < n {
                    #expect(floor - p >= 0.5 * (upper - p), "k \(k) of \(n): floor \(floor) prunes little")
                }
            }
        }
    }

    /// The screened search returns the unscreened one's ε and threshold, bit for bit, on balanced
    /// classes (where mirrored points give equal ε) and unbalanced ones, from chance to strong.
    @Test(arguments: [(0.0, 500, 500), (0.15, 2000, 2000), (0.6, 1500, 900), (2.5, 300, 700)])
    func theScreenChangesNeitherTheBoundNorItsThreshold(separation: Double, members: Int, nonMembers: Int) {
        var rng = SeededRandom(seed: UInt64(members * 7 + nonMembers))
        let member = (0..<(members + nonMembers)).map { $0 < members }
        let scores = member.map { m in ((rng.nextGaussian() + (m ? separation : 0)) * 50).rounded() / 50 }
        let roc = rocCurve(scores: scores, isMember: member)
        for confidence in [0.9, 0.95] {
            let screened = bestEpsilonPoint(roc, delta: 1e-5, confidence: confidence)
            let plain = bestEpsilonPoint(roc, delta: 1e-5, confidence: confidence, screened: false)
            #expect(screened.epsilon.bitPattern == plain.epsilon.bitPattern)
            #expect(screened.threshold == plain.threshold)
        }
    }

    /// Ties: non-members scored as the members' mirror image give a ROC whose every point has a
    /// mirror with the counts swapped, and so the same ε. Both searches must pick the same one
    /// of the two best points (the first in the order of optimistic values).
    @Test(arguments: [0.3, 0.8, 1.5])
    func mirroredBestPointsGiveTheUnscreenedThreshold(separation: Double) throws {
        var rng = SeededRandom(seed: 91)
        let half = (0..<600).map { _ in ((rng.nextGaussian() + separation / 2) * 40).rounded() / 40 }
        let scores = half + half.map { -$0 }
        let member = scores.indices.map { $0 < half.count }
        let roc = rocCurve(scores: scores, isMember: member)
        let screened = bestEpsilonPoint(roc, delta: 1e-5, confidence: 0.95)
        let plain = bestEpsilonPoint(roc, delta: 1e-5, confidence: 0.95, screened: false)
        #expect(screened.epsilon.bitPattern == plain.epsilon.bitPattern)
        #expect(screened.threshold == plain.threshold)
        // The chosen point's mirror has the same ε: the case is a tie.
        let threshold = try #require(plain.threshold)
        let fp = scores.indices.filter { !member[$0] && scores[$0] >= threshold }.count
        let fn = scores.indices.filter { member[$0] && !(scores[$0] >= threshold) }.count
        #expect(fp != fn, "the best point is its own mirror: no tie")
        let mirrored = epsilonFromCounts(fp: fn, negatives: 600, fn: fp, positives: 600, delta: 1e-5, confidence: 0.95)
        #expect(mirrored == plain.epsilon)
    }
}
