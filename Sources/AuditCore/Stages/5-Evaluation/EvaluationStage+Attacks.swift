import Foundation
import Kernels

/// What the evaluation stage computes for one attack, before it goes into the summary.
struct AttackFigures {
    var evaluation: AttackEvaluation
    var roc: ROCCurve
    var epsilonUncorrected: Double
    var epsilonBound: HeldOutEpsilonBound
    var mostAtRisk: [RiskRecord]
}

extension EvaluationStage {
    /// Every attack's figures, the attacks side by side on the run's cores (W1's profile had the
    /// ε bounds' Clopper-Pearson root searches at 2 s on one core). Each attack's figures depend
    /// only on its scores and its seed (derived from `seed` and its position, as before), never
    /// on which thread computed them; they come back in the attacks' order.
    static func attackFigures(
        _ scores: [(name: String, scores: [Double], mask: [UInt8])], isMember: [Bool], labels: [Int32],
        targetCorrect: [Bool], fprs: [Double], slices: SliceOptions,
        bootstrapSamples: Int, seed: UInt64, delta: Double, topRecords: Int, onDone: (Int) -> Void
    ) -> [AttackFigures] {
        let lock = NSLock()
        var figures = [AttackFigures?](repeating: nil, count: scores.count)
        Parallel.perform(scores.count) { i in  // each call writes its own slot of `figures`, under `lock`
            let attack = scores[i]
            var attackSeed = SeededRandom.derive(seed: seed, 30_000 + UInt64(i))
            let evaluation = evaluate(
                attack: attack.name, scores: attack.scores, evaluationMask: attack.mask, isMember: isMember,
                labels: labels,
                targetCorrect: targetCorrect, fprs: fprs, slices: slices, bootstrapSamples: bootstrapSamples,
                seed: attackSeed.next())
            let kept = attack.mask.indices.filter { attack.mask[$0] != 0 }
            let roc = rocCurve(scores: kept.map { attack.scores[$0] }, isMember: kept.map { isMember[$0] })
            let uncorrected = empiricalEpsilonLowerBound(roc, delta: delta)
            let bound = heldOutEpsilonBound(
                scores: attack.scores, isMember: isMember, evaluationMask: attack.mask, delta: delta,
                seed: attackSeed.next())
            let risk = mostAtRisk(
                scores: attack.scores, isMember: isMember, evaluationMask: attack.mask, labels: labels,
                count: topRecords)
            let result = AttackFigures(
                evaluation: evaluation, roc: roc, epsilonUncorrected: uncorrected, epsilonBound: bound, mostAtRisk: risk
            )
            let done = lock.withLock { () -> Int in
                figures[i] = result
                return figures.filter { $0 != nil }.count
            }
            onDone(done)
        }
        return figures.map { $0! }
    }
}
