import PluginKit

/// The entry of the `mia-model-http` plugin: one model backend, `http`.
@c(mia_plugin_entry)
public func miaPluginEntry(_ major: UInt32, _ minor: UInt32) -> UnsafeRawPointer? {
    PluginExport.entry(
        hostMajor: major,
        PluginDefinition(name: "mia-model-http", version: "1.0.0", components: [.model(HTTPModel.self)]))
}
