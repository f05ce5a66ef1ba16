import Foundation
import Kernels
import PluginKit

/// A trained attack classifier on the target's outputs, as in TensorFlow Privacy's trained
/// attacks (itself after Shokri et al. 2017 and Salem et al. 2019).
///
/// The attacker knows the membership of a random `train_fraction` of the audit set (the same
/// fraction of its members and of its non-members). An attack model (`model`) is fitted on the
/// chosen `features` of those records and gives every audit record its member probability,
/// the score; the training records are set to 0 in the evaluation mask, so only the rest is
/// evaluated. Higher score = member.
public final class ClassifierAttack: AttackStrategy {
    public static let name = "classifier"
    public static let summary =
        "Trained attack classifier (TensorFlow Privacy; Shokri et al. 2017): logistic regression, MLP, k-NN or random forest on output features, score = member probability; higher score = member"
    public static let options: [OptionSpec] =
        [
            OptionSpec(
                "features", .stringList, default: "[\"sorted_probabilities\", \"loss\"]",
                "features of each record: " + AttackFeature.allCases.map(\.rawValue).joined(separator: ", ")),
            OptionSpec("top_k", .int, default: "3", "number of largest probabilities for the `top_k` feature").atLeast(
                1),
            OptionSpec(
                "train_fraction", .float, default: "0.5",
                "fraction (0, 1) of the audit members and non-members the attack model trains on (left out of the evaluation)"
            ).above(0).atMost(1, exclusive: true),
        ] + AttackModelKind.options(defaultModel: .logisticRegression)

    /// The `features`, `top_k` and `train_fraction` options.
    public let features: [AttackFeature]
    public let topK: Int
    public let trainFraction: Double
    let model: AttackModelOptions

    public init(options: PluginOptions, host: HostServices) throws {
        let names = options.has("features") ? try options.strings("features") : ["sorted_probabilities", "loss"]
        features = try names.map { name in
            guard let f = AttackFeature(rawValue: name) else {
                throw PluginError(
                    .invalidArgument,
                    "option `features`: unknown feature \"\(name)\"; known: \(AttackFeature.allCases.map(\.rawValue))")
            }
            return f
        }
        guard !features.isEmpty else {
            throw PluginError(.invalidArgument, "option `features` must name at least one feature")
        }
        topK = options.has("top_k") ? try options.int("top_k") : 3
        trainFraction = options.has("train_fraction") ? try options.double("train_fraction") : 0.5
        guard topK >= 1 else { throw PluginError(.invalidArgument, "option `top_k` must be at least 1") }
        guard trainFraction > 0 && trainFraction < 1 else {
            throw PluginError(.invalidArgument, "option `train_fraction` must be in (0, 1), got \(trainFraction)")
        }
        model = try AttackModelOptions(options, defaultModel: .logisticRegression)
    }

    public var requirements: AttackRequirements { [.knownMembership] }

    public func score(
        _ signals: Signals, into scores: UnsafeMutableBufferPointer<Double>,
        evaluationMask: UnsafeMutableBufferPointer<UInt8>
    ) throws {
        let n = signals.recordCount
        try checkLabels(signals.labels, classCount: signals.classCount, what: "audit")
        guard let membership = signals.targetMembership else {
            throw PluginError(.invalidArgument, "\(Self.name) needs the target's membership of the audit set")
        }
        let set = FeatureSet(features: features, classCount: signals.classCount, topK: topK)
        let w = set.width
        let rows = set.rows(
            logits: signals.targetLogits, labels: signals.labels, released: signals.releasedProbabilities)
        var rng = SeededRandom.derive(seed: signals.seed, 0)
        let train = stratifiedPick(membership: membership, fraction: trainFraction, rng: &rng)
        var x: [Double] = [], y: [UInt8] = []
        for i in 0..<n where train[i] {
            x.append(contentsOf: rows[(i * w)..<((i + 1) * w)])
            y.append(membership[i] != 0 ? 1 : 0)
        }
        guard y.contains(1), y.contains(0) else {
            throw PluginError(.invalidArgument, "\(Self.name) needs both members and non-members in the audit set")
        }
        var classifier = model.make()
        try classifier.fit(x, width: w, labels: y, seed: rng.next())
        let p = classifier.memberProbability(rows, width: w)
        for i in 0..<n {
            scores[i] = p[i]
            if train[i] { evaluationMask[i] = 0 }
        }
    }
}
