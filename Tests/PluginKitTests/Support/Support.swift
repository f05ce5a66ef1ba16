import Foundation
import PluginABI
import PluginKit

// Shared helpers of the PluginKit tests: where things are, running a tool, loading a library
// with dlopen, and a minimal host table to hand to components.

/// The package's root folder, from this file's path (Tests/PluginKitTests/Support/Support.swift).
let packageRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// The folder of the running test binary, where SwiftPM puts every library it built.
let buildFolder: URL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()

/// A fresh temporary folder, removed by the caller with `removeFolder`.
func makeTemporaryFolder(_ tag: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("mia-\(tag)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func removeFolder(_ url: URL) { try? FileManager.default.removeItem(at: url) }

/// What a finished process wrote (standard output and error together) and how it ended.
struct ProcessResult {
    var status: Int32
    var output: String
}

/// Runs `tool` (looked up in PATH) with `arguments`.
func run(_ tool: String, _ arguments: [String], in folder: URL? = nil) throws -> ProcessResult {
    let (status, data) = try runProcess(tool, arguments, in: folder, mergeErrors: true)
    return ProcessResult(status: status, output: String(decoding: data, as: UTF8.self))
}

/// Runs `tool` and returns its raw standard output, throwing when it exits non-zero.
func runForData(_ tool: String, _ arguments: [String]) throws -> Data {
    let (status, data) = try runProcess(tool, arguments, in: nil, mergeErrors: false)
    guard status == 0 else { throw TestFailure("\(tool) \(arguments) exited with \(status)") }
    return data
}

private func runProcess(_ tool: String, _ arguments: [String], in folder: URL?, mergeErrors: Bool) throws -> (
    Int32, Data
) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [tool] + arguments
    if let folder { process.currentDirectoryURL = folder }
    let pipe = Pipe()
    process.standardOutput = pipe
    if mergeErrors { process.standardError = pipe }
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, data)
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A shared library opened the way the host opens plugins (never closed).
struct LoadedLibrary {
    let path: String
    let handle: UnsafeMutableRawPointer

    init(_ path: String) throws {
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            throw TestFailure("dlopen \(path): \(String(cString: dlerror()))")
        }
        self.path = path
        self.handle = handle
    }

    func symbol(_ name: String) -> UnsafeMutableRawPointer? { dlsym(handle, name) }

    /// Calls the entry symbol with ABI major `major` (the host's by default).
    func descriptor(major: UInt32 = UInt32(MIA_ABI_MAJOR)) throws -> UnsafePointer<mia_plugin_descriptor_t>? {
        guard let raw = symbol(MIA_PLUGIN_ENTRY_SYMBOL) else { throw TestFailure("\(path) has no entry symbol") }
        typealias Entry = @convention(c) (UInt32, UInt32) -> UnsafeRawPointer?
        let entry = unsafeBitCast(raw, to: Entry.self)
        return entry(major, UInt32(MIA_ABI_MINOR))?.assumingMemoryBound(to: mia_plugin_descriptor_t.self)
    }
}

/// The components of a descriptor.
func components(_ d: UnsafePointer<mia_plugin_descriptor_t>) -> [mia_component_t] {
    (0..<Int(d.pointee.component_count)).map { d.pointee.components[$0] }
}

func name(_ c: mia_component_t) -> String { String(cString: c.name) }

/// The options a component declares, by name.
func options(_ c: mia_component_t) -> [String: mia_option_t] {
    Dictionary(
        uniqueKeysWithValues: (0..<Int(c.option_count)).map { (String(cString: c.options[$0].name), c.options[$0]) })
}

/// A host table with no-op services, valid for the life of the process.
// Safe to share: built once by the global's thread-safe initialisation, never written after.
nonisolated(unsafe) let testHost: UnsafePointer<mia_host_t> = {
    var h = mia_host_t()
    h.struct_size = UInt32(MemoryLayout<mia_host_t>.size)
    h.abi_major = UInt32(MIA_ABI_MAJOR)
    h.abi_minor = UInt32(MIA_ABI_MINOR)
    h.context = nil
    h.log = { _, _, _ in }
    h.progress = { _, _, _, _ in }
    h.is_cancelled = { _ in false }
    h.get_extension = { _, _ in nil }
    let p = UnsafeMutablePointer<mia_host_t>.allocate(capacity: 1)
    p.initialize(to: h)
    return UnsafePointer(p)
}()

/// A status and message that came back through `mia_error_t`.
struct CallError: Error, Equatable, CustomStringConvertible {
    var status: mia_status_t
    var message: String
    var description: String { "status \(status): \(message)" }
}

/// Runs a C call that fills an error buffer; throws `CallError` on a non-zero status.
func call(_ body: (UnsafeMutablePointer<mia_error_t>) -> mia_status_t) throws {
    var error = mia_error_t()
    let status = body(&error)
    if status != MIA_OK { throw CallError(status: status, message: readMessage(&error)) }
}

/// The `CallError` that `body` throws, or nil when it throws none.
func callError(_ body: () throws -> Void) -> CallError? {
    do {
        try body()
        return nil
    } catch let e as CallError {
        return e
    } catch {
        return CallError(status: -1, message: "not a CallError: \(error)")
    }
}

