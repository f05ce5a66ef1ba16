import AttacksClassifier
import Foundation
import Kernels
import MIATestSupport
import PluginKit
import Testing

/// The loss-trajectory attack (Liu et al. 2022) on hand-built checkpoint logits: its trajectories
/// against the cross-entropy written out, its logistic attack model against an independent fit
/// (plain gradient descent on the same penalised likelihood), and a known separation that the
/// final loss alone cannot see.
@Suite struct LossTrajectoryTests {
    /// Two classes; a model's logits on record i are (a, 0) or (0, a) by its label, so that the
    /// loss is log(1 + e^{-a}). `a[m][e][i]`: model m (0 the target, then the references) at
    /// checkpoint e (the last index is the final model).
    static func storage(_ a: [[[Double]]], labels: [Int32], referenceMembership: [UInt8], epochs: [Int]) -> TestSignals
    {
        func logits(_ values: [Double]) -> [Float] {
            values.indices.flatMap { i in labels[i] == 0 ? [Float(values[i]), 0] : [0, Float(values[i])] }
        }
        let e = epochs.count, r = a.count - 1
        let s = TestSignals(
            classCount: 2, labels: labels, targetLogits: logits(a[0][e]), referenceCount: r,
            referenceLogits: (1...r).flatMap { logits(a[$0][e]) }, referenceMembership: referenceMembership)
        s.checkpointEpochs = epochs
        s.checkpointTargetLogits = (0..<e).flatMap { logits(a[0][$0]) }
        s.checkpointReferenceLogits = (0..<e).flatMap { k in (1...r).flatMap { logits(a[$0][k]) } }
        return s
    }

    /// Cross-entropy written out: log Σ_j e^{z_j} − z_y, no stabilisation (small logits).
    static func directLoss(_ z: [Double], _ y: Int) -> Double {
        Foundation.log(z.map { Foundation.exp($0) }.reduce(0, +)) - z[y]
    }

    @Test func trajectoriesAreTheLossAtEachCheckpointThenTheFinalModel() {
        let labels: [Int32] = [0, 2]
        // Three classes, two checkpoints and the final model, two records.
        let epoch1: [Float] = [2, 0, 1, 0.5, -1, 3], epoch2: [Float] = [1, 1, 1, -2, 0, 0.25],
            final: [Float] = [4, -1, 0, 0, 0, 6]
        let rows = labels.withUnsafeBufferPointer { l in
            epoch1.withUnsafeBufferPointer { e1 in
                epoch2.withUnsafeBufferPointer { e2 in
                    final.withUnsafeBufferPointer { f in
                        LossTrajectoryAttack.trajectories(checkpoints: [e1, e2], final: f, labels: l, classCount: 3)
                    }
                }
            }
        }
        #expect(rows.count == 6)
        for (e, z) in [epoch1, epoch2, final].enumerated() {
            for i in 0..<2 {
                let row = (0..<3).map { Double(z[i * 3 + $0]) }
                #expect(abs(rows[i * 3 + e] - Self.directLoss(row, Int(labels[i]))) < 1e-12, "record \(i), column \(e)")
            }
        }
        // The uniform row of epoch 2, record 0: log 3.
        #expect(abs(rows[1] - Foundation.log(3)) < 1e-12)
    }

