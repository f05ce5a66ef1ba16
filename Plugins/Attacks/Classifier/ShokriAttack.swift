import Foundation
import Kernels
import PluginKit

/// Shadow-model attack of Shokri et al. 2017 ("Membership Inference Attacks Against Machine
/// Learning Models").
///
/// The attacker's data is the population set, disjoint from the audit set (`shadow_data:
/// population`), or records synthesised by hill-climbing queries to the target (`shadow_data:
/// synthesis`, the paper's model-based synthesis, `ShadowSynthesis`; no population needed). Each of
/// `shadow_count` shadow models, trained through the host's query service with the target's
/// architecture and recipe, learns a random half of it (IN) and not the other half (OUT). Their
/// sorted probability vectors on IN and OUT records, grouped by true class, train one attack
/// model per class (IN = member). The score of an audit record is the member probability its
/// class's attack model gives to the target's sorted probability vector (the target's outputs
/// come from the signals, the same outputs a query would give). A class with fewer than 2 IN or
/// 2 OUT shadow records falls back to one attack model trained on every class. Nothing of the
/// audit set is trained on, so the evaluation mask stays 1. Higher score = member.
public final class ShokriAttack: AttackStrategy {
    public static let name = "shokri"
    public static let summary =
        "Shadow models (Shokri et al. 2017): one attack model per class on sorted probabilities, score = member probability; higher score = member"
    public static let options: [OptionSpec] =
        [
            OptionSpec(
                "shadow_count", .int, default: "4",
                "number of shadow models, each trained on a random half of the shadow data"
            ).within(1...10_000),
            OptionSpec(
                "shadow_data", .string, default: "\"population\"", choices: ShadowSource.allCases.map(\.rawValue),
                "the shadow models' data: population (the population set) or synthesis (records synthesised by querying the target)"
            ),
        ] + ShadowSynthesis.options + AttackModelKind.options(defaultModel: .mlp)

    /// Where the shadow models' training data comes from.
    public enum ShadowSource: String, Sendable, CaseIterable {
        case population
        case synthesis
    }

    /// The `shadow_count` option.
    public let shadowCount: Int
    /// The `shadow_data` option.
    public let shadowSource: ShadowSource
    /// The synthesis options (used with `shadow_data: synthesis`).
    public let synthesis: ShadowSynthesis
    let model: AttackModelOptions
    let host: HostServices

    public init(options: PluginOptions, host: HostServices) throws {
        self.host = host
        shadowCount = options.has("shadow_count") ? try options.int("shadow_count") : 4
        guard shadowCount >= 1 else { throw PluginError(.invalidArgument, "option `shadow_count` must be at least 1") }
        let source = options.has("shadow_data") ? try options.string("shadow_data") : ShadowSource.population.rawValue
        guard let shadowSource = ShadowSource(rawValue: source) else {
            throw PluginError(
                .invalidArgument,
                "option `shadow_data` must be one of \(ShadowSource.allCases.map(\.rawValue)), got \"\(source)\"")
        }
        self.shadowSource = shadowSource
        synthesis = try ShadowSynthesis(options)
        model = try AttackModelOptions(options, defaultModel: .mlp)
    }

    public var requirements: AttackRequirements {
        shadowSource == .population ? [.queryAccess, .features, .population] : [.queryAccess, .features]
    }

