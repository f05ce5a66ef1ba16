import PluginKit

/// The entry of the `mia-dataset-npy` plugin: its descriptor, or nil for another ABI major.
@c(mia_plugin_entry)
public func miaPluginEntry(_ major: UInt32, _ minor: UInt32) -> UnsafeRawPointer? {
    PluginExport.entry(
        hostMajor: major,
        PluginDefinition(name: "mia-dataset-npy", version: "1.0.0", components: [.dataset(NPYDataset.self)]))
}
