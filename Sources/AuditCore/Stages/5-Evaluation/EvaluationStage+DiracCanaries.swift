import Foundation
import PluginKit

extension EvaluationStage {
    /// The name the one-run bound of Dirac gradient canaries goes under in `canary_audit.bounds`:
    /// the white-box observer of every privatised gradient, not an attack on the records.
    static let noisyGradientObserver = "noisy_gradients"

    /// The one-run DP audit with Dirac gradient canaries (`audit.canaries.kind: dirac`): the
    /// scores the target's DP-SGD training reported (`GradientCanaryFile` in the store), guessed
    /// on by the same one-run bound as record canaries; `canaries.json` in the run folder holds
    /// every canary's coin, coordinate and score. A store without the file is an error, never a
    /// bound from nothing.
    func diracCanaryAudit(
        _ outcome: AuditOutcome, _ config: CanaryConfig, delta: Double, claimedEpsilon: Double?
    ) throws -> CanaryAuditSummary {
        let set = CanarySet(config, auditRecords: outcome.population.auditCount)
        guard let file = GradientCanaryFile.read(context.store, key: outcome.target.key, count: config.count),
            file.included == set.included
        else {
            throw PluginError(
                .io,
                "the target's gradient-canary scores are missing or corrupt in the model store (\(GradientCanaryFile.path(context.store, key: outcome.target.key))); run again with --fresh"
            )
        }
        try Self.recordDirac(file, config, in: outcome.plan.config.output)
        // The same bounds as record canaries' (Steinke ε and Gaussian-DP μ), canary c at position c.
        let bounds = CanaryAuditSummary.bounds(
            [(Self.noisyGradientObserver, file.scores, [UInt8](repeating: 1, count: config.count))],
            indices: Array(0..<config.count),
            included: file.included, guesses: config.guesses, delta: delta, confidence: config.confidence)
        return CanaryAuditSummary(
            kind: config.kind.rawValue, count: config.count, included: file.included.filter { $0 }.count,
            seed: config.seed,
            claimedEpsilon: claimedEpsilon, delta: delta, confidence: config.confidence,
            bounds: bounds, attackOrder: [Self.noisyGradientObserver], indices: [])
    }

    /// Writes `canaries.json` for Dirac canaries: per canary its coin, parameter coordinate and score.
    static func recordDirac(_ file: GradientCanaryFile, _ config: CanaryConfig, in folder: String) throws {
        let records: [[String: Any]] = file.included.indices.map { i in
            ["canary": i, "included": file.included[i], "coordinate": file.coordinates[i], "score": file.scores[i]]
        }
        let object: [String: Any] = [
            "kind": config.kind.rawValue, "count": config.count, "seed": config.seed, "inclusion_probability": 0.5,
            "gradient_seed": file.seed,
            "score": "sum over DP-SGD steps of the privatised gradient's coordinate of the canary",
            "records": records,
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(data, to: (folder as NSString).appendingPathComponent("canaries.json"))
    }
}
