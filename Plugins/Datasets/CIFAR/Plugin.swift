import PluginKit

/// The entry of the `mia-dataset-cifar` plugin: one dataset loader, `cifar`.
@c(mia_plugin_entry)
public func miaPluginEntry(_ major: UInt32, _ minor: UInt32) -> UnsafeRawPointer? {
    PluginExport.entry(
        hostMajor: major,
        PluginDefinition(name: "mia-dataset-cifar", version: "1.0.0", components: [.dataset(CIFARDataset.self)]))
}
