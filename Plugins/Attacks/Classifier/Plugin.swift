import PluginKit

@c(mia_plugin_entry)
public func miaPluginEntry(_ major: UInt32, _ minor: UInt32) -> UnsafeRawPointer? {
    PluginExport.entry(hostMajor: major, PluginDefinition(name: "mia-attacks-classifier", version: "0.1.0", components: []))
}
