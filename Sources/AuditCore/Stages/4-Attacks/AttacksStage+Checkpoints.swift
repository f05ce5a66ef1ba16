import Foundation
import PluginKit

/// One audited checkpoint epoch: the target's logits then, and every attack's scores on that
/// epoch's signals (target and reference models all read at the end of the same epoch).
struct CheckpointOutcome {
    var epoch: Int
    /// [N + P, C] logits of the target's checkpoint.
    var targetLogits: [Float]
    /// The target's history entry of that epoch, when it has one.
    var history: EpochRecord?
    /// Per attack, in run order: scores [N] and evaluation mask [N].
    var scores: [(name: String, scores: [Double], mask: [UInt8])]
}

/// What the checkpoint stage produced: the epochs audited, and what was asked but could not be.
struct CheckpointRun {
    var outcomes: [CheckpointOutcome]
    var notes: [String]
}

// The attacks at checkpoint epochs (`audit.checkpoints`): the models stage keeps each model's
// checkpoints and their logits (`ModelsStage+Checkpoints`); here the signals of each epoch are
// gathered as for the final models and every attack that does not query the target runs on them.
extension AttacksStage {
    /// The checkpoint stage: for each epoch of `audit.checkpoints` that every model reached, the
    /// attacks run on that epoch's signals (as for the final models, same seeds), their scores
    /// written to `scores/epoch-<E>/`. Attacks that query the target are left out: the query
    /// service answers with the final model.
    func runCheckpoints(_ population: Population, _ audited: AuditModels) throws -> CheckpointRun {
        let memberships = audited.memberships, spec = audited.spec, models = audited.all
        var notes: [String] = []
        let querying = plan.attacks.filter { $0.requirements.contains(.queryAccess) }.map(\.name)
        if !querying.isEmpty {
            notes.append(
                "\(querying.map { "`\($0)`" }.joined(separator: ", ")) query the target and run on the final models only."
            )
        }
        let trajectories = plan.attacks.filter { $0.requirements.contains(.checkpoints) }.map(\.name)
        if !trajectories.isEmpty {
            notes.append(
                "\(trajectories.map { "`\($0)`" }.joined(separator: ", ")) read every checkpoint at once and run on the final models only."
            )
        }
        var outcomes: [CheckpointOutcome] = []
        let offered = models.contains { m in
            config.checkpoints.contains {
                FileManager.default.fileExists(atPath: store.checkpointModelPath(m.key, epoch: $0))
            }
        }
        guard offered else {
            let note =
                "model backend `\(plan.model.info.name)` (\(plan.model.info.plugin.path)) reported no checkpoint for any model "
                + "(it does not call ABI 1.1 `on_checkpoint`): no checkpoint epoch is audited, the final models are."
            logger.warning("checkpoints: \(note)")
            return CheckpointRun(outcomes: [], notes: notes + [note])
        }
        for (k, epoch) in config.checkpoints.enumerated() {
            var epochModels: [TrainedModel] = []
            var missing: [String] = []
            for model in models {
                if let file = try ModelsStage(context).checkpointLogitsFile(model, epoch: epoch, population, spec) {
                    // Reference logits stay in their file (streamed into the mapped signals); the target's are read.
                    let logits = epochModels.isEmpty ? try Npy.read(Float.self, from: file).values : []
                    epochModels.append(
                        TrainedModel(
                            role: model.role, key: model.key + "@epoch\(epoch)", record: model.record, logits: logits,
                            cached: true,
                            logitsFile: file))
                } else if let last = model.record.history.last?.epoch, last < epoch {
                    missing.append("\(model.role) (its training ended at epoch \(last))")
                } else {
                    missing.append(model.role)
                }
            }
            if !missing.isEmpty {
                let note =
                    "epoch \(epoch) is not audited: the store holds no checkpoint of \(missing.joined(separator: ", "))."
                notes.append(note)
                logger.warning("checkpoints: \(note)")
                continue
            }
            // As for the final models: reference logits written model by model into files that are
            // mapped, then unlinked (the mapping keeps them; the space is freed with it).
            let scratch = (output as NSString).appendingPathComponent(".checkpoint-signals")
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            let signals = try SignalSet(
                population: population, memberships: memberships, target: epochModels[0],
                references: Array(epochModels.dropFirst()),
                writingReferencesTo: scratch)
            for name in ["reference_logits.npy", "population_reference_logits.npy"] {
                unlink((scratch as NSString).appendingPathComponent(name))
            }
            rmdir(scratch)
            let (scores, _) = try runAttacks(
                signals, population, spec, targetKey: models[0].key,
                in: (scoresFolder as NSString).appendingPathComponent("epoch-\(epoch)"), skippingQueries: true,
                reportProgress: false)
            let history = models[0].record.history.first { $0.epoch == epoch }
            outcomes.append(
                CheckpointOutcome(
                    epoch: epoch, targetLogits: epochModels[0].logits, history: history,
                    scores: scores.map { (name: $0.0, scores: $0.1, mask: $0.2) }))
            progress.report(task: "checkpoints", done: k + 1, total: config.checkpoints.count)
        }
        return CheckpointRun(outcomes: outcomes, notes: notes)
    }
}
