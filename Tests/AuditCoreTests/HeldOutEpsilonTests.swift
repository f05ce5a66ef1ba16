import Foundation
import Kernels
import Testing

@testable import AuditCore

/// The headline ε lower bound: threshold chosen on one half, bounded on the other.
@Suite struct HeldOutEpsilonTests {
    @Test func aPerfectAttackIsBoundedByTheHeldOutHalfAlone() {
        // 200 members score 1, 200 non-members 0: the selection half picks threshold 1, and the
        // bound half (100 + 100 records) has FP = FN = 0, whose upper bounds are 1 − 0.025^(1/100).
        let member = (0..<400).map { $0 % 2 == 0 }
        let scores = member.map { $0 ? 1.0 : 0.0 }
        let bound = heldOutEpsilonBound(scores: scores, isMember: member, delta: 0, seed: 7)
        let u = 1 - pow(0.025, 1.0 / 100)
        #expect(bound.threshold == 1)
        #expect(bound.members == 100 && bound.nonMembers == 100)
        #expect(bound.selectionRecords == 200 && bound.boundRecords == 200)
        #expect(bound.falsePositives == 0 && bound.falseNegatives == 0)
        #expect(abs(bound.epsilon - log((1 - u) / u)) < 1e-9)
    }

    @Test func theBoundCountsTheHeldOutRecordsAtTheChosenThreshold() {
        // Recount by hand: the chosen threshold applied to the records the selection did not see.
        var rng = SeededRandom(seed: 3)
        let n = 1000
        let member = (0..<n).map { _ in rng.nextDouble() < 0.5 }
        let scores = member.map { m in rng.nextGaussian() + (m ? 1.5 : 0) }
        let bound = heldOutEpsilonBound(scores: scores, isMember: member, delta: 1e-5, seed: 11)
        let threshold = try! #require(bound.threshold)
        // The same seeded split as the function's, made again here.
        var split = SeededRandom(seed: 11)
        var members = (0..<n).filter { member[$0] }, nonMembers = (0..<n).filter { !member[$0] }
        split.shuffle(&members)
        split.shuffle(&nonMembers)
        let heldMembers = members.dropFirst(members.count / 2), heldNon = nonMembers.dropFirst(nonMembers.count / 2)
        let fp = heldNon.filter { scores[$0] >= threshold }.count
        let fn = heldMembers.filter { scores[$0] < threshold }.count
        #expect(bound.falsePositives == fp && bound.falseNegatives == fn)
        let fprU = clopperPearson(successes: fp, trials: heldNon.count).upper
        let fnrU = clopperPearson(successes: fn, trials: heldMembers.count).upper
        let expected = max(log((1 - 1e-5 - fprU) / fnrU), log((1 - 1e-5 - fnrU) / fprU), 0)
        #expect(abs(bound.epsilon - expected) < 1e-12)
        #expect(bound.epsilon > 0.5)  // a strong attack on 500 held-out records shows it
    }

    /// Scores that know nothing of membership: the true ε of the "mechanism" is 0, so a valid 95 %
    /// lower bound is above 0 in at most about 5 % of trials. The uncorrected maximum over the
    /// ROC's points (the old headline) is above 0 far more often: that is why it is no bound.
    @Test func underTheNullTheHeldOutBoundIsRarelyAboveZero() {
        var rng = SeededRandom(seed: 99)
        let trials = 120, n = 300
        var heldOutPositive = 0, uncorrectedPositive = 0
        for t in 0..<trials {
            let member = (0..<n).map { _ in rng.nextDouble() < 0.5 }
            let scores = (0..<n).map { _ in rng.nextGaussian() }
            if heldOutEpsilonBound(scores: scores, isMember: member, delta: 1e-5, seed: UInt64(t)).epsilon > 0 {
                heldOutPositive += 1
            }
            if empiricalEpsilonLowerBound(rocCurve(scores: scores, isMember: member), delta: 1e-5) > 0 {
                uncorrectedPositive += 1
            }
        }
        // At most 5 % in expectation; 14 of 120 would be a 1-in-1000 event for a valid bound.
        #expect(heldOutPositive <= 14)
        #expect(uncorrectedPositive > heldOutPositive)
    }

    @Test func recordsLeftOutOfTheEvaluationAreLeftOutOfTheBound() {
        let member = (0..<400).map { $0 % 2 == 0 }
        let scores = member.map { $0 ? 1.0 : 0.0 }
        var mask = [UInt8](repeating: 1, count: 400)
        for i in 0..<200 { mask[i] = 0 }
        let bound = heldOutEpsilonBound(scores: scores, isMember: member, evaluationMask: mask, delta: 0, seed: 1)
        #expect(bound.selectionRecords + bound.boundRecords == 200)
    }

    @Test func metricsJSONLabelsTheUncorrectedMaximumAsADiagnostic() throws {
        let evidence = PrivacyEvidence(
            delta: 1e-5, claimedEpsilon: nil, empiricalEpsilonLowerBound: ["a": 1.0],
            details: [:], uncorrectedMax: ["a": 2.0])
        let json = String(decoding: try JSONEncoder().encode(evidence), as: UTF8.self)
        #expect(json.contains("\"empirical_epsilon_uncorrected_max\""))
        #expect(json.contains("\"assumptions\""))
        #expect(json.contains("\"confidence\""))
    }
}
