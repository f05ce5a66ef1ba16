import Foundation
import PluginABI
import PluginKit
import Testing

/// The plugins as the host sees them: built shared libraries opened with dlopen, used
/// only through the C descriptor and vtables, with options JSON carrying every default (as the
/// host's option checker fills them in).
enum PluginLibraries {
    static let folder: String = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        var url = URL(fileURLWithPath: exe).deletingLastPathComponent()
        // The test binary may sit inside an .xctest bundle folder.
        while url.path.count > 1 && !FileManager.default.fileExists(atPath: url.path + "/libMIADatasetCSV.so") {
            if url.pathExtension.isEmpty { break }
            url.deleteLastPathComponent()
        }
        return url.path
    }()

    static let names = ["libMIADatasetCSV.so", "libMIADatasetCIFAR.so", "libMIAModelPython.so", "libMIAModelHTTP.so"]
    static let built = names.allSatisfy { FileManager.default.fileExists(atPath: folder + "/" + $0) }

    /// The only component of the library `name`.
    static func component(_ name: String) throws -> mia_component_t {
        guard let handle = dlopen(folder + "/" + name, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            throw PluginError(.io, String(cString: dlerror()))
        }
        guard let symbol = dlsym(handle, "mia_plugin_entry") else { throw PluginError(.io, "no entry in \(name)") }
        typealias Entry = @convention(c) (UInt32, UInt32) -> UnsafeRawPointer?
        let entry = unsafeBitCast(symbol, to: Entry.self)
        guard let raw = entry(UInt32(MIA_ABI_MAJOR), UInt32(MIA_ABI_MINOR)) else {
            throw PluginError(.io, "\(name) declined")
        }
        let descriptor = raw.assumingMemoryBound(to: mia_plugin_descriptor_t.self).pointee
        guard descriptor.component_count == 1 else {
            throw PluginError(.io, "\(name): \(descriptor.component_count) components")
        }
        return descriptor.components[0]
    }

    /// The component's defaults overridden by `given`, as one JSON object.
    static func optionsJSON(_ c: mia_component_t, _ given: [String: String]) -> String {
        var fields: [String: String] = [:]
        for i in 0..<Int(c.option_count) {
            let o = c.options[i]
            if let d = o.default_json { fields[String(cString: o.name)] = String(cString: d) }
        }
        fields.merge(given) { $1 }
        return "{"
            + fields.sorted { $0.key < $1.key }.map { "\(jsonString($0.key)):\($0.value)" }.joined(separator: ",") + "}"
    }

    static func jsonString(_ s: String) -> String { String(decoding: try! JSONEncoder().encode(s), as: UTF8.self) }

    /// Opens dataset `c` through its ABI 1.2 `open_component` (Swift plugins share one table per kind).
    static func open(
        _ c: mia_component_t, _ json: String, _ instance: inout UnsafeMutableRawPointer?, _ error: inout mia_error_t
    ) -> mia_status_t {
        var copy = c
        let open = c.vtable.assumingMemoryBound(to: mia_dataset_vtable_t.self).pointee.open_component!
        return withUnsafePointer(to: &copy) { cp in
            (try? CreateArguments.with(component: cp, host: nil, json: json) { open($0, &instance, &error) })
                ?? MIA_ERR_INVALID_ARGUMENT
        }
    }

    /// Creates model `c` through its ABI 1.2 `create_component`.
    static func create(
        _ c: mia_component_t, _ json: String, _ spec: inout mia_model_spec_t,
        _ instance: inout UnsafeMutableRawPointer?,
        _ error: inout mia_error_t
    ) -> mia_status_t {
        var copy = c
        let create = c.vtable.assumingMemoryBound(to: mia_model_vtable_t.self).pointee.create_component!
        return withUnsafePointer(to: &copy) { cp in
            (try? CreateArguments.with(component: cp, host: nil, json: json) { create($0, &spec, &instance, &error) })
                ?? MIA_ERR_INVALID_ARGUMENT
        }
    }

    static func check(_ status: mia_status_t, _ error: inout mia_error_t) throws {
        if status != MIA_OK { throw PluginError(.internal, readMessage(&error)) }
    }
}

