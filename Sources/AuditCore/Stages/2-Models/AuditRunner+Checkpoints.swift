import Foundation
import Kernels
import PluginKit

/// One audited checkpoint epoch: the target's logits then, and every attack's scores on that
/// epoch's signals (target and reference models all read at the end of the same epoch).
public struct CheckpointOutcome {
    public var epoch: Int
    /// [N + P, C] logits of the target's checkpoint.
    public var targetLogits: [Float]
    /// The target's history entry of that epoch, when it has one.
    public var history: PluginKit.EpochRecord?
    /// Per attack, in run order: scores [N] and evaluation mask [N].
    public var scores: [(name: String, scores: [Double], mask: [UInt8])]
}

/// What the checkpoint stage produced: the epochs audited, and what was asked but could not be.
public struct CheckpointRun {
    public var outcomes: [CheckpointOutcome]
    public var notes: [String]
}

// Checkpoints (`audit.checkpoints`). Every model of the audit trains with the same checkpoint
// epochs; at each, the host saves the model to `model-epoch<E>.bin` in its store folder, loads
// that file into a fresh instance and writes its logits on every audit and population record to
// `logits-<N>-<P>-epoch<E>.npy` (both atomically). Predicting from a fresh instance leaves the
// training instance's buffers alone, so the training goes on exactly as without checkpoints.
//
// The store key does not include the checkpoint list: a model is the same model whether or not
// checkpoints were taken, and audits with and without them share it. A stored model that lacks
// a checkpoint asked for is trained again (under a claim, like a missing one) unless its record
// says that training was already asked for that epoch (the backend never offered it) or its
// history ended before it (early stopping). A run killed meanwhile leaves the old record, so the
// next run trains it again.
extension AuditRunner {
    /// Checkpoint epochs asked for that the stored model `key` lacks and could still get by training again.
    func missingCheckpoints(_ key: String, _ record: ModelRecord) -> [Int] {
        let asked = Set(record.checkpointEpochs ?? [])
        let last = record.history.last?.epoch
        return config.checkpoints.filter { e in
            !FileManager.default.fileExists(atPath: store.checkpointModelPath(key, epoch: e)) && !asked.contains(e)
                && (last.map { e <= $0 } ?? true)
        }
    }

    /// Whether the store holds `job`'s model with every checkpoint this audit asks for.
    func isComplete(_ job: ModelJob) -> Bool {
        guard let record = store.record(job.key) else { return false }
        return config.checkpoints.isEmpty || missingCheckpoints(job.key, record).isEmpty
    }

    /// Called by a training at the end of a checkpoint epoch: keeps the model and its logits.
    func saveCheckpoint(_ model: DynamicModel, _ job: ModelJob, epoch: Int, _ population: Population, _ spec: ModelSpec) throws {
        try store.saveFile(model, to: store.checkpointModelPath(job.key, epoch: epoch))
        let logits = try predictCheckpoint(job.key, role: job.role, epoch: epoch, population, spec)
        try writeCheckpointLogits(logits, job.key, epoch: epoch, population, spec)
        logger.info("\(job.role): checkpoint of epoch \(epoch) kept")
    }

    /// Logits of the stored checkpoint of `key` at `epoch`, from a fresh instance.
    func predictCheckpoint(_ key: String, role: String, epoch: Int, _ population: Population, _ spec: ModelSpec) throws -> [Float] {
        let copy = try DynamicModel(plan.model.info, optionsJSON: plan.model.optionsJSON, spec: spec, bridge: bridge("\(role) epoch \(epoch)"))
        try copy.load(from: store.checkpointModelPath(key, epoch: epoch))
        return try copy.predict(features: population.features, count: population.auditCount + population.populationCount)
    }

    func writeCheckpointLogits(_ logits: [Float], _ key: String, epoch: Int, _ population: Population, _ spec: ModelSpec) throws {
        let total = population.auditCount + population.populationCount
        let path = store.checkpointLogitsPath(key, audit: population.auditCount, population: population.populationCount, epoch: epoch)
        try Npy.write(logits, shape: [total, spec.classCount], to: path)
    }

    /// The file of `model`'s logits at `epoch`: stored, or computed from its stored checkpoint
    /// (and stored); nil when the store holds neither.
    func checkpointLogitsFile(_ model: TrainedModel, epoch: Int, _ population: Population, _ spec: ModelSpec) throws -> String? {
        let total = population.auditCount + population.populationCount
        let path = store.checkpointLogitsPath(model.key, audit: population.auditCount, population: population.populationCount, epoch: epoch)
        if Npy.holds(Float.self, shape: [total, spec.classCount], at: path) { return path }
        guard FileManager.default.fileExists(atPath: store.checkpointModelPath(model.key, epoch: epoch)) else { return nil }
        let logits = try predictCheckpoint(model.key, role: model.role, epoch: epoch, population, spec)
        try writeCheckpointLogits(logits, model.key, epoch: epoch, population, spec)
        return path
    }

