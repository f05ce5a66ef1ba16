import PluginKit

/// The plugin's one exported symbol: the descriptor of `mia-model-native`, whose only component
/// is the `native` model backend.
@c(mia_plugin_entry)
public func miaPluginEntry(_ major: UInt32, _ minor: UInt32) -> UnsafeRawPointer? {
    PluginExport.entry(
        hostMajor: major,
        PluginDefinition(name: "mia-model-native", version: "0.1.0", components: [.model(NativeModel.self)]))
}
