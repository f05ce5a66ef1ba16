import Foundation
import Testing

@testable import AuditCore

/// TPR at 0 FPR, PPV at membership priors and thresholds chosen on reference models, each on a
/// small case worked by hand.
@Suite("Operating points of a real attacker")
struct OperatingPointsTests {
    // Members 5, 4, 3, 3; non-members 3, 2, 1. The highest non-member score, 3, is tied with two
    // members: at FPR 0 only the members strictly above it count, TPR 2/4.
    let scores: [Double] = [5, 4, 3, 3, 3, 2, 1]
    let isMember = [true, true, true, true, false, false, false]

    @Test func tprAtZeroFPRIgnoresMembersTiedWithANonMember() {
        let m = membershipMetrics(
            scores: scores, isMember: isMember, fprs: [0, 0.34], threshold: nil,
            bootstrapSamples: 0, level: 0.95, seed: 1)
        #expect(m.tprAtFPR["0.0"] == 0.5)
        #expect(m.tprAtFPR["0.34"] == 1.0)
        let point = rocCurve(scores: scores, isMember: isMember).point(atFalsePositiveRate: 0)
        #expect(point == CurvePoint(threshold: 4, truePositiveRate: 0.5, falsePositiveRate: 0))
        // The bootstrap's resampled curves count the same way: every resample's TPR at 0 is at
        // most the share of members above the resample's highest non-member, and the interval
        // holds the estimate.
        let b = membershipMetrics(
            scores: scores, isMember: isMember, fprs: [0], threshold: nil,
            bootstrapSamples: 300, level: 0.95, seed: 3)
        #expect(b.tprAtFPRCI["0.0"]!.contains(0.5))
    }

    @Test func tprAtZeroFPRIsZeroWhenANonMemberScoresHighest() {
        let m = membershipMetrics(
            scores: [1, 2, 3], isMember: [true, true, false], fprs: [0], threshold: nil,
            bootstrapSamples: 0, level: 0.95, seed: 1)
        #expect(m.tprAtFPR["0.0"] == 0)
    }

    @Test func ppvAtPriorsByHand() {
        let curve = rocCurve(scores: scores, isMember: isMember)
        let ppv = ppvAtPriors(curve, fprs: [0, 0.34], priors: [0.01, 0.1])
        // FPR 0: TPR 1/2, FPR 0, every call is a member: PPV 1 at any prior.
        #expect(ppv["0.1"]?["0.0"] == 1)
        #expect(ppv["0.01"]?["0.0"] == 1)
        // FPR row 0.34: the point (FPR 1/3, TPR 1). π = 0.1: 0.1 / (0.1 + 0.9/3) = 0.25.
        #expect(abs(ppv["0.1"]!["0.34"]! - 0.25) < 1e-12)
        // π = 0.01: 0.01 / (0.01 + 0.99/3) = 0.01 / 0.34.
        #expect(abs(ppv["0.01"]!["0.34"]! - 0.01 / 0.34) < 1e-12)
        // Nothing called member: 0, not NaN.
        #expect(positivePredictiveValue(truePositiveRate: 0, falsePositiveRate: 0, prior: 0.1) == 0)
    }

