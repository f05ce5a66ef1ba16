import Foundation
import PluginKit

// Attacks that read every checkpoint at once (`MIA_NEEDS_CHECKPOINTS`, ABI 1.4), such as the loss
// trajectory: the final models' signals carry, for them only, every model's logits at each epoch
// of `audit.checkpoints` (`CheckpointSignals`). The per-epoch reruns of `AttacksStage+Checkpoints`
// leave these attacks out: their scores already span the epochs. With
// `audit.trajectory.source: distillation` the epochs are distilled students' instead
// (`ModelsStage+Distillation`).
extension AttacksStage {
    /// Every model's audit-record logits at each epoch of `audit.checkpoints` that every model
    /// reached, read from the store's checkpoint logits (computed from a stored checkpoint when
    /// missing); nil when no epoch qualifies (a warning says which models lack which epoch).
    func checkpointSignals(_ population: Population, _ audited: AuditModels) throws -> CheckpointSignals? {
        let n = population.auditCount, c = population.info.classCount
        let models = audited.all
        var epochs: [Int32] = [], target: [Float] = [], references: [Float] = []
        for epoch in config.checkpoints {
            var rows: [[Float]] = []
            var missing: [String] = []
            for model in models {
                guard
                    let file = try ModelsStage(context).checkpointLogitsFile(
                        model, epoch: epoch, population, audited.spec)
                else {
                    missing.append(model.role)
                    continue
                }
                let logits = try Npy.read(Float.self, from: file).values
                guard logits.count >= n * c else {
                    throw PluginError(.internal, "\(file): \(logits.count) logits, expected at least [\(n), \(c)]")
                }
                rows.append(Array(logits[0..<(n * c)]))
            }
            guard missing.isEmpty else {
                logger.warning(
                    "checkpoints: epoch \(epoch) is left out of the trajectories: the store holds no checkpoint of \(missing.joined(separator: ", "))"
                )
                continue
            }
            epochs.append(Int32(epoch))
            target += rows[0]
            for r in rows.dropFirst() { references += r }
        }
        guard !epochs.isEmpty else {
            logger.warning(
                "checkpoints: no epoch of `audit.checkpoints` was reached by every model; attacks that read checkpoints get none"
            )
            return nil
        }
        logger.info(
            "checkpoints: epochs \(epochs.map(String.init).joined(separator: ", ")) lent to the attacks that read every checkpoint"
        )
        return CheckpointSignals(epochs: epochs, targetLogits: target, referenceLogits: references)
    }

    /// The per-epoch logits lent to attacks that read every checkpoint at once: distilled
    /// students' (`audit.trajectory.source: distillation`), else the models' own checkpoints
    /// (`audit.checkpoints`), else none.
    func trajectorySignals(_ population: Population, _ audited: AuditModels) throws -> CheckpointSignals? {
        if config.trajectory.distills { return try ModelsStage(context).distilledTrajectories(population, audited) }
        return config.checkpoints.isEmpty ? nil : try checkpointSignals(population, audited)
    }

    /// Whether the plan holds an attack that reads every checkpoint at once.
    var readsCheckpoints: Bool { plan.attacks.contains { $0.requirements.contains(.checkpoints) } }
}
