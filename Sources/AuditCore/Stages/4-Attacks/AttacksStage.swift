import Foundation
import Kernels
import PluginKit

/// What the attacks stage hands on: per attack (and per output defence, named `attack@defence`),
/// in config order, its scores [N] and evaluation mask [N]; and the target queries of the
/// attacks that made any.
struct AttackScores {
    var scores: [(name: String, scores: [Double], mask: [UInt8])]
    var queries: [String: Int]
    /// Per attack on reference models, its scores against reference models playing the target
    /// (`AttacksStage+PseudoTargets`), for reference-chosen thresholds.
    var pseudoTargets: [String: [PseudoTargetScores]] = [:]
}

/// Stage 4, attacks: every attack plugin of the plan scores the audit records from the shared
/// signals (behind each output defence too); scores go to `scores/` and are reused by a later
/// run whose attack options and signals are unchanged. `AttacksStage+Checkpoints` runs them
/// again on each checkpoint epoch's signals.
struct AttacksStage: AuditStage {
    let context: StageContext

    init(_ context: StageContext) { self.context = context }

    /// Runs every attack on `signals`; `models.target.key` names the target the query service loads.
    func run(_ signals: SignalSet, _ population: Population, _ models: AuditModels) throws -> AttackScores {
        if readsCheckpoints { signals.checkpoints = try trajectorySignals(population, models) }
        let (scores, queries) = try runAttacks(signals, population, models.spec, targetKey: models.target.key)
        return AttackScores(
            scores: scores.map { (name: $0.0, scores: $0.1, mask: $0.2) }, queries: queries,
            pseudoTargets: try runPseudoTargets(signals, population))
    }
}

extension AttacksStage {
    /// Runs every attack on the shared signals; writes `scores/<attack>.npy` (and the evaluation
    /// mask `scores/<attack>.mask.npy` when the attack trained on part of the records). Scores of
    /// an attack whose options and signals are unchanged since a previous run are reused.
    ///
    /// A checkpoint's attacks write to their own `folder` and leave out the attacks that query
    /// the target (`skippingQueries`: the query service answers with the final model) and those
    /// that read every checkpoint at once (`AttacksStage+Trajectories`); they
    /// report no progress of their own (`reportProgress`).
    func runAttacks(
        _ undefended: SignalSet, _ population: Population, _ spec: ModelSpec, targetKey: String,
        in folder: String? = nil, skippingQueries: Bool = false, reportProgress: Bool = true
    ) throws -> ([(String, [Double], [UInt8])], [String: Int]) {
        try FileManager.default.createDirectory(atPath: folder ?? scoresFolder, withIntermediateDirectories: true)
        var results: [(String, [Double], [UInt8])] = []
        var queryCounts: [String: Int] = [:]
        let settings: [OutputDefence?] = [nil] + config.defences.map { $0 }
        let total = plan.attacks.count * settings.count
        for (d, defence) in settings.enumerated() {
            // Defended reference arrays live in unlinked files (mapped, gone with the mapping).
            let signals =
                try defence.map {
                    try undefended.defended(by: $0, folder: (output as NSString).appendingPathComponent(".defended"))
                } ?? undefended
            for (j, attack) in plan.attacks.enumerated()
            where !(skippingQueries && !attack.requirements.isDisjoint(with: [.queryAccess, .checkpoints])) {
                let index = d * plan.attacks.count + j
                let name = defence.map { "\(attack.name)@\($0)" } ?? attack.name
                guard
                    let (scores, mask, queries) = try continuingOnFailure(
                        name,
                        {
                            try runAttack(
                                attack, named: name, on: signals, behind: defence, population, spec,
                                targetKey: targetKey, in: folder)
                        })
                else { continue }
                if queries > 0 { queryCounts[name] = queries }
                results.append((name, scores, mask))
                if reportProgress { progress.report(task: "attacks", done: index + 1, total: total) }
            }
        }
        return (results, queryCounts)
    }

    /// Runs one attack (or reuses its scores when its options and signals are unchanged); its
    /// files go to `folder` (default `scores/`).
    func runAttack(
        _ a: ResolvedAttack, named name: String, on signals: SignalSet, behind defence: OutputDefence?,
        _ population: Population, _ spec: ModelSpec, targetKey: String, in folder: String? = nil
    ) throws -> (scores: [Double], mask: [UInt8], queries: Int) {
        func path(_ suffix: String) -> String {
            ((folder ?? scoresFolder) as NSString).appendingPathComponent(name + suffix)
        }
        let seed = attackSeed(a.name)
        let signalsKey =
            a.requirements.contains(.checkpoints)
            ? signals.checkpoints?.key(of: signals.key) ?? signals.key : signals.key
        let key = provenance.scoresKey(a.component, signalsKey: signalsKey, seed: seed)
        if let (scores, mask) = reusableScores(key: key, count: signals.recordCount, path: path) {
            logger.notice("attack \(name): scores reused (same signals, plugin, options, seed)")
            restoreReportedValues(name, path: path)
            return (scores, mask, 0)
        }
        let host = bridge(name)
        let attack = try DynamicAttack(a.component.info, optionsJSON: a.component.optionsJSON, bridge: host)
        let needs = attack.requirements
        var queries: QueryService?
        if needs.contains(.queryAccess) {
            let target = try ModelsStage(context).loadTarget(spec, storeKey: targetKey)
            let publicRecords = population.publicCount > 0 ? (population.publicFeatures, population.publicLabels) : nil
            queries = QueryService(target: target, defence: defence, auxiliary: publicRecords) { [plan] in
                try DynamicModel(
                    plan.model.info, optionsJSON: plan.model.optionsJSON, spec: spec, bridge: context.bridge("shadow"))
            }
        }
        let start = Date()
        let (scores, mask) = try signals.withCSignals(
            needs: needs, features: population.features, featureShape: population.info.featureShape, seed: seed,
            threads: config.threads
        ) { try attack.score($0, queries: queries) }
        signals.releaseReferencePages()
        try storeScores(scores, mask, key: key, path: path)
        try keepReportedValues(name, host.reportedValues, path: path)
        let q = queries?.queryCount ?? 0
        let seconds = String(format: "%.3f", Date().timeIntervalSince(start))
        logger.info(
            "attack \(name): scored \(scores.count) records in \(seconds) s\(q > 0 ? ", \(q) target queries" : "")")
        return (scores, mask, q)
    }
}
