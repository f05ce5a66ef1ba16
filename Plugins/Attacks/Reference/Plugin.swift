import PluginKit

/// The reference-model attacks: LiRA, RMIA, attack R and BASE.
@c(mia_plugin_entry)
public func miaPluginEntry(_ major: UInt32, _ minor: UInt32) -> UnsafeRawPointer? {
    PluginExport.entry(
        hostMajor: major,
        PluginDefinition(
            name: "mia-attacks-reference", version: "1.0.0",
            components: [
                .attack(LiRAAttack.self), .attack(RMIAAttack.self), .attack(ReferenceThresholdAttack.self),
                .attack(BASEAttack.self),
            ]))
}
