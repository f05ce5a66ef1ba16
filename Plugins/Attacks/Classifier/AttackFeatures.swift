import Foundation
import Kernels
import PluginKit

/// The features an attack model sees for one record, from the model's logits and the label.
public enum AttackFeature: String, Sendable, CaseIterable {
    /// The softmax probabilities ([C]).
    case probabilities
    /// The probabilities sorted in descending order ([C]).
    case sortedProbabilities = "sorted_probabilities"
    /// The `top_k` largest probabilities, descending ([k]).
    case topK = "top_k"
    /// The cross-entropy loss of the true class ([1]).
    case loss
    /// The true label, one-hot ([C]).
    case label
    /// The raw logits ([C]).
    case logits

    func width(classCount c: Int, topK k: Int) -> Int {
        switch self {
        case .loss: 1
        case .topK: min(k, c)
        default: c
        }
    }
}

/// A list of features and the rows they make.
public struct FeatureSet: Sendable {
    /// The features, in row order.
    public var features: [AttackFeature]
    /// C, the width of the logits.
    public var classCount: Int
    /// k of the `top_k` feature (at most C).
    public var topK: Int

    /// The set of `features` for `classCount` classes.
    public init(features: [AttackFeature], classCount: Int, topK: Int) {
        self.features = features
        self.classCount = classCount
        self.topK = topK
    }

    /// Floats per row: the sum of the features' widths.
    public var width: Int { features.reduce(0) { $0 + $1.width(classCount: classCount, topK: topK) } }

    /// Rows ([count, width]) for `logits` ([count, C]) and `labels` ([count]).
    ///
    /// `released`: the rows are what an output defence released, `log max(p', 1e-12)`
    /// (`Signals.releasedProbabilities`): the probabilities are then `exp` of them as released, not
    /// renormalised by a softmax (which would turn top-1's [p, 0, ...] into [1, 0, ...]), and the
    /// loss is `-log p'_y`.
    public func rows(logits: UnsafeBufferPointer<Float>, labels: UnsafeBufferPointer<Int32>, released: Bool = false)
        -> [Double]
    {
        let c = classCount, n = labels.count, w = width
        var out = [Double](repeating: 0, count: n * w)
        var p = [Double](repeating: 0, count: c)
        p.withUnsafeMutableBufferPointer { pp in
            for i in 0..<n {
                let z = UnsafeBufferPointer(rebasing: logits[(i * c)..<((i + 1) * c)])
                let y = Int(labels[i])
                if released {
                    for j in 0..<c { pp[j] = exp(Double(z[j])) }
                } else {
                    Probability.softmax(z, into: pp)
                }
                var sorted: [Double] = []
                var col = i * w
                for f in features {
                    switch f {
                    case .probabilities:
                        for j in 0..<c { out[col + j] = pp[j] }
                    case .sortedProbabilities, .topK:
                        if sorted.isEmpty { sorted = pp.sorted(by: >) }
                        for j in 0..<f.width(classCount: c, topK: topK) { out[col + j] = sorted[j] }
                    case .loss:
                        out[col] = released ? -Double(z[y]) : Probability.crossEntropy(z, label: y)
                    case .label:
                        out[col + y] = 1
                    case .logits:
                        for j in 0..<c { out[col + j] = Double(z[j]) }
                    }
                    col += f.width(classCount: c, topK: topK)
                }
            }
        }
        return out
    }
}

/// Picks `fraction` of the members and of the non-members (rounded, at least one of each when
/// possible) at random: returns a mask, true for the picked records.
func stratifiedPick(membership: UnsafeBufferPointer<UInt8>, fraction: Double, rng: inout SeededRandom) -> [Bool] {
    let n = membership.count
    var members = (0..<n).filter { membership[$0] != 0 }
    var others = (0..<n).filter { membership[$0] == 0 }
    rng.shuffle(&members)
    rng.shuffle(&others)
    var picked = [Bool](repeating: false, count: n)
    for group in [members, others] {
        let k = min(group.count, max(1, Int((fraction * Double(group.count)).rounded())))
        for i in group.prefix(k) { picked[i] = true }
    }
    return picked
}

/// Checks every label names one of `classCount` classes.
func checkLabels(_ labels: UnsafeBufferPointer<Int32>, classCount: Int, what: String) throws {
    if let bad = labels.firstIndex(where: { $0 < 0 || Int($0) >= classCount }) {
        throw PluginError(
            .invalidArgument, "\(what) label \(labels[bad]) at record \(bad) is outside 0..<\(classCount)")
    }
}