    @Test func logisticScoresMatchAnIndependentFitOnHandBuiltTrajectories() throws {
        // Two reference models and the target, 24 records, checkpoints at epochs 2 and 5: members
        // gain margin earlier (+0.8 at epoch 2, +0.5 at epoch 5, +0.3 at the end), with noise so
        // that the classes overlap and the fit is well-conditioned.
        var rng = SeededRandom(seed: 23)
        let n = 24, r = 2
        let labels = (0..<n).map { Int32($0 % 2) }
        let membership = (0..<(r * n)).map { _ in UInt8(rng.nextInt(below: 2)) }
        let targetMembership = (0..<n).map { _ in rng.nextInt(below: 2) == 1 }
        let boost = [0.8, 0.5, 0.3]
        let a: [[[Double]]] = (0...r).map { m in
            (0..<3).map { e in
                (0..<n).map { i in
                    let member = m == 0 ? targetMembership[i] : membership[(m - 1) * n + i] != 0
                    return 0.5 + Double(e) * 0.4 + (member ? boost[e] : 0) + rng.nextGaussian() * 0.6
                }
            }
        }
        let s = Self.storage(a, labels: labels, referenceMembership: membership, epochs: [2, 5])
        let attack = try LossTrajectoryAttack(
            options: opts(["model": .string("logistic_regression")]), host: .standalone)
        #expect(attack.requirements == [.referenceModels, .checkpoints])
        let (scores, mask) = try s.score(with: attack, seed: 4)
        #expect(mask == [UInt8](repeating: 1, count: n), "the target's membership is never trained on")

        func loss(_ v: Double) -> Double { Self.directLoss([v, 0], 0) }
        let x = (1...r).flatMap { m in (0..<n).map { i in (0..<3).map { loss(a[m][$0][i]) } } }
        let y = membership.map { Double($0) }
        let target = (0..<n).map { i in (0..<3).map { loss(a[0][$0][i]) } }
        let expected = independentLogisticRegression(x, y, predict: target)
        for i in 0..<n { #expect(abs(scores[i] - expected[i]) < 1e-6, "record \(i): \(scores[i]) vs \(expected[i])") }
        // Not a constant: the fit found the members' earlier fall.
        #expect(Set(scores.map { ($0 * 1e6).rounded() }).count > n / 2)
    }

    /// Members learn early (margin 2 from the first checkpoint), non-members never before the end,
    /// and both end at the same margin: the final loss alone ranks them by chance, the
    /// trajectory almost perfectly (default attack model, the MLP).
    @Test func theTrajectorySeesWhatTheFinalLossCannot() throws {
        var rng = SeededRandom(seed: 31)
        let n = 300, r = 4, e = 3
        let labels = (0..<n).map { _ in Int32(rng.nextInt(below: 2)) }
        let membership = (0..<(r * n)).map { _ in UInt8(rng.nextInt(below: 2)) }
        let targetMembership = (0..<n).map { _ in UInt8(rng.nextInt(below: 2)) }
        let a: [[[Double]]] = (0...r).map { m in
            (0...e).map { k in
                (0..<n).map { i in
                    let member = (m == 0 ? targetMembership[i] : membership[(m - 1) * n + i]) != 0
                    return (k == e ? 1.5 : (member ? 2 : 0)) + rng.nextGaussian() * 0.5
                }
            }
        }
        let s = Self.storage(a, labels: labels, referenceMembership: membership, epochs: [1, 2, 3])
        let (scores, _) = try s.score(with: try LossTrajectoryAttack(options: opts(), host: .standalone), seed: 9)
        let finalLoss = (0..<n).map { -Self.directLoss([a[0][e][$0], 0], 0) }
        let trajectoryAUC = bruteForceAUC(scores: scores, membership: targetMembership)
        let lossAUC = bruteForceAUC(scores: finalLoss, membership: targetMembership)
        #expect(trajectoryAUC > 0.97, "trajectory AUC \(trajectoryAUC)")
        #expect(abs(lossAUC - 0.5) < 0.1, "final-loss AUC \(lossAUC)")
    }

    @Test func withoutCheckpointsTheAttackSaysWhatToSet() throws {
        let s = TestSignals(
            classCount: 2, labels: [0, 1], targetLogits: [1, 0, 0, 1], referenceCount: 1,
            referenceLogits: [1, 0, 0, 1],
            referenceMembership: [1, 0])
        let attack = try LossTrajectoryAttack(options: opts(), host: .standalone)
        let error = #expect(throws: PluginError.self) { try s.score(with: attack) }
        #expect("\(error.map { "\($0)" } ?? "")".contains("audit.checkpoints"))
    }

    /// `Signals.checkpoint(e)` views epoch e's slices in place; the population stays the final one.
    @Test func aCheckpointViewIsThatEpochsSlice() {
        let s = Self.storage(
            [[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 10], [11, 12]]], labels: [0, 1], referenceMembership: [1, 0],
            epochs: [4, 8])
        s.withSignals { signals in
            #expect(signals.checkpointCount == 2 && signals.checkpointEpochs == [4, 8])
            let view = signals.checkpoint(1)
            #expect(Array(view.targetLogits) == [3, 0, 0, 4])
            #expect(Array(view.referenceLogits!) == [9, 0, 0, 10])
            #expect(view.checkpointCount == 0 && view.checkpointTargetLogits == nil)
            #expect(Array(signals.targetLogits) == [5, 0, 0, 6])
        }
    }
}
