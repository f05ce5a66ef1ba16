import Foundation
import Kernels
import Logging
import PluginKit

/// Stage 5, evaluation: every attack's scores through the one shared metrics function (ROC, AUC,
/// TPR at the configured FPRs, slices, bootstrap, empirical ε), the checkpoints' too; writes
/// `roc/<attack>.csv` and `metrics.json`.
struct EvaluationStage: AuditStage {
    let context: StageContext

    init(_ context: StageContext) { self.context = context }

    /// Evaluates `outcome`, writes `roc/` and `metrics.json`; returns what `metrics.json` holds.
    /// `startedAt` is when the run began (for its total time).
    func run(_ outcome: AuditOutcome, startedAt: Date) throws -> RunSummary {
        let plan = outcome.plan
        let config = plan.config
        var stages = outcome.stageSeconds
        let evaluateStart = Date()
        let n = outcome.population.auditCount
        let c = outcome.population.info.classCount
        let isMember = outcome.memberships.target
        let labels = Array(outcome.population.labels[0..<n])
        let correct = Self.targetCorrect(logits: outcome.target.logits, labels: labels, classCount: c)
        let (trainAccuracy, testAccuracy) = Self.accuracies(
            correct: correct, isMember: isMember, except: Self.canaryIndices(outcome))
        let memberCount = isMember.filter { $0 }.count

        var summary = RunSummary(
            toolVersion: toolVersion, runName: config.name, createdAt: ISO8601DateFormatter().string(from: startedAt),
            dataset: DatasetSummary(
                name: plan.datasetChoice?.info.name ?? "signals from \(plan.providedSignals?.folder ?? "?")",
                records: n + outcome.population.populationCount, classes: c),
            target: TargetSummary(
                trainAccuracy: trainAccuracy, testAccuracy: testAccuracy,
                history: outcome.target.record.history.map(EpochSummary.init)),
            referenceCount: outcome.references.count, fprs: config.fprs.sorted(), configYAML: config.text,
            plugins: plan.pluginsUsed.map {
                PluginUse(
                    name: $0.plugin.name, version: $0.plugin.version, path: $0.plugin.path,
                    component: "\($0.kind) \($0.component)")
            })
        summary.targetQueries = outcome.queries.isEmpty ? nil : outcome.queries
        summary.environment = RunEnvironment.current(libraries: plan.pluginsUsed.map(\.plugin.path))
        summary.blas = try? BLASSummary.measure()
        let slices = SliceOptions(
            byClass: config.slices.contains("class"), byCorrectness: config.slices.contains("correctness"))
        let rocFolder = (config.output as NSString).appendingPathComponent("roc")
        let delta = Self.dpDelta(plan) ?? 1e-5
        var epsilonBounds: [String: HeldOutEpsilonBound] = [:]
        var epsilonUncorrected: [String: Double] = [:]
        let ordinary = Self.withoutCanaries(outcome)
        let figures = Self.attackFigures(
            ordinary, isMember: isMember, labels: labels, targetCorrect: correct, fprs: config.fprs.sorted(),
            slices: slices,
            bootstrapSamples: config.bootstrapSamples, seed: config.seed, delta: delta, topRecords: config.topRecords
        ) { progress.report(task: "evaluating", done: $0, total: ordinary.count) }
        for (attack, f) in zip(ordinary, figures) {
            try AtomicFile.write(f.roc.csv, to: (rocFolder as NSString).appendingPathComponent("\(attack.name).csv"))
            epsilonUncorrected[attack.name] = f.epsilonUncorrected
            epsilonBounds[attack.name] = f.epsilonBound
            var evaluation = f.evaluation
            evaluation.addOperatingPoints(
                curve: f.roc, priors: config.priors, pseudo: outcome.pseudoTargets[attack.name] ?? [],
                scores: attack.scores, isMember: isMember, mask: attack.mask)
            evaluation.reportedValues = context.reportedValues[attack.name]
            summary.add(evaluation, mostAtRisk: f.mostAtRisk)
        }
        summary.checkpoints = Self.checkpointSummary(outcome)
        let claimed = Self.claimedEpsilon(plan, history: outcome.target.record.history, members: memberCount)
        summary.canaryAudit = try canaryAudit(outcome, delta: delta, claimedEpsilon: claimed)
        summary.privacy = PrivacyEvidence(
            delta: delta, claimedEpsilon: claimed,
            empiricalEpsilonLowerBound: epsilonBounds.mapValues(\.epsilon),
            details: epsilonBounds, uncorrectedMax: epsilonUncorrected,
            accountants: Self.claimedEpsilonAccountants(
                plan, history: outcome.target.record.history, members: memberCount,
                checkpointEpochs: summary.checkpoints?.epochs.map(\.epoch) ?? []))
        stages.append(("evaluate", Date().timeIntervalSince(evaluateStart)))

        summary.stageSeconds = stages.map { StageTiming(stage: $0.0, seconds: $0.1) }
        summary.totalSeconds = Date().timeIntervalSince(startedAt)
        summary.peakMemoryBytes = Self.peakResidentBytes()
        try AtomicFile.write(try summary.jsonData(), to: Self.metricsPath(config.output))
        return summary
    }
}

extension EvaluationStage {
    /// The options of a model trained with DP-SGD, nil otherwise.
    static func dpOptions(_ model: ResolvedComponent?) -> PluginOptions? {
        guard let values = model?.options, values["dp_sgd"] == .bool(true) else { return nil }
        return PluginOptions(values)
    }

