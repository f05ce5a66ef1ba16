import PluginKit

/// The threshold attacks on one model's outputs: loss, confidence, entropy, modified entropy,
/// correctness, the kernel-density loss attack, and the label-only gap attack.
@c(mia_plugin_entry)
public func miaPluginEntry(_ major: UInt32, _ minor: UInt32) -> UnsafeRawPointer? {
    PluginExport.entry(
        hostMajor: major,
        PluginDefinition(
            name: "mia-attacks-threshold", version: "1.0.0",
            components: [
                .attack(LossThresholdAttack.self), .attack(ConfidenceAttack.self), .attack(EntropyAttack.self),
                .attack(ModifiedEntropyAttack.self), .attack(CorrectnessAttack.self), .attack(KDELossAttack.self),
                .attack(GapAttack.self),
            ]))
}
