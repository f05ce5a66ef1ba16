import PluginKit

// An attack that reads every model's checkpoints at once (`MIA_NEEDS_CHECKPOINTS`, the loss
// trajectory): what the config must provide, checked before any training.
extension AuditPlan {
    /// The config errors of attack `a` asking for checkpoint logits: it needs `audit.checkpoints`
    /// (or distilled students, `audit.trajectory.source: distillation`),
    /// and runs neither behind output defences nor in a child process (the host lends the
    /// checkpoints undefended, in memory, to in-process attacks only). None when it does not ask.
    static func checkpointNeedErrors(_ a: ResolvedAttack, _ config: AuditConfig) -> [ConfigError] {
        guard a.requirements.contains(.checkpoints) else { return [] }
        func error(_ message: String) -> ConfigError {
            ConfigError(
                file: config.file, line: a.line, key: "audit.attacks",
                "attack `\(a.name)` needs checkpoint logits; \(message)")
        }
        var errors: [ConfigError] = []
        if config.checkpoints.isEmpty && !config.trajectory.distills {
            errors.append(
                error(
                    "set `audit.checkpoints` (the epochs whose models it reads, e.g. [5, 10, 15, 20]) with a backend that offers checkpoints (`native`), or `audit.trajectory: {source: distillation, epochs: N}` (students distilled from each model)"
                ))
        }
        if !config.defences.isEmpty {
            errors.append(
                error(
                    "it cannot run behind `audit.output_defences` yet (the checkpoints are lent undefended); audit the defences in another run"
                ))
        }
        return errors
    }
}

extension AuditPlan {
    /// The config errors of `audit.trajectory.source: distillation`: an attack must read the
    /// trajectories, and the `model:` backend trains the students, so it must speak ABI 1.5
    /// (soft targets) and take an `epochs` option.
    static func trajectoryErrors(_ config: AuditConfig, _ attacks: [ResolvedAttack], _ model: ResolvedComponent?)
        -> [ConfigError]
    {
        guard config.trajectory.distills else { return [] }
        func refusal(_ message: String) -> ConfigError {
            ConfigError(file: config.file, line: config.trajectory.line, key: "audit.trajectory", message)
        }
        var errors: [ConfigError] = []
        if !attacks.contains(where: { $0.requirements.contains(.checkpoints) }) {
            errors.append(
                refusal(
                    "no attack reads trajectories (`MIA_NEEDS_CHECKPOINTS`, e.g. `loss-trajectory`): the students would be trained for nothing; add one or remove the key"
                ))
        }
        guard let model else {
            if config.model == nil {
                errors.append(
                    refusal("distillation trains the students with the `model:` backend: add a `model:` section"))
            }
            return errors
        }
        do { try DynamicModel.checkSoftTargets(model.info) } catch { errors.append(refusal("\(error)")) }
        if !model.info.options.contains(where: { $0.name == "epochs" }) {
            errors.append(
                refusal(
                    "the model backend `\(model.info.name)` (\(model.info.plugin.path)) has no `epochs` option, so the students' \(config.trajectory.epochs) epochs cannot be set"
                ))
        }
        return errors
    }
}
