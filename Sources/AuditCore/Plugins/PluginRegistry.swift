import Foundation
import PluginABI
import PluginKit

/// The kind of a component, as the config and the terminal name it.
public enum ComponentKind: Int32, Sendable, CustomStringConvertible, CaseIterable {
    case dataset = 1, model, attack

    public var description: String {
        switch self {
        case .dataset: "dataset"
        case .model: "model"
        case .attack: "attack"
        }
    }
}

/// One component found in a loaded plugin.
public struct ComponentInfo: @unchecked Sendable {
    public var kind: ComponentKind
    public var name: String
    public var summary: String
    public var options: [OptionSpec]
    /// The component's C table (`mia_dataset_vtable_t`, `mia_model_vtable_t` or `mia_attack_vtable_t`):
    /// the host's copy in its own layout, zero past the plugin's `struct_size` (which it keeps).
    var vtable: UnsafeRawPointer
    public var plugin: PluginInfo
    /// The plugin's own `mia_component_t` (static in the plugin), handed back to it by the ABI 1.2
    /// `create_component` / `open_component`; nil for a component made up by a test.
    var descriptor: UnsafePointer<mia_component_t>? = nil
}

/// A plugin library that loaded.
public struct PluginInfo: Sendable, Equatable {
    public var path: String
    public var name: String
    public var version: String
    public var abiMajor: UInt32
    public var abiMinor: UInt32
    public var toolchain: String
}

/// Why a file was not loaded, or a component was ignored.
public struct PluginProblem: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String
    /// True when the library loaded and only one of its components was ignored (a duplicate
    /// name): the library's other components are in use.
    public var libraryLoaded = false

    public var description: String { "\(path): \(reason)" }
}

/// The plugins found on the search path: what loaded, and what did not and why.
///
/// Discovery looks, in order, at the folders named in the config (`plugins.paths`), at
/// `MIA_PLUGIN_PATH` (colon-separated), and at the folder of the running executable (where
/// SwiftPM puts the built-in plugins). In named folders every shared library is tried and each
/// one that fails is reported; in the executable's folder only `libMIA*` files are tried.
/// Libraries are opened `RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE` and never unloaded.
///
/// Plugins of every minor version of ABI 1 load: the descriptor's components and each
/// component's options are walked by each element's own `struct_size`, and every table is read
/// through its `struct_size` (StructPrefix.swift), so a 1.0 or 1.1 plugin's shorter structs are
/// read as they are, their missing 1.2 fields as zero.
public final class PluginRegistry: @unchecked Sendable {
    public private(set) var plugins: [PluginInfo] = []
    public private(set) var components: [ComponentInfo] = []
    public private(set) var problems: [PluginProblem] = []
    private var loadedPaths: Set<String> = []

    init() {}

    /// Discovers plugins in `folders`, then `MIA_PLUGIN_PATH`, then the executable's folder.
    public static func discover(
        folders: [String] = [], includeEnvironment: Bool = true, includeBuildFolder: Bool = true
    ) -> PluginRegistry {
        let registry = PluginRegistry()
        for folder in folders { registry.scan(folder, onlyBuiltIn: false) }
        if includeEnvironment, let env = ProcessInfo.processInfo.environment["MIA_PLUGIN_PATH"] {
            for folder in env.split(separator: ":") where !folder.isEmpty {
                registry.scan(String(folder), onlyBuiltIn: false)
            }
        }
        if includeBuildFolder { registry.scan(executableFolder(), onlyBuiltIn: true) }
        return registry
    }

    /// The folder of the running executable (`/proc/self/exe`), where SwiftPM builds the plugins.
    static func executableFolder() -> String {
        let exe =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        return (exe as NSString).deletingLastPathComponent
    }

    static func isLibrary(_ name: String) -> Bool {
        name.hasSuffix(".so") || name.contains(".so.") || name.hasSuffix(".dylib")
    }

