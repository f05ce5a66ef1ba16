import Foundation
import Kernels

/// RMIA's offline `a` chosen on the reference models (`tune_offline_a: true`), the procedure
/// Privacy Meter uses: reference model 0 plays the target, the other R - 1 models are the
/// references, and among `grid` (0, 0.01, ..., 1) the `a` whose scores give the highest AUC
/// against model 0's known membership is kept (the smallest on ties).
///
/// Everything comes from sums the attack already streams: each record's OUT probabilities and
/// model 0's probabilities, so the search reads no logits again. Cost per candidate:
/// O((N + P) log P) for the scores and O(N log N) for the AUC.
struct RMIAOfflineTuning {
    /// Model 0's true-class probability of each audit record, and whether it trained on it.
    var pseudoTarget: [Double]
    var pseudoIsMember: [Bool]
    /// Sums and counts of each audit record's OUT probabilities over models 1..<R.
    var outSum: [Double]
    var outCount: [Int]
    /// Model 0's probability of each population record, and its sum over models 1..<R.
    var populationPseudo: [Double]
    var populationSum: [Double]
    var otherModels: Int

    static let grid = (0...100).map { Double($0) / 100 }

    /// The `a` of `grid` with the highest pseudo-target AUC, with that AUC; nil when model 0
    /// lacks members or non-members among the audit records, or no other model has OUT records.
    func best(gamma: Double) -> (a: Double, auc: Double)? {
        let members = pseudoIsMember.filter { $0 }.count
        guard otherModels > 0, members > 0, members < pseudoIsMember.count, outCount.contains(where: { $0 > 0 }) else {
            return nil
        }
        var best: (a: Double, auc: Double)?
        for a in Self.grid {
            let auc = Self.auc(scores(a: a, gamma: gamma), pseudoIsMember)
            if best == nil || auc > best!.auc { best = (a, auc) }
        }
        return best
    }

    /// The offline RMIA scores of the pseudo-target at `a` (as `RMIAAttack.score` offline).
    func scores(a: Double, gamma: Double) -> [Double] {
        func logPr(_ outMean: Double) -> Double { log(max(0.5 * ((1 + a) * outMean + (1 - a)), 1e-300)) }
        let totalCount = outCount.reduce(0, +)
        let fallback = totalCount > 0 ? outSum.reduce(0, +) / Double(totalCount) : 0
        var ratioZ = populationPseudo.indices.map { j in
            log(max(populationPseudo[j], 1e-300)) - logPr(populationSum[j] / Double(otherModels))
        }
        ratioZ.sort()
        let logGamma = log(gamma), p = Double(ratioZ.count)
        return ratioZ.withUnsafeBufferPointer { sorted in
            pseudoTarget.indices.map { i in
                let mean = outCount[i] > 0 ? outSum[i] / Double(outCount[i]) : fallback
                let ratioX = log(max(pseudoTarget[i], 1e-300)) - logPr(mean)
                return Double(Statistics.countLess(sorted, ratioX - logGamma)) / p
            }
        }
    }

    /// The Mann-Whitney AUC, ties counted one half: O(n log n).
    static func auc(_ scores: [Double], _ isMember: [Bool]) -> Double {
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var rankSum = 0.0, k = 0
        while k < order.count {
            var end = k
            while end + 1 < order.count, scores[order[end + 1]] == scores[order[k]] { end += 1 }
            let midRank = Double(k + end) / 2 + 1  // ranks from 1; tied records share the mean rank
            for j in k...end where isMember[order[j]] { rankSum += midRank }
            k = end + 1
        }
        let m = Double(isMember.filter { $0 }.count), n = Double(isMember.count) - m
        return (rankSum - m * (m + 1) / 2) / (m * n)
    }
}
