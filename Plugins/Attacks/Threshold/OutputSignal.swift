import Foundation
import Kernels
import PluginKit

/// A per-record statistic of one model's output that a threshold attack ranks records by,
/// oriented so that a higher value means "member".
public enum OutputSignal: Sendable, Equatable {
    /// Minus a loss of the true class (see `LossFunction`).
    case negativeLoss(LossFunction)
    /// `p_y`: the probability of the true class.
    case confidence
    /// `-H(p) = Σ_j p_j log p_j`.
    case negativeEntropy
    /// `-Mentr(p, y)` with `Mentr = -(1 - p_y) log p_y - Σ_{j≠y} p_j log(1 - p_j)` (Song & Mittal 2021).
    case negativeModifiedEntropy
    /// 1 when the predicted class (the first largest logit) is the true class, else 0.
    case correctness

    /// The value for one logits row ([C]) with true class `y`.
    ///
    /// Log-probabilities come from `Probability.logSoftmax`; `1 - p_y` from `expm1` and
    /// `log(1 - p_j)` from `log1mExp`, so the modified entropy keeps its relative precision when
    /// a probability is near 1 (where it is of the order of the other probabilities squared).
    @inlinable
    public func value(_ z: UnsafeBufferPointer<Float>, label y: Int, scratch: UnsafeMutableBufferPointer<Double>)
        -> Double
    {
        switch self {
        case .negativeLoss(let loss):
            return -loss.value(z, label: y)
        case .confidence:
            return exp(Probability.logProbability(z, label: y))
        case .negativeEntropy:
            Probability.logSoftmax(z, into: scratch)
            var s = 0.0
            for j in 0..<z.count { s += exp(scratch[j]) * scratch[j] }
            return s
        case .negativeModifiedEntropy:
            Probability.logSoftmax(z, into: scratch)
            // -(1 - p_y) log p_y, with 1 - p_y = -expm1(log p_y) exact when p_y is near 1.
            var m = expm1(scratch[y]) * scratch[y]
            for j in 0..<z.count where j != y {
                m -= exp(scratch[j]) * Probability.log1mExp(min(0, scratch[j]))
            }
            return -m
        case .correctness:
            return Probability.argmax(z) == y ? 1 : 0
        }
    }

    /// Values for every row of `logits` ([n, C]) with `labels` ([n]).
    public func values(logits: UnsafeBufferPointer<Float>, labels: UnsafeBufferPointer<Int32>, classCount c: Int)
        -> [Double]
    {
        let n = labels.count
        var scratch = [Double](repeating: 0, count: c)
        return scratch.withUnsafeMutableBufferPointer { sp in
            (0..<n).map { i in
                value(
                    UnsafeBufferPointer(rebasing: logits[(i * c)..<((i + 1) * c)]), label: Int(labels[i]), scratch: sp)
            }
        }
    }
}

/// A loss of the true class, computed from logits.
public enum LossFunction: String, Sendable, CaseIterable {
    /// `-log p_y`.
    case crossEntropy = "cross_entropy"
    /// `1 - p_y`.
    case probability
    /// `1 - p_y / max_j p_j = 1 - exp(z_y - max_j z_j)`: 0 when the true class is predicted, near 1
    /// when its probability is small next to the predicted class's. Unlike `probability` it does
    /// not saturate when the model spreads its mass over several classes.
    case normalizedProbability = "normalized_probability"

    @inlinable
    public func value(_ z: UnsafeBufferPointer<Float>, label y: Int) -> Double {
        switch self {
        case .crossEntropy:
            return Probability.crossEntropy(z, label: y)
        case .probability:
            return -expm1(Probability.logProbability(z, label: y))
        case .normalizedProbability:
            var m = -Double.infinity
            for j in 0..<z.count { m = max(m, Double(z[j])) }
            return -expm1(Double(z[y]) - m)
        }
    }

    /// The option spec naming these choices.
    static func option(_ summary: String) -> OptionSpec {
        OptionSpec("loss", .string, default: "\"cross_entropy\"", choices: allCases.map(\.rawValue), summary)
    }

    init(option options: PluginOptions) throws {
        let name = try options.string("loss")
        guard let loss = LossFunction(rawValue: name) else {
            throw PluginError(
                .invalidArgument,
                "option `loss` must be one of \(LossFunction.allCases.map(\.rawValue)), got \"\(name)\"")
        }
        self = loss
    }
}

/// Checks that every label of `labels` names one of `classCount` classes.
func checkLabels(_ labels: UnsafeBufferPointer<Int32>, classCount: Int, what: String) throws {
    if let bad = labels.firstIndex(where: { $0 < 0 || Int($0) >= classCount }) {
        throw PluginError(
            .invalidArgument, "\(what) label \(labels[bad]) at record \(bad) is outside 0..<\(classCount)")
    }
}