/// The option names and types `component` declares (what the host reads to type the values it hands
/// to `create_component`).
func schema(_ component: mia_component_t) -> [OptionSpec] {
    (0..<Int(component.option_count)).compactMap { i in
        OptionType(rawValue: component.options[i].type).map {
            OptionSpec(String(cString: component.options[i].name), $0, "")
        }
    }
}

/// Lends a pointer to (a copy of) `component`, as the host hands its descriptor entry to
/// `create_component` / `open_component`.
func withComponent<R>(_ component: mia_component_t, _ body: (UnsafePointer<mia_component_t>) throws -> R) rethrows -> R
{
    var c = component
    return try withUnsafePointer(to: &c) { try body($0) }
}

/// A dataset component driven through its C vtable (ABI 1.2 `open_component` when it has one).
final class CDataset {
    let table: UnsafePointer<mia_dataset_vtable_t>
    let instance: UnsafeMutableRawPointer?

    init(_ component: mia_component_t, options json: String?) throws {
        let table = component.vtable.assumingMemoryBound(to: mia_dataset_vtable_t.self)
        self.table = table
        var out: UnsafeMutableRawPointer?
        if let open = table.pointee.open_component, let json, (try? PluginOptions(json: json)) != nil {
            try withComponent(component) { c in
                try CreateArguments.with(component: c, host: testHost, json: json, schema: schema(component)) { args in
                    try call { open(args, &out, $0) }
                }
            }
        } else if let open = table.pointee.open_component, let json {
            // Text that is not a JSON object: handed as it is, with no typed values.
            try withComponent(component) { c in
                try json.withCString { j in
                    var args = mia_create_args_t()
                    args.struct_size = UInt32(MemoryLayout<mia_create_args_t>.size)
                    args.component = c
                    args.host = testHost
                    args.options_json = j
                    try call { open(&args, &out, $0) }
                }
            }
        } else if let open = table.pointee.open_component {
            // No options at all: arguments whose JSON text is NULL.
            try withComponent(component) { c in
                var args = mia_create_args_t()
                args.struct_size = UInt32(MemoryLayout<mia_create_args_t>.size)
                args.component = c
                args.host = testHost
                try call { open(&args, &out, $0) }
            }
        } else if let json {
            try call { e in json.withCString { table.pointee.open(testHost, $0, &out, e) } }
        } else {
            try call { e in table.pointee.open(testHost, nil, &out, e) }
        }
        instance = out
    }

    deinit { table.pointee.close(instance) }

    func info() throws -> DatasetInfo {
        var info = mia_dataset_info_t()
        info.struct_size = UInt32(MemoryLayout<mia_dataset_info_t>.size)
        try call { table.pointee.info(instance, &info, $0) }
        return DatasetInfo(
            recordCount: Int(info.record_count), classCount: Int(info.class_count),
            featureShape: TensorView.dims(info.feature_shape, info.feature_ndim))
    }

    /// Reads records [start, start + count) into fresh arrays (`featureSize` floats each).
    func read(start: Int, count: Int, featureSize: Int) throws -> (features: [Float], labels: [Int32]) {
        var features = [Float](repeating: -1, count: count * featureSize)
        var labels = [Int32](repeating: -1, count: count)
        try features.withUnsafeMutableBufferPointer { f in
            try labels.withUnsafeMutableBufferPointer { l in
                var ft = TensorView.make(f.baseAddress!, dtype: MIA_DTYPE_F32, shape: [count, featureSize])
                var lt = TensorView.make(l.baseAddress!, dtype: MIA_DTYPE_I32, shape: [count])
                try call { table.pointee.read(instance, Int64(start), Int64(count), &ft, &lt, $0) }
            }
        }
        return (features, labels)
    }
}

/// An attack component driven through its C vtable (ABI 1.2 `create_component` when it has one).
final class CAttack {
    let table: UnsafePointer<mia_attack_vtable_t>
    let instance: UnsafeMutableRawPointer?

    init(_ component: mia_component_t, options json: String) throws {
        let table = component.vtable.assumingMemoryBound(to: mia_attack_vtable_t.self)
        self.table = table
        var out: UnsafeMutableRawPointer?
        if let create = table.pointee.create_component {
            try withComponent(component) { c in
                try CreateArguments.with(component: c, host: testHost, json: json, schema: schema(component)) { args in
                    try call { create(args, &out, $0) }
                }
            }
        } else {
            try call { e in json.withCString { table.pointee.create(testHost, $0, &out, e) } }
        }
        instance = out
    }

    deinit { table.pointee.destroy(instance) }

    var requirements: UInt32 { table.pointee.requirements(instance) }

    /// Scores `labels` ([N]) with target `logits` ([N, classCount]); returns scores and mask.
    func score(labels: [Int32], logits: [Float], classCount: Int) throws -> (scores: [Double], mask: [UInt8]) {
        let n = labels.count
        var scores = [Double](repeating: 0, count: n)
        var mask = [UInt8](repeating: 1, count: n)
        try labels.withUnsafeBufferPointer { l in
            try logits.withUnsafeBufferPointer { t in
                var s = mia_signals_t()
                s.struct_size = UInt32(MemoryLayout<mia_signals_t>.size)
                s.record_count = Int64(n)
                s.class_count = Int32(classCount)
                s.labels = l.baseAddress
                s.target_logits = t.baseAddress
                try call { table.pointee.score(instance, &s, &scores, &mask, $0) }
            }
        }
        return (scores, mask)
    }
}
