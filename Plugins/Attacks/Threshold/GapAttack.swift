import Kernels
import PluginKit

/// The gap attack, label-only (Yeom et al. 2018; the baseline of Choquette-Choo et al. 2021):
/// it sees only the predicted label, and calls a record a member when the target classifies it
/// correctly. Score 1 when the predicted class (the first largest logit) is the true class, else
/// 0; higher score = member. Its advantage is the train-test accuracy gap.
public final class GapAttack: AttackStrategy {
    public static let name = "gap"
    public static let summary =
        "Gap attack, label-only (Yeom et al. 2018; Choquette-Choo et al. 2021): score = 1 if predicted label is correct; higher score = member"
    public static let options: [OptionSpec] = []

    public init(options: PluginOptions, host: HostServices) throws {}

    public var requirements: AttackRequirements { [] }

    public func score(
        _ signals: Signals, into scores: UnsafeMutableBufferPointer<Double>,
        evaluationMask: UnsafeMutableBufferPointer<UInt8>
    ) throws {
        let c = signals.classCount
        try checkLabels(signals.labels, classCount: c, what: "audit")
        for i in 0..<signals.recordCount {
            scores[i] = Probability.argmax(signals.targetRow(i)) == Int(signals.labels[i]) ? 1 : 0
        }
    }
}
