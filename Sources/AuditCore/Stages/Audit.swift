import Foundation
import Logging
import PluginKit

/// Everything a run produced before evaluation: the input of the evaluation and report stages.
struct AuditOutcome {
    var plan: AuditPlan
    var population: Population
    var memberships: Memberships
    var target: TrainedModel
    var references: [TrainedModel]
    /// Per attack, in config order: scores [N] and evaluation mask [N].
    var scores: [(name: String, scores: [Double], mask: [UInt8])]
    var stageSeconds: [(String, Double)]
    var queryCount: Int
    /// Target queries per attack, for attacks that made any.
    var queries: [String: Int] = [:]
    /// The attacks at checkpoint epochs (`audit.checkpoints`), nil when none were asked for.
    var checkpoints: CheckpointRun? = nil
    /// Scores against reference models playing the target, per attack (reference-chosen thresholds).
    var pseudoTargets: [String: [PseudoTargetScores]] = [:]
}

/// An audit, start to end: the stages in run order, one call each.
///
///     dataset -> models -> signals -> attacks (-> checkpoints) -> evaluation -> report
///
/// `mia-audit run`, each point of `mia-audit study` and the Slurm audit job (which is a
/// `mia-audit run`) call `run`; `mia-audit train --shard` calls `train`. Each stage lives in
/// `Stages/<n>-<Stage>/`, named by what it does.
public enum Audit {
    /// Runs every stage of `plan`'s audit and writes the run folder; returns what `metrics.json` holds.
    ///
    /// - Parameters:
    ///   - startedAt: when the run began, for its total time (default: now).
    ///   - fresh: recompute every model, logits file and score instead of reusing stored ones (`--fresh`).
    ///   - onModels: called with the target and reference models before evaluation (a study
    ///     counts the models trained and loaded).
    public static func run(
        _ plan: AuditPlan, logger: Logger, progress: ProgressReporter,
        cancellation: CancellationFlag = CancellationFlag(),
        startedAt: Date = Date(), fresh: Bool = false, onModels: ([TrainedModel]) -> Void = { _ in }
    ) throws -> RunSummary {
        // The run's state (`run.json`: running, complete, failed with stage and plugin) is
        // recorded around every stage; an earlier run's results are set aside first.
        try RunFolder.recording(plan.config.output, logger: logger) {
            try runStages(
                plan, logger: logger, progress: progress, cancellation: cancellation, startedAt: startedAt,
                fresh: fresh, onModels: onModels)
        }
    }

    static func runStages(
        _ plan: AuditPlan, logger: Logger, progress: ProgressReporter, cancellation: CancellationFlag,
        startedAt: Date, fresh: Bool, onModels: ([TrainedModel]) -> Void
    ) throws -> RunSummary {
        let context = StageContext(plan: plan, logger: logger, progress: progress, cancellation: cancellation)
        context.fresh = fresh
        try context.prepareRunFolder()
        let outcome: AuditOutcome
        if let provided = plan.providedSignals {
            let (population, models, signals) = try SignalsStage(context).run(provided)
            let attacks = try context.stage("attacks") { try AttacksStage(context).run(signals, population, models) }
            logger.info("target membership from \(provided.folder), sha256 \(provided.membershipHash)")
            outcome = AuditOutcome(
                plan: plan, population: population, memberships: models.memberships, target: models.target,
                references: [],
                scores: attacks.scores, stageSeconds: context.stageSeconds, queryCount: 0,
                pseudoTargets: attacks.pseudoTargets)
        } else {
            let population = try context.stage("load dataset") { try DatasetStage(context).run() }
            let models = try context.stage("train models") { try ModelsStage(context).run(population) }
            let signals = try context.stage("signals") { try SignalsStage(context).run(population, models) }
            let attacks = try context.stage("attacks") { try AttacksStage(context).run(signals, population, models) }
            let checkpoints =
                plan.config.checkpoints.isEmpty
                ? nil
                : try context.stage("checkpoints") { try AttacksStage(context).runCheckpoints(population, models) }
            outcome = AuditOutcome(
                plan: plan, population: population, memberships: models.memberships, target: models.target,
                references: models.references, scores: attacks.scores, stageSeconds: context.stageSeconds,
                queryCount: attacks.queries.values.reduce(0, +), queries: attacks.queries, checkpoints: checkpoints,
                pseudoTargets: attacks.pseudoTargets)
        }
        onModels([outcome.target] + outcome.references)
        RunFolder.enter(stage: "evaluate and report", plan.config.output)
        let summary = try EvaluationStage(context).run(outcome, startedAt: startedAt)
        return try ReportStage(context).run(summary, outcome, startedAt: startedAt)
    }

    /// Trains shard `shard` of the audit's models that the store lacks, attacking nothing
    /// (`mia-audit train --shard I/N`): the dataset stage, then the models stage's share; models
    /// another worker holds are left to it. Returns how many this process trained.
    public static func train(
        _ plan: AuditPlan, shard: Shard, logger: Logger, progress: ProgressReporter,
        cancellation: CancellationFlag = CancellationFlag(),
        fresh: Bool = false
    ) throws -> Int {
        let context = StageContext(plan: plan, logger: logger, progress: progress, cancellation: cancellation)
        context.fresh = fresh
        let population = try context.stage("load dataset") { try DatasetStage(context).run() }
        return try context.stage("train models") { try ModelsStage(context).train(population, shard: shard) }
    }
}
