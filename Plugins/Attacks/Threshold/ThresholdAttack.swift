import Foundation
import Kernels
import PluginKit

/// What distinguishes one threshold attack from another: its name, paper and signal.
public protocol ThresholdKind {
    /// The component name (`loss-threshold`).
    static var name: String { get }
    /// One line naming the paper and the score direction.
    static var summary: String { get }
    /// Options beyond `class_thresholds`.
    static var extraOptions: [OptionSpec] { get }
    /// The statistic the options select.
    static func signal(_ options: PluginOptions) throws -> OutputSignal
}

/// A threshold attack on one model's outputs: the score of a record is a statistic of the
/// target's output on it (`OutputSignal`), higher meaning member.
///
/// With `class_thresholds: true` the statistic is standardised per class against the target's
/// outputs on the population set (known non-members): `score = (s - μ_c) / σ_c`, with μ_c and σ_c
/// (ddof 0) the mean and deviation of the statistic over population records of the record's
/// class c. A global threshold t on this score is the per-class threshold `μ_c + t σ_c` on the
/// statistic: every class is cut at the same distance from its own non-members, so a class the
/// model finds hard no longer floods the low-FPR region. A class with fewer than 2 population
/// records (or σ_c = 0) uses the pooled statistics of the whole population.
public final class ThresholdAttack<Kind: ThresholdKind>: AttackStrategy {
    public static var name: String { Kind.name }
    public static var summary: String { Kind.summary }
    public static var options: [OptionSpec] {
        Kind.extraOptions + [
            OptionSpec(
                "class_thresholds", .bool, default: "false",
                "standardise the score per class against the population set's non-members (needs a population set)")
        ]
    }

    /// The statistic this attack ranks by.
    public let signal: OutputSignal
    /// Whether the score is standardised per class against the population set.
    public let classThresholds: Bool

    public init(options: PluginOptions, host: HostServices) throws {
        signal = try Kind.signal(options)
        classThresholds = options.has("class_thresholds") ? try options.bool("class_thresholds") : false
    }

    public var requirements: AttackRequirements { classThresholds ? [.population] : [] }

    public func score(
        _ signals: Signals, into scores: UnsafeMutableBufferPointer<Double>,
        evaluationMask: UnsafeMutableBufferPointer<UInt8>
    ) throws {
        let c = signals.classCount
        try checkLabels(signals.labels, classCount: c, what: "audit")
        let values = signal.values(logits: signals.targetLogits, labels: signals.labels, classCount: c)
        guard classThresholds else {
            for i in values.indices { scores[i] = values[i] }
            return
        }
        guard let popLabels = signals.populationLabels, let popLogits = signals.populationTargetLogits,
            signals.populationCount > 0
        else {
            throw PluginError(
                .invalidArgument, "\(Self.name): `class_thresholds` needs a population set with target logits")
        }
        try checkLabels(popLabels, classCount: c, what: "population")
        let popValues = signal.values(logits: popLogits, labels: popLabels, classCount: c)
        let standardise = ClassStandardiser(values: popValues, labels: popLabels, classCount: c)
        for i in values.indices { scores[i] = standardise(values[i], class: Int(signals.labels[i])) }
    }
}
