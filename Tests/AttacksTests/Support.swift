import Foundation
import Kernels
import PluginKit

/// Options from a dictionary literal.
func opts(_ values: [String: OptionValue] = [:]) -> PluginOptions { PluginOptions(values) }

/// AUC by brute force over every (member, non-member) pair of the evaluated records: the
/// fraction of pairs the score orders correctly, ties counting one half.
func bruteForceAUC(scores: [Double], membership: [UInt8], mask: [UInt8]? = nil) -> Double {
    var members: [Double] = [], others: [Double] = []
    for i in scores.indices where mask == nil || mask![i] != 0 {
        if membership[i] != 0 { members.append(scores[i]) } else { others.append(scores[i]) }
    }
    var wins = 0.0
    for m in members {
        for o in others { wins += m > o ? 1 : (m == o ? 0.5 : 0) }
    }
    return wins / Double(members.count * others.count)
}

/// Softmax probability of class y written out directly (no stabilisation: test logits are small).
func directSoftmax(_ z: ArraySlice<Float>) -> [Double] {
    let e = z.map { Foundation.exp(Double($0)) }
    let s = e.reduce(0, +)
    return e.map { $0 / s }
}

/// Random signals where members of each model have a higher true-class logit.
///
/// N audit records, C classes, R reference models each holding a random half IN, P population
/// records (non-members of every model). A model's logits are Gaussian noise plus a per-record
/// difficulty on the true class, plus `memberBoost` when the model trained on the record.
func syntheticSignals(
    n: Int, c: Int, r: Int, p: Int, memberBoost: Float = 1.5, seed: UInt64 = 7
) -> TestSignals {
    var rng = SeededRandom(seed: seed)
    let labels = (0..<n).map { _ in Int32(rng.nextInt(below: c)) }
    let popLabels = (0..<p).map { _ in Int32(rng.nextInt(below: c)) }
    let difficulty = (0..<n).map { _ in Float(rng.nextGaussian()) }
    let popDifficulty = (0..<p).map { _ in Float(rng.nextGaussian()) }
    let targetMembership = (0..<n).map { _ in UInt8(rng.nextInt(below: 2)) }
    let refMembership = (0..<(r * n)).map { _ in UInt8(rng.nextInt(below: 2)) }
    func logits(_ labels: [Int32], _ difficulty: [Float], _ member: (Int) -> Bool) -> [Float] {
        var out = [Float](repeating: 0, count: labels.count * c)
        for i in labels.indices {
            for j in 0..<c { out[i * c + j] = Float(rng.nextGaussian()) * 0.7 }
            out[i * c + Int(labels[i])] += 1.5 + difficulty[i] + (member(i) ? memberBoost : 0)
        }
        return out
    }
    let target = logits(labels, difficulty) { targetMembership[$0] != 0 }
    var reference: [Float] = []
    for m in 0..<r { reference += logits(labels, difficulty) { refMembership[m * n + $0] != 0 } }
    let popTarget = logits(popLabels, popDifficulty) { _ in false }
    var popReference: [Float] = []
    for _ in 0..<r { popReference += logits(popLabels, popDifficulty) { _ in false } }
    return TestSignals(
        classCount: c, labels: labels, targetLogits: target, referenceCount: r, referenceLogits: reference,
        referenceMembership: refMembership, populationLabels: popLabels, populationTargetLogits: popTarget,
        populationReferenceLogits: popReference, targetMembership: targetMembership)
}

/// A fake of the host's query service: a "model" is a fixed linear map W ([C, featureSize]) plus
/// memorisation: a record it trained on (recognised by exact feature match) gets `boost` added
/// to its true-class logit. Deterministic and cheap.
final class FakeQueries: TargetQueries {
    let classCount: Int
    let featureSize: Int
    let boost: Float
    /// [C, featureSize]
    let weights: [Float]
    private(set) var shadowsTrained = 0
    /// Records the target was asked about, and the calls that asked.
    private(set) var targetQueries = 0, targetCalls = 0

    init(classCount: Int, featureSize: Int, boost: Float, weights: [Float]) {
        self.classCount = classCount
        self.featureSize = featureSize
        self.boost = boost
        self.weights = weights
    }

    /// Logits of a model that memorised `training` (feature rows -> label).
    func logits(features: [Float], count: Int, training: [[Float]: Int32]) -> [Float] {
        var out = [Float](repeating: 0, count: count * classCount)
        for i in 0..<count {
            let x = Array(features[(i * featureSize)..<((i + 1) * featureSize)])
            for k in 0..<classCount {
                var s: Float = 0
                for j in 0..<featureSize { s += weights[k * featureSize + j] * x[j] }
                out[i * classCount + k] = s
            }
            if let y = training[x] { out[i * classCount + Int(y)] += boost }
        }
        return out
    }

    var targetTraining: [[Float]: Int32] = [:]

    func predictTarget(features: [Float], count: Int) throws -> [Float] {
        targetQueries += count
        targetCalls += 1
        return logits(features: features, count: count, training: targetTraining)
    }

    func trainShadow(features: [Float], labels: [Int32], seed: UInt64) throws -> any ShadowModel {
        shadowsTrained += 1
        var training: [[Float]: Int32] = [:]
        for i in labels.indices { training[Array(features[(i * featureSize)..<((i + 1) * featureSize)])] = labels[i] }
        return FakeShadow(queries: self, training: training)
    }

    final class FakeShadow: ShadowModel {
        let queries: FakeQueries
        let training: [[Float]: Int32]
        init(queries: FakeQueries, training: [[Float]: Int32]) {
            self.queries = queries
            self.training = training
        }
        func predict(features: [Float], count: Int) throws -> [Float] {
            queries.logits(features: features, count: count, training: training)
        }
    }
}