    /// δ of a DP-SGD target (`dp_delta` of its options), when it has one.
    static func dpDelta(_ plan: AuditPlan) -> Double? {
        try? dpOptions(plan.targetChoice ?? plan.modelChoice)?.double("dp_delta")
    }

    /// The ε the target claims: the last one its backend reported in the training history
    /// (`EpochRecord.dpEpsilon`, its own accountant's), else the RDP accountant run here on its
    /// DP-SGD options (`dp_sgd`, `dp_noise_multiplier`, `batch_size`, `epochs`, `dp_delta`), when
    /// it was trained with them.
    static func claimedEpsilon(_ plan: AuditPlan, history: [EpochRecord], members: Int) -> Double? {
        if let reported = history.last(where: { $0.dpEpsilon != nil })?.dpEpsilon { return reported }
        return claimedEpsilon(plan, members: members)
    }

    /// The RDP accountant's ε for the target's DP-SGD options, nil when it was not trained with them.
    static func claimedEpsilon(_ plan: AuditPlan, members: Int) -> Double? {
        guard plan.targetChoice == nil, let options = dpOptions(plan.modelChoice), members > 0,
            let delta = try? options.double("dp_delta"),
            let sigma = try? options.double("dp_noise_multiplier"), let batch = try? options.double("batch_size"),
            let epochs = try? options.double("epochs")
        else { return nil }
        let q = min(1, batch / Double(members))
        let steps = Int((epochs / q).rounded())
        return RDPAccountant.epsilon(q: q, sigma: sigma, steps: steps, delta: delta).epsilon
    }

    /// `metrics.json` in the run folder `folder`.
    static func metricsPath(_ folder: String) -> String { (folder as NSString).appendingPathComponent("metrics.json") }

    /// Whether the target's top logit is the true label, per record.
    /// The target's accuracy on its members (train) and on the audit non-members (test), records
    /// in `left` (the canaries) left out.
    static func accuracies(correct: [Bool], isMember: [Bool], except left: Set<Int> = []) -> (
        train: Double, test: Double
    ) {
        func accuracy(_ members: Bool) -> Double {
            let idx = isMember.indices.filter { isMember[$0] == members && !left.contains($0) }
            return Double(idx.filter { correct[$0] }.count) / Double(max(1, idx.count))
        }
        return (accuracy(true), accuracy(false))
    }

    static func targetCorrect(logits: [Float], labels: [Int32], classCount c: Int) -> [Bool] {
        labels.indices.map { i in
            var best = 0
            for k in 1..<c where logits[i * c + k] > logits[i * c + best] { best = k }
            return best == Int(labels[i])
        }
    }

    /// Peak resident memory of this process (`getrusage`), in bytes.
    static func peakResidentBytes() -> UInt64 {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return UInt64(usage.ru_maxrss) * 1024
    }
}

extension EpochSummary {
    init(_ r: EpochRecord) {
        self.init(
            epoch: r.epoch, trainLoss: r.trainLoss, trainAccuracy: r.trainAccuracy,
            heldoutLoss: r.heldoutLoss.isNaN ? nil : r.heldoutLoss,
            heldoutAccuracy: r.heldoutAccuracy.isNaN ? nil : r.heldoutAccuracy,
            seconds: r.seconds)
    }
}

extension EvaluationStage {
    /// Evaluates every checkpoint's scores with the shared metrics function (whole set, same
    /// bootstrap and seeds as the final models' evaluation, so the last epoch of a training that
    /// ran to its end gives the final figures).
    static func checkpointSummary(_ outcome: AuditOutcome) -> CheckpointSummary? {
        guard let run = outcome.checkpoints else { return nil }
        let config = outcome.plan.config
        let fprs = config.fprs.sorted()
        let lowest = fprs.first { $0 > 0 } ?? fprs.first ?? 0.001
        let n = outcome.population.auditCount
        let c = outcome.population.info.classCount
        let isMember = outcome.memberships.target
        let labels = Array(outcome.population.labels[0..<n])
        let order = outcome.scores.map(\.name)
        var epochs: [CheckpointEpoch] = []
        for o in run.outcomes {
            let correct = targetCorrect(logits: o.targetLogits, labels: labels, classCount: c)
            let (trainAccuracy, testAccuracy) = accuracies(
                correct: correct, isMember: isMember, except: canaryIndices(outcome))
            var e = CheckpointEpoch(
                epoch: o.epoch, trainAccuracy: trainAccuracy, testAccuracy: testAccuracy,
                historyTrainAccuracy: o.history.map(\.trainAccuracy),
                historyHeldoutAccuracy: o.history.flatMap { $0.heldoutAccuracy.isNaN ? nil : $0.heldoutAccuracy })
            for attack in withoutCanaries(o.scores, outcome) {
                let i = order.firstIndex(of: attack.name) ?? order.count
                var seed = SeededRandom.derive(seed: config.seed, 30_000 + UInt64(i))
                let evaluation = evaluate(
                    attack: attack.name, scores: attack.scores, evaluationMask: attack.mask, isMember: isMember,
                    labels: labels,
                    targetCorrect: correct, fprs: fprs, slices: .none, bootstrapSamples: config.bootstrapSamples,
                    seed: seed.next())
                e.attackOrder.append(attack.name)
                e.attacks[attack.name] = CheckpointAttack(evaluation, lowestFPR: lowest)
            }
            e.canaryEpsilon = canaryBounds(o.scores, outcome)
            epochs.append(e)
        }
        return CheckpointSummary(lowestFPR: lowest, epochs: epochs, notes: run.notes)
    }
}
