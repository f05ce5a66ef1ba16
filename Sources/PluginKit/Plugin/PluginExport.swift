import Foundation
import PluginABI

/// One component of a plugin, by its Swift type.
///
/// Unchecked: a metatype is safe to share here, since the plugin kinds' protocols have no
/// actor-isolated conformances (every requirement is called from any thread).
public enum Component: @unchecked Sendable {
    case dataset(any DatasetLoader.Type)
    case model(any ModelBackend.Type)
    case attack(any AttackStrategy.Type)

    var type: any PluginComponent.Type {
        switch self {
        case .dataset(let t): t
        case .model(let t): t
        case .attack(let t): t
        }
    }

    /// The type to create, when the component is of that kind (read by the vtable of the kind).
    var datasetType: (any DatasetLoader.Type)? { if case .dataset(let t) = self { t } else { nil } }
    var modelType: (any ModelBackend.Type)? { if case .model(let t) = self { t } else { nil } }
    var attackType: (any AttackStrategy.Type)? { if case .attack(let t) = self { t } else { nil } }
}

/// What a Swift plugin library exports: its name, version and components.
///
/// Export it with one function in the plugin:
///
/// ```swift
/// @c(mia_plugin_entry)
/// public func miaPluginEntry(_ major: UInt32, _ minor: UInt32) -> UnsafeRawPointer? {
///     PluginExport.entry(hostMajor: major, PluginDefinition(
///         name: "my-attacks", version: "1.0.0", components: [.attack(MyAttack.self)]))
/// }
/// ```
public struct PluginDefinition: Sendable {
    public var name: String
    public var version: String
    public var components: [Component]

    public init(name: String, version: String, components: [Component]) {
        self.name = name
        self.version = version
        self.components = components
    }
}

/// Builds the C descriptor of a Swift plugin, once, and keeps it for the life of the process.
public enum PluginExport {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var descriptor: UnsafeMutablePointer<mia_plugin_descriptor_t>?

    /// The plugin's descriptor, or nil when the host's ABI major is not this one.
    public static func entry(hostMajor: UInt32, _ definition: @autoclosure () -> PluginDefinition) -> UnsafeRawPointer?
    {
        guard hostMajor == UInt32(MIA_ABI_MAJOR) else { return nil }
        lock.lock()
        defer { lock.unlock() }
        if descriptor == nil { descriptor = build(definition()) }
        return UnsafeRawPointer(descriptor)
    }

    private static func build(_ definition: PluginDefinition) -> UnsafeMutablePointer<mia_plugin_descriptor_t> {
        let components = UnsafeMutablePointer<mia_component_t>.allocate(capacity: max(1, definition.components.count))
        for (i, component) in definition.components.enumerated() {
            var c = mia_component_t()
            c.struct_size = UInt32(MemoryLayout<mia_component_t>.size)
            let type = component.type
            c.name = UnsafePointer(strdup(type.name))
            c.description = UnsafePointer(strdup(type.summary))
            let options = type.options
            let table = UnsafeMutablePointer<mia_option_t>.allocate(capacity: max(1, options.count))
            for (j, o) in options.enumerated() {
                var opt = mia_option_t()
                opt.struct_size = UInt32(MemoryLayout<mia_option_t>.size)
                opt.name = UnsafePointer(strdup(o.name))
                opt.type = o.type.rawValue
                opt.required = o.required ? 1 : 0
                opt.default_json = o.defaultJSON.map { UnsafePointer(strdup($0)!) }
                opt.choices = o.choices.map { UnsafePointer(strdup($0.joined(separator: "|"))!) }
                opt.description = UnsafePointer(strdup(o.summary))
                o.range.write(to: &opt)
                table[j] = opt
            }
            c.options = UnsafePointer(table)
            c.option_count = Int32(options.count)
            // One table per kind; the Swift type to create travels in the component's `context`.
            c.context = componentContext(component)
            switch component {
            case .dataset:
                c.kind = MIA_COMPONENT_DATASET
                c.vtable = UnsafeRawPointer(DatasetBridge.table)
            case .model:
                c.kind = MIA_COMPONENT_MODEL
                c.vtable = UnsafeRawPointer(ModelBridge.table)
            case .attack:
                c.kind = MIA_COMPONENT_ATTACK
                c.vtable = UnsafeRawPointer(AttackBridge.table)
            }
            components[i] = c
        }
        let d = UnsafeMutablePointer<mia_plugin_descriptor_t>.allocate(capacity: 1)
        var desc = mia_plugin_descriptor_t()
        desc.struct_size = UInt32(MemoryLayout<mia_plugin_descriptor_t>.size)
        desc.abi_major = UInt32(MIA_ABI_MAJOR)
        desc.abi_minor = UInt32(MIA_ABI_MINOR)
        desc.name = UnsafePointer(strdup(definition.name))
        desc.version = UnsafePointer(strdup(definition.version))
        desc.toolchain = UnsafePointer(strdup(swiftToolchainID))
        desc.components = UnsafePointer(components)
        desc.component_count = Int32(definition.components.count)
        d.initialize(to: desc)
        return d
    }
}

/// Runs `body`, turning a thrown error into a status and a message: the one Swift -> C boundary.
@inline(__always)
func guarded(_ out: UnsafeMutablePointer<mia_error_t>?, _ body: () throws -> Void) -> mia_status_t {
    do {
        try body()
        return MIA_OK
    } catch {
        return PluginError.from(error).write(to: out)
    }
}