@Suite(.enabled(if: PluginLibraries.built, "build the plugin libraries first (swift build)"))
struct PluginLibraryTests {
    @Test func librariesDescribeThemselves() throws {
        for (library, name, kind) in [
            ("libMIADatasetCSV.so", "csv", MIA_COMPONENT_DATASET),
            ("libMIADatasetCIFAR.so", "cifar", MIA_COMPONENT_DATASET),
            ("libMIADatasetNPY.so", "npy", MIA_COMPONENT_DATASET),
            ("libMIAModelPython.so", "python", MIA_COMPONENT_MODEL),
            ("libMIAModelHTTP.so", "http", MIA_COMPONENT_MODEL),
        ] {
            let c = try PluginLibraries.component(library)
            #expect(String(cString: c.name) == name && c.kind == kind)
            // Every default is valid JSON.
            for i in 0..<Int(c.option_count) {
                if let d = c.options[i].default_json {
                    #expect(
                        (try? JSONSerialization.jsonObject(
                            with: Data(String(cString: d).utf8), options: .fragmentsAllowed))
                            != nil)
                }
            }
        }
    }

    @Test func csvThroughTheCABI() throws {
        let dir = TemporaryDirectory("abi")
        let path = try dir.write("t.csv", "x,colour,y\n1.5,red,b\n-2,blue,a\n")
        let c = try PluginLibraries.component("libMIADatasetCSV.so")
        let table = c.vtable.assumingMemoryBound(to: mia_dataset_vtable_t.self).pointee
        var error = mia_error_t()
        var instance: UnsafeMutableRawPointer?
        let json = PluginLibraries.optionsJSON(
            c,
            [
                "path": PluginLibraries.jsonString(path), "label_column": "\"y\"",
                "categorical_columns": "[\"colour\"]",
            ])
        try PluginLibraries.check(PluginLibraries.open(c, json, &instance, &error), &error)
        defer { table.close(instance) }
        var info = mia_dataset_info_t()
        info.struct_size = UInt32(MemoryLayout<mia_dataset_info_t>.size)
        try PluginLibraries.check(table.info(instance, &info, &error), &error)
        #expect(info.record_count == 2 && info.class_count == 2 && info.feature_ndim == 1 && info.feature_shape.0 == 3)
        var features = [Float](repeating: 0, count: 6)
        var labels = [Int32](repeating: 0, count: 2)
        try features.withUnsafeMutableBufferPointer { fp in
            try labels.withUnsafeMutableBufferPointer { lp in
                var ft = TensorView.make(fp.baseAddress!, dtype: MIA_DTYPE_F32, shape: [2, 3])
                var lt = TensorView.make(lp.baseAddress!, dtype: MIA_DTYPE_I32, shape: [2])
                try PluginLibraries.check(table.read(instance, 0, 2, &ft, &lt, &error), &error)
            }
        }
        #expect(features == [1.5, 0, 1, -2, 1, 0])  // categories sorted: blue, red
        #expect(labels == [1, 0])
        // A malformed file fails `open` with its line, through the C error buffer.
        let bad = try dir.write("bad.csv", "x,y\n1,a\n2\n")
        let badJSON = PluginLibraries.optionsJSON(
            c, ["path": PluginLibraries.jsonString(bad), "label_column": "\"y\""])
        #expect(PluginLibraries.open(c, badJSON, &instance, &error) != MIA_OK)
        #expect(readMessage(&error).hasSuffix("bad.csv:3: expected 2 fields, found 1"))
    }

    @Test func pythonModelThroughTheCABI() throws {
        let c = try PluginLibraries.component("libMIAModelPython.so")
        let table = c.vtable.assumingMemoryBound(to: mia_model_vtable_t.self).pointee
        var spec = mia_model_spec_t()
        spec.struct_size = UInt32(MemoryLayout<mia_model_spec_t>.size)
        spec.feature_ndim = 1
        spec.feature_shape.0 = 2
        spec.class_count = 2
        let json = PluginLibraries.optionsJSON(
            c,
            [
                "module": PluginLibraries.jsonString(Repository.examples + "/numpy_worker.py"),
                "python_path": "[\(PluginLibraries.jsonString(Repository.python))]",
                "worker_options": PluginLibraries.jsonString(#"{"steps": 40}"#),
            ])
        var error = mia_error_t()
        var instance: UnsafeMutableRawPointer?
        try PluginLibraries.check(PluginLibraries.create(c, json, &spec, &instance, &error), &error)
        defer { table.destroy(instance) }
        var features: [Float] = [1, 0, 0, 1, 2, 0, 0, 2]
        var labels: [Int32] = [0, 1, 0, 1]
        try features.withUnsafeMutableBufferPointer { fp in
            try labels.withUnsafeMutableBufferPointer { lp in
                var ft = TensorView.make(fp.baseAddress!, dtype: MIA_DTYPE_F32, shape: [4, 2])
                var lt = TensorView.make(lp.baseAddress!, dtype: MIA_DTYPE_I32, shape: [4])
                var args = mia_train_args_t()
                args.struct_size = UInt32(MemoryLayout<mia_train_args_t>.size)
                args.seed = 3
                try withUnsafePointer(to: &ft) { f in
                    try withUnsafePointer(to: &lt) { l in
                        args.features = f
                        args.labels = l
                        try PluginLibraries.check(table.train(instance, &args, &error), &error)
                    }
                }
            }
        }
        var logits = [Float](repeating: .nan, count: 8)
        try features.withUnsafeMutableBufferPointer { fp in
            try logits.withUnsafeMutableBufferPointer { op in
                var ft = TensorView.make(fp.baseAddress!, dtype: MIA_DTYPE_F32, shape: [4, 2])
                var ot = TensorView.make(op.baseAddress!, dtype: MIA_DTYPE_F32, shape: [4, 2])
                try PluginLibraries.check(table.predict(instance, &ft, &ot, &error), &error)
            }
        }
        // Separable by the first feature vs the second: every record is classified right.
        for i in 0..<4 { #expect((logits[2 * i] > logits[2 * i + 1]) == (labels[i] == 0), "record \(i): \(logits)") }
    }
}
