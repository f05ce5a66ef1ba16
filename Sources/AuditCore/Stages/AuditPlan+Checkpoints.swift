import PluginKit

// An attack that reads every model's checkpoints at once (`MIA_NEEDS_CHECKPOINTS`, the loss
// trajectory): what the config must provide, checked before any training.
extension AuditPlan {
    /// The config errors of attack `a` asking for checkpoint logits: it needs `audit.checkpoints`,
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
        if config.checkpoints.isEmpty {
            errors.append(
                error(
                    "set `audit.checkpoints` (the epochs whose models it reads, e.g. [5, 10, 15, 20]) with a backend that offers checkpoints (`native`)"
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
