import Foundation
import Kernels
import PluginKit

/// What distinguishes one threshold attack from another: its name, paper and signal.
public protocol ThresholdKind {
    static var name: String { get }
    static var summary: String { get }
    /// Options beyond `class_thresholds`.
    static var extraOptions: [OptionSpec] { get }
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

    public let signal: OutputSignal
    public let classThresholds: Bool

    public init(options: PluginOptions, host: HostServices) throws {
        signal = try Kind.signal(options)
        classThresholds = options.has("class_thresholds") ? try options.bool("class_thresholds") : false
    }

    public var requirements: AttackRequirements { classThresholds ? [.population] : [] }

    public func score(_ signals: Signals, into scores: UnsafeMutableBufferPointer<Double>, evaluationMask: UnsafeMutableBufferPointer<UInt8>) throws {
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
            throw PluginError(.invalidArgument, "\(Self.name): `class_thresholds` needs a population set with target logits")
        }
        try checkLabels(popLabels, classCount: c, what: "population")
        let popValues = signal.values(logits: popLogits, labels: popLabels, classCount: c)
        let standardise = ClassStandardiser(values: popValues, labels: popLabels, classCount: c)
        for i in values.indices { scores[i] = standardise(values[i], class: Int(signals.labels[i])) }
    }
}

/// Per-class mean and deviation of a statistic over known non-members (see `ThresholdAttack`).
public struct ClassStandardiser: Sendable {
    public var mean: [Double]
    public var deviation: [Double]

    public init(values: [Double], labels: UnsafeBufferPointer<Int32>, classCount c: Int) {
        let pooled = Statistics.meanVariance(values)
        let pooledSD = pooled.variance > 1e-24 ? pooled.variance.squareRoot() : 1
        var byClass = [[Double]](repeating: [], count: c)
        for (v, y) in zip(values, labels) { byClass[Int(y)].append(v) }
        mean = []
        deviation = []
        for k in 0..<c {
            let (m, v) = Statistics.meanVariance(byClass[k])
            if byClass[k].count >= 2 && v > 1e-24 {
                mean.append(m)
                deviation.append(v.squareRoot())
            } else {
                mean.append(byClass[k].count >= 2 ? m : pooled.mean)
                deviation.append(pooledSD)
            }
        }
    }

    public func callAsFunction(_ value: Double, class k: Int) -> Double { (value - mean[k]) / deviation[k] }
}

// MARK: The attacks

public enum LossKind: ThresholdKind {
    public static let name = "loss-threshold"
    public static let summary =
        "Loss threshold (Yeom et al. 2018): score = -loss of the true class; higher score = member"
    public static var extraOptions: [OptionSpec] {
        [LossFunction.option("loss: cross_entropy (-log p_y), probability (1 - p_y), normalized_probability (1 - p_y / max p)")]
    }
    public static func signal(_ options: PluginOptions) throws -> OutputSignal {
        .negativeLoss(options.has("loss") ? try LossFunction(option: options) : .crossEntropy)
    }
}

public enum ConfidenceKind: ThresholdKind {
    public static let name = "confidence"
    public static let summary =
        "Confidence threshold (Salem et al. 2019; Song & Mittal 2021): score = p of the true class; higher score = member"
    public static var extraOptions: [OptionSpec] { [] }
    public static func signal(_ options: PluginOptions) throws -> OutputSignal { .confidence }
}

public enum EntropyKind: ThresholdKind {
    public static let name = "entropy"
    public static let summary =
        "Entropy threshold (Salem et al. 2019; Song & Mittal 2021): score = -entropy of the prediction; higher score = member"
    public static var extraOptions: [OptionSpec] { [] }
    public static func signal(_ options: PluginOptions) throws -> OutputSignal { .negativeEntropy }
}

public enum ModifiedEntropyKind: ThresholdKind {
    public static let name = "modified-entropy"
    public static let summary =
        "Modified entropy threshold (Song & Mittal 2021): score = -Mentr(p, y); higher score = member"
    public static var extraOptions: [OptionSpec] { [] }
    public static func signal(_ options: PluginOptions) throws -> OutputSignal { .negativeModifiedEntropy }
}

public enum CorrectnessKind: ThresholdKind {
    public static let name = "correctness"
    public static let summary =
        "Correctness (Yeom et al. 2018; Song & Mittal 2021): score = 1 if the predicted class is the true class; higher score = member"
    public static var extraOptions: [OptionSpec] { [] }
    public static func signal(_ options: PluginOptions) throws -> OutputSignal { .correctness }
}

public typealias LossThresholdAttack = ThresholdAttack<LossKind>
public typealias ConfidenceAttack = ThresholdAttack<ConfidenceKind>
public typealias EntropyAttack = ThresholdAttack<EntropyKind>
public typealias ModifiedEntropyAttack = ThresholdAttack<ModifiedEntropyKind>
public typealias CorrectnessAttack = ThresholdAttack<CorrectnessKind>
