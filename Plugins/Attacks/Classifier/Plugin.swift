import PluginKit

/// The trained-classifier attacks: a classifier on known membership, Shokri et al.'s shadow
/// models, ML-Leaks, QMIA's quantile regression, the label-only boundary distance, and the loss
/// trajectory over checkpoints.
@c(mia_plugin_entry)
public func miaPluginEntry(_ major: UInt32, _ minor: UInt32) -> UnsafeRawPointer? {
    PluginExport.entry(
        hostMajor: major,
        PluginDefinition(
            name: "mia-attacks-classifier", version: "1.0.0",
            components: [
                .attack(ClassifierAttack.self), .attack(ShokriAttack.self), .attack(MLLeaksAttack.self),
                .attack(QMIAAttack.self), .attack(BoundaryDistanceAttack.self), .attack(LossTrajectoryAttack.self),
            ]))
}