    public func score(
        _ signals: Signals, into scores: UnsafeMutableBufferPointer<Double>,
        evaluationMask: UnsafeMutableBufferPointer<UInt8>
    ) throws {
        let c = signals.classCount
        try checkLabels(signals.labels, classCount: c, what: "audit")
        let data = shadowSource == .population ? try ShadowData(signals, attack: Self.name) : try synthesise(signals)
        let set = FeatureSet(features: [.sortedProbabilities], classCount: c, topK: c)
        var byClass = [(x: [Double], y: [UInt8])](repeating: ([], []), count: c)
        var all: (x: [Double], y: [UInt8]) = ([], [])
        for s in 0..<shadowCount {
            try host.checkCancellation()
            host.progress("shadow model \(s + 1)/\(shadowCount)", done: s, total: shadowCount)
            var rng = SeededRandom.derive(seed: signals.seed, UInt64(s))
            let (logits, labels, membership) = try data.shadowOutputs(rng: &rng)
            let rows = featureRows(set, logits: logits, labels: labels, released: signals.releasedProbabilities)
            for i in labels.indices {
                let row = rows[(i * c)..<((i + 1) * c)]
                byClass[Int(labels[i])].x.append(contentsOf: row)
                byClass[Int(labels[i])].y.append(membership[i])
                all.x.append(contentsOf: row)
                all.y.append(membership[i])
            }
        }
        let targetRows = set.rows(
            logits: signals.targetLogits, labels: signals.labels, released: signals.releasedProbabilities)
        var fallback: (any BinaryClassifier)?
        for k in 0..<c {
            try host.checkCancellation()
            let records = (0..<signals.recordCount).filter { Int(signals.labels[$0]) == k }
            guard !records.isEmpty else { continue }
            var x: [Double] = []
            for i in records { x.append(contentsOf: targetRows[(i * c)..<((i + 1) * c)]) }
            let ins = byClass[k].y.filter { $0 != 0 }.count, outs = byClass[k].y.count - ins
            let p: [Double]
            if ins >= 2 && outs >= 2 {
                var classifier = model.make()
                try classifier.fit(byClass[k].x, width: c, labels: byClass[k].y, seed: signals.seed &+ UInt64(1000 + k))
                p = classifier.memberProbability(x, width: c)
            } else {
                if fallback == nil {
                    var classifier = model.make()
                    try classifier.fit(all.x, width: c, labels: all.y, seed: signals.seed &+ 999)
                    fallback = classifier
                }
                p = fallback!.memberProbability(x, width: c)
            }
            for (i, v) in zip(records, p) { scores[i] = v }
        }
    }

    /// Shadow data synthesised by querying the target, logged with its query count.
    func synthesise(_ signals: Signals) throws -> ShadowData {
        let query = try ShadowData.queryService(signals, attack: Self.name)
        let d =
            signals.featureShape.isEmpty
            ? (signals.features.map { $0.count / max(signals.recordCount, 1) } ?? 0)
            : signals.featureShape.reduce(1, *)
        guard d > 0 else {
            throw PluginError(.invalidArgument, "\(Self.name) needs the record features' shape to synthesise records")
        }
        let c = signals.classCount
        var rng = SeededRandom.derive(seed: signals.seed, 0x5E_7D)
        let made = try synthesis.run(
            target: query, featureSize: d, classCount: c, rng: &rng, released: signals.releasedProbabilities
        ) { done, total in
            try host.checkCancellation()
            host.progress("synthesising shadow data", done: done, total: total)
        }
        let summary =
            "\(Self.name): synthesised \(made.labels.count) of \(synthesis.recordsPerClass * c) records (per class \(made.perClass)) "
            + "with \(made.queries) target queries of a budget of \(synthesis.queryBudget)"
            + (made.labels.isEmpty
                ? "" : String(format: ", %.1f per record", Double(made.queries) / Double(made.labels.count)))
        // Every class needs records of its own for the shadow models to learn it.
        guard made.labels.count >= 4, made.perClass.allSatisfy({ $0 >= 2 }) else {
            throw PluginError(
                .invalidArgument,
                summary + "; every class needs at least 2: raise `query_budget` (now \(synthesis.queryBudget)) "
                    + "or `synthesis_iterations_max`, or lower `synthesis_confidence_min`")
        }
        host.log(
            made.budgetExhausted ? .warning : .info,
            summary + (made.budgetExhausted ? "; the query budget ran out" : ""))
        return ShadowData(features: made.features, labels: made.labels, featureSize: d, classCount: c, query: query)
    }
}
