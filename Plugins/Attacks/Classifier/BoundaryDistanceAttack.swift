import Foundation
import Kernels
import PluginKit

/// The label-only boundary-distance attack (Choquette-Choo et al. 2021, "Label-Only Membership
/// Inference Attacks"; Li and Zhang 2021, "Membership Leakage in Label-Only Exposures"): a
/// training record tends to lie farther from the decision boundary than an unseen one. For
/// each audit record, `BoundarySearch` finds, from the target's predicted labels only (through
/// the host's query service, so it works against an `http` target answering `label`), how far
/// the record must be moved (L2) before its label changes. Score: that distance; 0 for a record
/// the target already labels wrongly. Queries: at most `query_budget` per record; the log line
/// gives the total and the mean per record (the host counts them too). Higher score = member.
public final class BoundaryDistanceAttack: AttackStrategy {
    public static let name = "boundary-distance"
    public static let summary =
        "Label-only boundary distance (Choquette-Choo et al. 2021; Li and Zhang 2021): L2 distance to the decision boundary found by a HopSkipJump-style search over predicted labels, with a query budget per record; higher score = member"
    public static let options: [OptionSpec] = [
        OptionSpec("query_budget", .int, default: "300", "most label queries per audit record").within(20...1_000_000),
        OptionSpec("gradient_queries", .int, default: "40", "queries per estimate of the boundary's normal").within(
            2...100_000),
        OptionSpec("binary_steps", .int, default: "10", "bisection steps towards the boundary").within(1...60),
        OptionSpec(
            "initial_scale", .float, default: "0.05",
            "per-feature standard deviation of the first random perturbation (doubled 11 times, each tried with both signs)"
        ).above(0),
        OptionSpec("batch_records", .int, default: "64", "records searched side by side (one query batch per round)")
            .within(1...100_000),
    ]

    /// The search, from the options.
    public let queryBudget: Int
    let search: BoundarySearch
    let host: HostServices

    public init(options: PluginOptions, host: HostServices) throws {
        self.host = host
        func int(_ key: String, _ fallback: Int) throws -> Int { options.has(key) ? try options.int(key) : fallback }
        queryBudget = try int("query_budget", 300)
        let scale = options.has("initial_scale") ? try options.double("initial_scale") : 0.05
        guard scale > 0 && scale.isFinite else {
            throw PluginError(.invalidArgument, "option `initial_scale` must be > 0, got \(scale)")
        }
        search = BoundarySearch(
            queryBudget: queryBudget, gradientQueries: try int("gradient_queries", 40),
            binarySteps: try int("binary_steps", 10),
            initialScale: scale, batchRecords: try int("batch_records", 64))
        guard search.gradientQueries >= 2, search.binarySteps >= 1, search.batchRecords >= 1 else {
            throw PluginError(
                .invalidArgument,
                "options `gradient_queries` (at least 2), `binary_steps` and `batch_records` (at least 1) are too small"
            )
        }
        guard queryBudget >= search.setupQueries else {
            throw PluginError(
                .invalidArgument,
                "option `query_budget` (\(queryBudget)) must be at least \(search.setupQueries): 1 + \(2 * search.initialTries) random starts + `binary_steps`"
            )
        }
    }

    public var requirements: AttackRequirements { [.queryAccess, .features] }

    public func score(
        _ signals: Signals, into scores: UnsafeMutableBufferPointer<Double>,
        evaluationMask: UnsafeMutableBufferPointer<UInt8>
    ) throws {
        let n = signals.recordCount, c = signals.classCount
        try checkLabels(signals.labels, classCount: c, what: "audit")
        guard let query = signals.query else {
            throw PluginError(.unsupported, "\(Self.name) needs the host's query service to ask the target for labels")
        }
        guard let features = signals.features, n > 0, features.count % n == 0, features.count > 0 else {
            throw PluginError(.invalidArgument, "\(Self.name) needs the audit records' features")
        }
        let d = features.count / n
        let host = self.host
        let progress: (Int, Int) -> Void = { host.progress("\(Self.name): records searched", done: $0, total: $1) }
        let predict: ([Float], Int) throws -> [Int] = { rows, count in
            try host.checkCancellation()
            let logits = try query.predictTarget(features: rows, count: count)
            guard logits.count == count * c else {
                throw PluginError(
                    .internal, "the query service returned \(logits.count) logits for \(count) records of \(c) classes")
            }
            return logits.withUnsafeBufferPointer { l in
                (0..<count).map { Probability.argmax(UnsafeBufferPointer(rebasing: l[($0 * c)..<(($0 + 1) * c)])) }
            }
        }
        let result = try search.run(
            features: Array(features), labels: Array(signals.labels), width: d, seed: signals.seed, progress: progress,
            predict: predict)
        let total = result.queries.reduce(0, +)
        host.log(
            .info,
            "\(Self.name): \(total) label queries for \(n) records (mean \(String(format: "%.1f", Double(total) / Double(n))), most \(result.queries.max() ?? 0), budget \(queryBudget) each)"
        )
        for i in 0..<n { scores[i] = result.distances[i] }
    }
}
