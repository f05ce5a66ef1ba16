import Foundation

/// Where attacks that read every checkpoint at once (`MIA_NEEDS_CHECKPOINTS`, the loss trajectory)
/// get their per-epoch logits (`audit.trajectory`).
///
/// - `checkpoints` (the default): every model's own checkpoints at the epochs of
///   `audit.checkpoints` (models this audit trains, a backend that offers checkpoints);
/// - `distillation` (Liu et al. 2022, the paper's attacker): each model (the target, even one
///   given as a file, and every reference model) is distilled into a student, trained by the
///   `model:` backend with `model.options` (its `epochs` replaced by `epochs`) on the model's
///   soft targets, softmax(z / T), on the population records (known non-members of every model,
///   whose logits the audit already holds); the student's logits on the audit records at the end
///   of each of its epochs 1 … `epochs` make the trajectory. Students are kept in the model store.
struct TrajectoryConfig: Equatable {
    enum Source: String, Equatable { case checkpoints, distillation }
    var source = Source.checkpoints
    /// Distillation epochs E: the student's epochs, each a point of the trajectory.
    var epochs = 0
    /// T of the soft targets and of the student's loss T²·KL.
    var temperature = 1.0
    /// Where `audit.trajectory` is, for errors found later (file, key, line).
    var line: Int? = nil

    var distills: Bool { source == .distillation }
}

extension AuditConfig {
    /// Reads `audit.trajectory`: `source` (`checkpoints` or `distillation`, required), and with
    /// `distillation` `epochs` (required, 1 to 10,000) and `temperature` (> 0, default 1). Needs
    /// records and a model (not `signals:`) and a population set to distil on.
    static func parseTrajectory(_ node: ConfigNode?, _ top: ConfigNode, populationRecords: Int) throws
        -> TrajectoryConfig
    {
        guard let node else { return TrajectoryConfig() }
        try node.checkKeys(["source", "epochs", "temperature"])
        let sourceNode = try node.require("source")
        let name = try sourceNode.string()
        guard let source = TrajectoryConfig.Source(rawValue: name) else {
            throw sourceNode.error(
                "unknown trajectory source `\(name)`; use `checkpoints` (the models' own, `audit.checkpoints`) or `distillation` (students distilled from each model)"
                    + didYouMean(name, ["checkpoints", "distillation"]))
        }
        var t = TrajectoryConfig(source: source, line: node.line)
        guard source == .distillation else {
            for key in ["epochs", "temperature"] where node[key] != nil {
                throw node[key]!.error(
                    "`\(key)` belongs to `source: distillation`; the checkpoints' epochs are `audit.checkpoints`")
            }
            return t
        }
        if top["signals"] != nil {
            throw sourceNode.error(
                "distillation needs the models' records and a model backend to train students; with `signals:` there are none"
            )
        }
        guard populationRecords > 0 else {
            throw sourceNode.error(
                "distillation trains the students on the population records: set `dataset.population_records` (e.g. 1000)"
            )
        }
        let epochs = try node.require("epochs")
        t.epochs = try epochs.int()
        guard (1...10_000).contains(t.epochs) else {
            throw epochs.error("the distillation epochs must be between 1 and 10000, not \(t.epochs)")
        }
        if let temperature = node["temperature"] {
            t.temperature = try temperature.double()
            guard t.temperature > 0, t.temperature.isFinite else {
                throw temperature.error("the distillation temperature must be a positive number, not \(t.temperature)")
            }
        }
        return t
    }
}
