import Foundation
import Kernels
import PluginKit

/// ML-Leaks, adversary 1 of Salem et al. 2019 ("ML-Leaks: Model and Data Independent
/// Membership Inference Attacks and Defenses on Machine Learning Models").
///
/// One shadow model, trained through the host's query service on a random half of the
/// population set (IN), not on the other half (OUT); one attack model on the `top_k` (3 in the
/// paper) largest probabilities, descending, of the shadow's outputs, for every class at once.
/// The score of an audit record is the attack model's member probability for the target's
/// top-k probabilities. The evaluation mask stays 1. Higher score = member.
public final class MLLeaksAttack: AttackStrategy {
    public static let name = "ml-leaks"
    public static let summary =
        "ML-Leaks (Salem et al. 2019): one shadow model, attack model on the top-3 sorted probabilities, score = member probability; higher score = member"
    public static let options: [OptionSpec] =
        [OptionSpec("top_k", .int, default: "3", "number of largest probabilities the attack model sees").atLeast(1)]
        + AttackModelKind.options(defaultModel: .mlp)

    /// The `top_k` option.
    public let topK: Int
    let model: AttackModelOptions
    let host: HostServices

    public init(options: PluginOptions, host: HostServices) throws {
        self.host = host
        topK = options.has("top_k") ? try options.int("top_k") : 3
        guard topK >= 1 else { throw PluginError(.invalidArgument, "option `top_k` must be at least 1") }
        model = try AttackModelOptions(options, defaultModel: .mlp)
    }

    public var requirements: AttackRequirements { [.queryAccess, .features, .population] }

    public func score(
        _ signals: Signals, into scores: UnsafeMutableBufferPointer<Double>,
        evaluationMask: UnsafeMutableBufferPointer<UInt8>
    ) throws {
        let c = signals.classCount
        try checkLabels(signals.labels, classCount: c, what: "audit")
        let data = try ShadowData(signals, attack: Self.name)
        let set = FeatureSet(features: [.topK], classCount: c, topK: topK)
        var rng = SeededRandom.derive(seed: signals.seed, 0)
        try host.checkCancellation()
        let (logits, labels, membership) = try data.shadowOutputs(rng: &rng)
        try host.checkCancellation()
        var classifier = model.make()
        try classifier.fit(
            featureRows(set, logits: logits, labels: labels, released: signals.releasedProbabilities), width: set.width,
            labels: membership, seed: rng.next())
        let p = classifier.memberProbability(
            set.rows(logits: signals.targetLogits, labels: signals.labels, released: signals.releasedProbabilities),
            width: set.width)
        for i in 0..<signals.recordCount { scores[i] = p[i] }
    }
}
