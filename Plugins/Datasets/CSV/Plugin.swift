import PluginKit

/// The entry of the `mia-dataset-csv` plugin: one dataset loader, `csv`.
@c(mia_plugin_entry)
public func miaPluginEntry(_ major: UInt32, _ minor: UInt32) -> UnsafeRawPointer? {
    PluginExport.entry(
        hostMajor: major,
        PluginDefinition(name: "mia-dataset-csv", version: "1.0.0", components: [.dataset(CSVDataset.self)]))
}
