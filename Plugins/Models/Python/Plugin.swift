import PluginKit

/// The entry of the `mia-model-python` plugin: one model backend, `python`.
@c(mia_plugin_entry)
public func miaPluginEntry(_ major: UInt32, _ minor: UInt32) -> UnsafeRawPointer? {
    PluginExport.entry(
        hostMajor: major,
        PluginDefinition(name: "mia-model-python", version: "1.0.0", components: [.model(PythonModel.self)]))
}