    @Test func thresholdChosenOnPseudoTargetsAppliedToTheTarget() throws {
        // Pseudo-target 0: members 0.9, 0.8; non-members 0.7, 0.1, and 5.0 outside its evaluation.
        // Pseudo-target 1: member 0.6; non-members 0.85, 0.2. Pooled, descending:
        // .9m .85n .8m .7n .6m .2n .1n (3 members, 4 non-members).
        let pseudo = [
            PseudoTargetScores(
                model: 0, scores: [0.9, 0.8, 0.7, 0.1, 5.0], isMember: [true, true, false, false, false],
                evaluationMask: [1, 1, 1, 1, 0]),
            PseudoTargetScores(
                model: 1, scores: [0.6, 0.85, 0.2], isMember: [true, false, false], evaluationMask: [1, 1, 1]),
        ]
        // Target: members 0.95, 0.82, 0.5; non-members 0.9, 0.3.
        let target: [Double] = [0.95, 0.82, 0.5, 0.9, 0.3]
        let members = [true, true, true, false, false]
        let chosen = try #require(
            referenceThresholds(
                pseudo, fprs: [0, 0.25, 0.5], priors: [0.1], targetScores: target, targetIsMember: members,
                targetMask: [1, 1, 1, 1, 1]))
        // FPR 0: lowest pooled threshold above every pooled non-member (0.85): 0.9, pooled TPR 1/3.
        // On the target, 0.95 (member) and 0.9 (non-member, tied with the threshold) are called.
        let zero = try #require(chosen["0.0"])
        #expect(zero.threshold == 0.9)
        #expect(abs(zero.referenceTPR - 1.0 / 3) < 1e-12 && zero.referenceFPR == 0)
        #expect(abs(zero.targetTPR - 1.0 / 3) < 1e-12 && zero.targetFPR == 0.5)
        // PPV at π = 0.1 of (1/3, 1/2): (1/30) / (1/30 + 0.45) = 2/29.
        #expect(abs(zero.targetPPV["0.1"]! - 2.0 / 29) < 1e-12)
        // FPR 0.25: threshold 0.8 (pooled 1/4, 2/3); target 2/3, 1/2.
        let quarter = try #require(chosen["0.25"])
        #expect(quarter.threshold == 0.8 && quarter.referenceFPR == 0.25)
        #expect(abs(quarter.targetTPR - 2.0 / 3) < 1e-12 && quarter.targetFPR == 0.5)
        // FPR 0.5: threshold 0.6 (pooled 2/4, 1); target members .95 .82 (2/3), non-member .9 (1/2).
        let half = try #require(chosen["0.5"])
        #expect(half.threshold == 0.6 && half.referenceTPR == 1)
        #expect(abs(half.targetTPR - 2.0 / 3) < 1e-12 && half.targetFPR == 0.5)
        // The target's mask applies: without record 3 the non-member FPR falls to 0.
        let masked = try #require(
            referenceThresholds(
                pseudo, fprs: [0], priors: [], targetScores: target, targetIsMember: members,
                targetMask: [1, 1, 1, 0, 1]))
        #expect(masked["0.0"]!.targetFPR == 0)
        // No pseudo-target with both members and non-members: nothing to choose on.
        #expect(
            referenceThresholds(
                [PseudoTargetScores(model: 0, scores: [1], isMember: [true], evaluationMask: [1])], fprs: [0.1],
                priors: [],
                targetScores: target, targetIsMember: members, targetMask: [1, 1, 1, 1, 1]) == nil)
    }

    @Test func evaluationCarriesThemIntoMetricsJSON() throws {
        var e = evaluate(
            attack: "a", scores: scores, evaluationMask: [UInt8](repeating: 1, count: 7), isMember: isMember,
            labels: [Int32](repeating: 0, count: 7), targetCorrect: [Bool](repeating: true, count: 7),
            fprs: [0, 0.34], slices: .none, bootstrapSamples: 0, seed: 1)
        e.addOperatingPoints(
            curve: rocCurve(scores: scores, isMember: isMember), priors: [0.1],
            pseudo: [
                PseudoTargetScores(model: 2, scores: scores, isMember: isMember, evaluationMask: [1, 1, 1, 1, 1, 1, 1])
            ],
            scores: scores, isMember: isMember, mask: [1, 1, 1, 1, 1, 1, 1])
        let json = try JSONSerialization.jsonObject(with: RunSummary.encoder.encode(e)) as! [String: Any]
        #expect((json["ppv_at_prior"] as? [String: [String: Double]])?["0.1"]?["0.34"] == 0.25)
        #expect(json["pseudo_targets"] as? [Int] == [2])
        let decoded = try RunSummary.decoder.decode(AttackEvaluation.self, from: RunSummary.encoder.encode(e))
        #expect(decoded == e)
        // The same scores as their own pseudo-target: the chosen threshold reproduces the oracle.
        #expect(decoded.referenceThreshold?["0.0"]?.targetTPR == 0.5)
    }

    @Test func configKeys() throws {
        let c = try AuditConfig.parse(goodConfig, file: "/x/test.yaml")
        #expect(c.priors == [0.01, 0.1])
        #expect(c.pseudoTargets == 4)
        let zero = try AuditConfig.parse(
            goodConfig.replacingOccurrences(of: "[0.01, 0.1]", with: "[0, 0.01]\n  priors: [0.5]\n  pseudo_targets: 1"),
            file: "/x/test.yaml")
        #expect(zero.fprs == [0, 0.01])
        #expect(zero.priors == [0.5])
        #expect(zero.pseudoTargets == 1)
        let negative = try #require(
            parseError(goodConfig.replacingOccurrences(of: "[0.01, 0.1]", with: "[-0.01, 0.1]")))
        #expect(negative.key == "audit.fprs[0]")
        let prior = try #require(
            parseError(goodConfig.replacingOccurrences(of: "[0.01, 0.1]", with: "[0.01]\n  priors: [0.1, 1]")))
        #expect(prior.key == "audit.priors[1]")
        let many = try #require(
            parseError(goodConfig.replacingOccurrences(of: "[0.01, 0.1]", with: "[0.01]\n  pseudo_targets: 3")))
        #expect(many.key == "audit.pseudo_targets")
        #expect(many.message.contains("2 reference model"))
    }
}
