import Foundation
import Kernels
import PluginKit

/// The attacker's own data for the shadow-model attacks: the population set (features and
/// labels), which is disjoint from the audit set, or records synthesised by querying the target.
struct ShadowData {
    /// [count, featureSize]
    var features: [Float]
    /// [count]
    var labels: [Int32]
    var featureSize: Int
    var classCount: Int
    var query: any TargetQueries

    /// The population set of `s` (copied).
    init(_ s: Signals, attack: String) throws {
        let query = try Self.queryService(s, attack: attack)
        guard s.populationCount >= 4, let labels = s.populationLabels, let features = s.populationFeatures else {
            throw PluginError(
                .invalidArgument, "\(attack) needs a population set of at least 4 records with features and labels")
        }
        featureSize = features.count / s.populationCount
        guard featureSize > 0, featureSize * s.populationCount == features.count else {
            throw PluginError(
                .invalidArgument, "\(attack): population features do not divide into \(s.populationCount) records")
        }
        try checkLabels(labels, classCount: s.classCount, what: "population")
        self.features = Array(features)
        self.labels = Array(labels)
        self.classCount = s.classCount
        self.query = query
    }

    /// Records made elsewhere (a synthesis): `features` [count, featureSize], `labels` [count].
    init(features: [Float], labels: [Int32], featureSize: Int, classCount: Int, query: any TargetQueries) {
        self.features = features
        self.labels = labels
        self.featureSize = featureSize
        self.classCount = classCount
        self.query = query
    }

    /// The host's query service, or an error naming `attack`.
    static func queryService(_ s: Signals, attack: String) throws -> any TargetQueries {
        guard let query = s.query else {
            throw PluginError(.unsupported, "\(attack) needs the host's query service to train shadow models")
        }
        return query
    }

    /// Trains one shadow model on a random half of the population (the IN half) and returns
    /// its logits on both halves with the membership of each record: `logits` [2m, C],
    /// `labels` [2m], `membership` [2m] (1 = IN), m = ⌊P/2⌋.
    func shadowOutputs(rng: inout SeededRandom) throws -> (logits: [Float], labels: [Int32], membership: [UInt8]) {
        let p = labels.count, m = p / 2
        let order = rng.permutation(p)
        func gather(_ idx: ArraySlice<Int>) -> ([Float], [Int32]) {
            var f = [Float](), l = [Int32]()
            f.reserveCapacity(idx.count * featureSize)
            for i in idx {
                f.append(contentsOf: features[(i * featureSize)..<((i + 1) * featureSize)])
                l.append(labels[i])
            }
            return (f, l)
        }
        let (inF, inL) = gather(order[0..<m])
        let (outF, outL) = gather(order[m..<(2 * m)])
        let shadow = try query.trainShadow(features: inF, labels: inL, seed: rng.next())
        let inLogits = try shadow.predict(features: inF, count: m)
        let outLogits = try shadow.predict(features: outF, count: m)
        guard inLogits.count == m * classCount, outLogits.count == m * classCount else {
            throw PluginError(
                .internal, "a shadow model returned \(inLogits.count) logits for \(m) records of \(classCount) classes")
        }
        return (
            inLogits + outLogits, inL + outL,
            [UInt8](repeating: 1, count: m) + [UInt8](repeating: 0, count: m)
        )
    }
}

/// Rows of `set` for logits and labels held in arrays.
func featureRows(_ set: FeatureSet, logits: [Float], labels: [Int32], released: Bool) -> [Double] {
    logits.withUnsafeBufferPointer { l in
        labels.withUnsafeBufferPointer { set.rows(logits: l, labels: $0, released: released) }
    }
}
