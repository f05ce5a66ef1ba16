import PluginKit

/// The entry of the `mia-dataset-idx` plugin: its descriptor, or nil for another ABI major.
@c(mia_plugin_entry)
public func miaPluginEntry(_ major: UInt32, _ minor: UInt32) -> UnsafeRawPointer? {
    PluginExport.entry(
        hostMajor: major,
        PluginDefinition(name: "mia-dataset-idx", version: "1.0.0", components: [.dataset(IDXDataset.self)]))
}
