import Foundation

extension EvaluationStage {
    /// The one-run DP audit of a run with canaries: the bound per attack from its scores on the
    /// canaries, and `canaries.json` in the run folder. Nil without `audit.canaries`.
    func canaryAudit(_ outcome: AuditOutcome, delta: Double, claimedEpsilon: Double?) throws -> CanaryAuditSummary? {
        guard let config = outcome.plan.config.canaries else { return nil }
        if config.kind == .dirac {
            return try diracCanaryAudit(outcome, config, delta: delta, claimedEpsilon: claimedEpsilon)
        }
        let canaries = CanarySet(config, auditRecords: outcome.population.auditCount)
        try canaries.record(in: outcome.plan.config.output, labels: outcome.population.labels)
        let bounds = CanaryAuditSummary.bounds(
            outcome.scores, indices: canaries.indices, included: canaries.included, guesses: config.guesses,
            delta: delta,
            confidence: config.confidence)
        var summary = CanaryAuditSummary(
            kind: config.kind.rawValue, count: config.count, included: canaries.included.filter { $0 }.count,
            seed: config.seed,
            claimedEpsilon: claimedEpsilon, delta: delta, confidence: config.confidence, bounds: bounds,
            attackOrder: outcome.scores.map(\.name), indices: canaries.indices)
        summary.firstCanary = CanaryTrial(outcome.scores, indices: canaries.indices, included: canaries.included)
        return summary
    }

    /// Per attack, the one-run bound from `scores` (a checkpoint's) on the canaries; nil without them.
    static func canaryBounds(
        _ scores: [(name: String, scores: [Double], mask: [UInt8])], _ outcome: AuditOutcome
    ) -> [String: OneRunEpsilonBound]? {
        guard let config = outcome.plan.config.canaries, config.kind != .dirac else { return nil }
        let canaries = CanarySet(config, auditRecords: outcome.population.auditCount)
        return CanaryAuditSummary.bounds(
            scores, indices: canaries.indices, included: canaries.included, guesses: config.guesses,
            delta: dpDelta(outcome.plan) ?? 1e-5, confidence: config.confidence)
    }

    /// The audit-record positions of the canaries (empty without `audit.canaries`): left out of
    /// the target's accuracies and of every attack's ordinary metrics.
    static func canaryIndices(_ outcome: AuditOutcome) -> Set<Int> {
        guard let config = outcome.plan.config.canaries else { return [] }
        return Set(CanarySet(config, auditRecords: outcome.population.auditCount).indices)
    }

    /// The attacks' scores with the canaries left out of the evaluation mask: the ordinary
    /// metrics are those of the other audit records.
    static func withoutCanaries(_ outcome: AuditOutcome) -> [(name: String, scores: [Double], mask: [UInt8])] {
        withoutCanaries(outcome.scores, outcome)
    }

    /// `scores` (the final models' or a checkpoint's) with the canaries left out of the masks.
    static func withoutCanaries(
        _ scores: [(name: String, scores: [Double], mask: [UInt8])], _ outcome: AuditOutcome
    ) -> [(name: String, scores: [Double], mask: [UInt8])] {
        let indices = canaryIndices(outcome)
        guard !indices.isEmpty else { return scores }
        return scores.map { attack in
            var mask = attack.mask
            for i in indices { mask[i] = 0 }
            return (attack.name, attack.scores, mask)
        }
    }
}