    /// The checkpoint stage: for each epoch of `audit.checkpoints` that every model reached, the
    /// attacks run on that epoch's signals (as for the final models, same seeds), their scores
    /// written to `scores/epoch-<E>/`. Attacks that query the target are left out: the query
    /// service answers with the final model.
    func runCheckpoints(_ population: Population, _ memberships: Memberships, _ spec: ModelSpec, _ models: [TrainedModel]) throws -> CheckpointRun {
        var notes: [String] = []
        let querying = plan.attacks.filter { $0.requirements.contains(.queryAccess) }.map(\.name)
        if !querying.isEmpty {
            notes.append("\(querying.map { "`\($0)`" }.joined(separator: ", ")) query the target and run on the final models only.")
        }
        var outcomes: [CheckpointOutcome] = []
        let offered = models.contains { m in
            config.checkpoints.contains { FileManager.default.fileExists(atPath: store.checkpointModelPath(m.key, epoch: $0)) }
        }
        guard offered else {
            let note = "model backend `\(plan.model.info.name)` (\(plan.model.info.plugin.path)) reported no checkpoint for any model "
                + "(it does not call ABI 1.1 `on_checkpoint`): no checkpoint epoch is audited, the final models are."
            logger.warning("checkpoints: \(note)")
            return CheckpointRun(outcomes: [], notes: notes + [note])
        }
        for (k, epoch) in config.checkpoints.enumerated() {
            var epochModels: [TrainedModel] = []
            var missing: [String] = []
            for model in models {
                if let file = try checkpointLogitsFile(model, epoch: epoch, population, spec) {
                    // Reference logits stay in their file (streamed into the mapped signals); the target's are read.
                    let logits = epochModels.isEmpty ? try Npy.read(Float.self, from: file).values : []
                    epochModels.append(TrainedModel(
                        role: model.role, key: model.key + "@epoch\(epoch)", record: model.record, logits: logits, cached: true,
                        logitsFile: file))
                } else if let last = model.record.history.last?.epoch, last < epoch {
                    missing.append("\(model.role) (its training ended at epoch \(last))")
                } else {
                    missing.append(model.role)
                }
            }
            if !missing.isEmpty {
                let note = "epoch \(epoch) is not audited: the store holds no checkpoint of \(missing.joined(separator: ", "))."
                notes.append(note)
                logger.warning("checkpoints: \(note)")
                continue
            }
            // As for the final models: reference logits written model by model into files that are
            // mapped, then unlinked (the mapping keeps them; the space is freed with it).
            let scratch = (output as NSString).appendingPathComponent(".checkpoint-signals")
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            let signals = try SignalSet(
                population: population, memberships: memberships, target: epochModels[0], references: Array(epochModels.dropFirst()),
                writingReferencesTo: scratch)
            for name in ["reference_logits.npy", "population_reference_logits.npy"] {
                unlink((scratch as NSString).appendingPathComponent(name))
            }
            rmdir(scratch)
            let (scores, _) = try runAttacks(
                signals, population, spec, targetKey: models[0].key,
                in: (scoresFolder as NSString).appendingPathComponent("epoch-\(epoch)"), skippingQueries: true, reportProgress: false)
            let history = models[0].record.history.first { $0.epoch == epoch }
            outcomes.append(CheckpointOutcome(
                epoch: epoch, targetLogits: epochModels[0].logits, history: history,
                scores: scores.map { (name: $0.0, scores: $0.1, mask: $0.2) }))
            progress.report(task: "checkpoints", done: k + 1, total: config.checkpoints.count)
        }
        return CheckpointRun(outcomes: outcomes, notes: notes)
    }
}

extension AuditResults {
    /// Evaluates every checkpoint's scores with the shared metrics function (whole set, same
    /// bootstrap and seeds as the final models' evaluation, so the last epoch of a training that
    /// ran to its end gives the final figures).
    static func checkpointSummary(_ outcome: AuditOutcome) -> CheckpointSummary? {
        guard let run = outcome.checkpoints else { return nil }
        let config = outcome.plan.config
        let fprs = config.fprs.sorted()
        let lowest = fprs.first ?? 0.001
        let n = outcome.population.auditCount
        let c = outcome.population.info.classCount
        let isMember = outcome.memberships.target
        let labels = Array(outcome.population.labels[0..<n])
        let order = outcome.scores.map(\.name)
        var epochs: [CheckpointEpoch] = []
        for o in run.outcomes {
            let correct = targetCorrect(logits: o.targetLogits, labels: labels, classCount: c)
            let (trainAccuracy, testAccuracy) = accuracies(correct: correct, isMember: isMember)
            var e = CheckpointEpoch(
                epoch: o.epoch, trainAccuracy: trainAccuracy, testAccuracy: testAccuracy,
                historyTrainAccuracy: o.history.map(\.trainAccuracy), historyHeldoutAccuracy: o.history.flatMap { $0.heldoutAccuracy.isNaN ? nil : $0.heldoutAccuracy })
            for attack in o.scores {
                let i = order.firstIndex(of: attack.name) ?? order.count
                var seed = SeededRandom.derive(seed: config.seed, 30_000 + UInt64(i))
                let evaluation = evaluate(
                    attack: attack.name, scores: attack.scores, evaluationMask: attack.mask, isMember: isMember, labels: labels,
                    targetCorrect: correct, fprs: fprs, slices: .none, bootstrapSamples: config.bootstrapSamples, seed: seed.next())
                e.attackOrder.append(attack.name)
                e.attacks[attack.name] = CheckpointAttack(evaluation, lowestFPR: lowest)
            }
            epochs.append(e)
        }
        return CheckpointSummary(lowestFPR: lowest, epochs: epochs, notes: run.notes)
    }
}
