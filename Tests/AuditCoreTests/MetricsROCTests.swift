import Foundation
import Testing

@testable import AuditCore

@Suite("ROC and AUC")
struct MetricsROCTests {
    @Test("AUC equals the brute-force pair count, ties one half", arguments: [0.1, 0.5, 1.0, nil])
    func aucMatchesBruteForce(step: Double?) {
        for seed in UInt64(1)...4 {
            let (scores, members) = syntheticScores(n: 400, shift: 0.7, step: step, seed: seed)
            let curve = rocCurve(scores: scores, isMember: members)
            let expected = bruteForceAUC(scores, members)
            #expect(abs(curve.auc - expected) < 1e-12)
            let m = membershipMetrics(
                scores: scores, isMember: members, fprs: [0.01], threshold: nil,
                bootstrapSamples: 0, level: 0.95, seed: 0)
            #expect(abs(m.auc - expected) < 1e-12)
        }
    }

    @Test("Tied scores move as one step, whatever the input order")
    func tiesAreOneStep() {
        let scores = [1.0, 1, 1, 1, 0]
        let a = rocCurve(scores: scores, isMember: [true, false, true, false, false])
        let b = rocCurve(scores: scores, isMember: [false, true, false, true, false])
        #expect(a == b)
        #expect(a.falsePositiveRates == [0, 2.0 / 3, 1])
        #expect(a.truePositiveRates == [0, 1, 1])
        #expect(a.thresholds == [.infinity, 1, 0])
        // Members and non-members tied everywhere: chance, and nothing at FPR 0.
        let flat = rocCurve(scores: [2, 2, 2, 2], isMember: [true, false, true, false])
        #expect(flat.auc == 0.5)
        #expect(flat.truePositiveRate(atFalsePositiveRate: 0.4) == 0)
    }

    @Test("TPR at FPR equals the best threshold found by brute force", arguments: [0.0, 0.01, 0.05, 0.2, 0.5])
    func tprMatchesBruteForce(fpr: Double) {
        let (scores, members) = syntheticScores(n: 300, shift: 1.0, step: 0.25, seed: 9)
        let m = membershipMetrics(
            scores: scores, isMember: members, fprs: [fpr], threshold: nil,
            bootstrapSamples: 0, level: 0.95, seed: 0)
        #expect(abs(m.tprAtFPR[fprKey(fpr)]! - bruteForceTPR(scores, members, atFPR: fpr)) < 1e-12)
    }

    /// Ten records worked by hand (m = member, n = non-member), P = 4, N = 6:
    /// 0.9m 0.8n 0.7m 0.6m 0.5n 0.4n 0.3m 0.2n 0.1n 0.05n.
    /// Curve: (0, 1/4) (1/6, 1/4) (1/6, 1/2) (1/6, 3/4) (2/6, 3/4) (3/6, 3/4) (3/6, 1) ...
    /// AUC = (6 + 5 + 5 + 3) / 24. Best TPR - FPR = 3/4 - 1/6 at threshold 0.6.
    @Test("Hand-built example")
    func handBuilt() {
        let scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05]
        let members = [true, false, true, true, false, false, true, false, false, false]
        let m = membershipMetrics(
            scores: scores.reversed(), isMember: members.reversed(),
            fprs: [0, 0.1, 0.2, 0.5, 0.9], threshold: nil,
            bootstrapSamples: 0, level: 0.95, seed: 0)
        #expect(abs(m.auc - 19.0 / 24) < 1e-12)
        #expect(m.tprAtFPR == ["0.0": 0.25, "0.1": 0.25, "0.2": 0.75, "0.5": 1.0, "0.9": 1.0])
        #expect(abs(m.attackerAdvantage - (0.75 - 1.0 / 6)) < 1e-12)
        #expect(m.threshold == 0.6)
        #expect(
            m.confusionMatrix
                == ConfusionMatrix(
                    truePositives: 3, falsePositives: 1,
                    trueNegatives: 5, falseNegatives: 1))
        #expect(abs(m.balancedAccuracy - (0.75 + 5.0 / 6) / 2) < 1e-12)
        #expect(m.ppv == 0.75)
        #expect(m.recordCount == 10 && m.memberCount == 4)
        // A given threshold is used as is.
        let fixed = membershipMetrics(
            scores: scores, isMember: members, fprs: [], threshold: 0.3,
            bootstrapSamples: 0, level: 0.95, seed: 0)
        #expect(
            fixed.confusionMatrix
                == ConfusionMatrix(
                    truePositives: 4, falsePositives: 3,
                    trueNegatives: 3, falseNegatives: 0))
    }

    @Test("FPR keys are spelled the short way")
    func keys() {
        #expect(fprKey(0.001) == "0.001")
        #expect(fprKey(0.01) == "0.01")
        #expect(fprKey(0.1) == "0.1")
    }

    @Test("CSV of the curve")
    func csv() {
        let curve = rocCurve(scores: [0.5, 0.25], isMember: [true, false])
        #expect(curve.csv == "fpr,tpr,threshold\n0.0,0.0,inf\n0.0,1.0,0.5\n1.0,1.0,0.25\n")
    }
}