    /// Loads every library in `path` (a folder, or one library file).
    func scan(_ path: String, onlyBuiltIn: Bool) {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            if !onlyBuiltIn { problems.append(PluginProblem(path: path, reason: "plugin folder does not exist")) }
            return
        }
        if !isDir.boolValue {
            load(path)
            return
        }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
        for name in names where Self.isLibrary(name) {
            if onlyBuiltIn && !name.hasPrefix("libMIA") { continue }
            load((path as NSString).appendingPathComponent(name))
        }
    }

    /// Loads one library; on failure records a problem with the path and the reason.
    @discardableResult
    func load(_ path: String) -> PluginInfo? {
        let real = (path as NSString).resolvingSymlinksInPath
        guard !loadedPaths.contains(real) else { return nil }
        loadedPaths.insert(real)
        do {
            return try open(real)
        } catch let problem as PluginProblem {
            problems.append(problem)
        } catch {
            problems.append(PluginProblem(path: real, reason: "\(error)"))
        }
        return nil
    }

    private func open(_ path: String) throws -> PluginInfo {
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown dlopen error"
            throw PluginProblem(path: path, reason: "not a loadable library: \(reason)")
        }
        guard let symbol = dlsym(handle, MIA_PLUGIN_ENTRY_SYMBOL) else {
            throw PluginProblem(path: path, reason: "not a plugin: it exports no `\(MIA_PLUGIN_ENTRY_SYMBOL)` symbol")
        }
        let entry = unsafeBitCast(symbol, to: mia_plugin_entry_fn.self)
        let found = PluginGuard.inFlight(library: path, pluginName: "", what: "library", call: MIA_PLUGIN_ENTRY_SYMBOL)
        {
            entry(UInt32(MIA_ABI_MAJOR), UInt32(MIA_ABI_MINOR))
        }
        guard let descriptor = found else {
            throw PluginProblem(
                path: path, reason: "the plugin declined this host's ABI \(MIA_ABI_MAJOR).\(MIA_ABI_MINOR)")
        }
        let descriptorSize = structSize(UnsafeRawPointer(descriptor))
        guard descriptorSize >= UInt32(minimumSize(\mia_plugin_descriptor_t.component_count)) else {
            throw PluginProblem(
                path: path, reason: "descriptor is \(descriptorSize) bytes, smaller than ABI \(MIA_ABI_MAJOR).0's")
        }
        let d = readPrefix(UnsafeRawPointer(descriptor), size: descriptorSize, as: mia_plugin_descriptor_t.self)
        guard d.abi_major == UInt32(MIA_ABI_MAJOR) else {
            throw PluginProblem(
                path: path,
                reason:
                    "built for plugin ABI \(d.abi_major).\(d.abi_minor), but this host speaks ABI \(MIA_ABI_MAJOR).\(MIA_ABI_MINOR); rebuild it against this host's headers"
            )
        }
        let toolchain = d.toolchain.map { String(cString: $0) } ?? "c"
        if toolchain.hasPrefix("swift-") && toolchain != swiftToolchainID {
            throw PluginProblem(
                path: path,
                reason:
                    "a Swift plugin built with \(toolchain), but this host runs \(swiftToolchainID); Swift has no stable ABI on Linux, rebuild the plugin with this toolchain"
            )
        }
        let info = PluginInfo(
            path: path, name: d.name.map { String(cString: $0) } ?? "(unnamed)",
            version: d.version.map { String(cString: $0) } ?? "?", abiMajor: d.abi_major, abiMinor: d.abi_minor,
            toolchain: toolchain)
        plugins.append(info)
        var element = d.components.map { UnsafeRawPointer($0) }
        for i in 0..<Int(max(0, d.component_count)) {
            guard let here = element else { break }
            let size = structSize(here)
            guard size >= UInt32(minimumSize(\mia_component_t.vtable)) else {
                problems.append(
                    PluginProblem(
                        path: path,
                        reason: "component \(i) is \(size) bytes, smaller than ABI 1.0's; the rest are ignored"))
                break
            }
            element = here + Int(size)
            let c = readPrefix(here, size: size, as: mia_component_t.self)
            guard let kind = ComponentKind(rawValue: c.kind), let vtable = c.vtable, let cname = c.name else {
                problems.append(
                    PluginProblem(
                        path: path,
                        reason: "component \(i) has an unknown kind (\(c.kind)) or no table or name; ignored",
                        libraryLoaded: true))
                continue
            }
            let name = String(cString: cname)
            if let why = Self.tableProblem(kind, vtable) {
                problems.append(PluginProblem(path: path, reason: "\(kind) `\(name)`: \(why); ignored"))
                continue
            }
            if let other = components(named: name).first(where: { $0.kind == kind }) {
                problems.append(
                    PluginProblem(
                        path: path,
                        reason:
                            "\(kind) `\(name)` is also defined by \(other.plugin.path), found first, which is used; this library's `\(name)` is ignored, its other components are loaded",
                        libraryLoaded: true))
                continue
            }
            self.components.append(
                ComponentInfo(
                    kind: kind, name: name, summary: c.description.map { String(cString: $0) } ?? "",
                    options: Self.options(c),
                    vtable: hostTable(kind, vtable), plugin: info,
                    descriptor: here.assumingMemoryBound(to: mia_component_t.self)))
        }
        return info
    }

    /// The options of `c`, walked by each element's `struct_size`; ranges read when it covers them.
    static func options(_ c: mia_component_t) -> [OptionSpec] {
        var options: [OptionSpec] = []
        var element = c.options.map { UnsafeRawPointer($0) }
        for _ in 0..<Int(max(0, c.option_count)) {
            guard let here = element else { break }
            let size = structSize(here)
            guard size >= UInt32(minimumSize(\mia_option_t.description)) else { break }
            element = here + Int(size)
            let o = readPrefix(here, size: size, as: mia_option_t.self)
            guard let oname = o.name, let type = OptionType(rawValue: o.type) else { continue }
            var spec = OptionSpec(
                String(cString: oname), type, required: o.required != 0,
                default: o.default_json.map { String(cString: $0) },
                choices: o.choices.map { String(cString: $0).split(separator: "|").map(String.init) },
                o.description.map { String(cString: $0) } ?? "")
            spec.range = OptionRange(o)
            options.append(spec)
        }
        return options
    }

    /// Why a component's table cannot be used (too small for ABI 1.0, or no way to create an
    /// instance), or nil when it can.
    static func tableProblem(_ kind: ComponentKind, _ vtable: UnsafeRawPointer) -> String? {
        let size = Int(structSize(vtable))
        switch kind {
        case .dataset:
            guard size >= minimumSize(\mia_dataset_vtable_t.close) else {
                return "its table is \(size) bytes, smaller than ABI 1.0's"
            }
            let t = ComponentTable<mia_dataset_vtable_t>(vtable).table
            if t.open == nil && t.open_component == nil { return "its table has neither `open` nor `open_component`" }
        case .model:
            guard size >= minimumSize(\mia_model_vtable_t.destroy) else {
                return "its table is \(size) bytes, smaller than ABI 1.0's"
            }
            let t = ComponentTable<mia_model_vtable_t>(vtable).table
            if t.create == nil && t.create_component == nil {
                return "its table has neither `create` nor `create_component`"
            }
        case .attack:
            guard size >= minimumSize(\mia_attack_vtable_t.destroy) else {
                return "its table is \(size) bytes, smaller than ABI 1.0's"
            }
            let t = ComponentTable<mia_attack_vtable_t>(vtable).table
            if t.create == nil && t.create_component == nil {
                return "its table has neither `create` nor `create_component`"
            }
        }
        return nil
    }

    public func components(named name: String) -> [ComponentInfo] { components.filter { $0.name == name } }

    func component(_ kind: ComponentKind, named name: String) -> ComponentInfo? {
        components.first { $0.kind == kind && $0.name == name }
    }
}
