import AttacksReference
import AttacksThreshold
import Foundation
import PluginABI
import PluginKit
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The built libraries, loaded through the C entry as the host loads them.
@Suite struct LibraryTests {
    static let expected: [(file: String, plugin: String, components: [String])] = [
        (
            "libMIAAttacksThreshold.so", "mia-attacks-threshold",
            ["loss-threshold", "confidence", "entropy", "modified-entropy", "correctness", "kde-loss", "gap"]
        ),
        ("libMIAAttacksReference.so", "mia-attacks-reference", ["lira", "rmia", "reference-threshold", "base"]),
        (
            "libMIAAttacksClassifier.so", "mia-attacks-classifier",
            ["classifier", "shokri", "ml-leaks", "qmia", "boundary-distance", "loss-trajectory"]
        ),
    ]

    /// The descriptor of a library built next to the test binary.
    func descriptor(_ file: String) throws -> UnsafePointer<mia_plugin_descriptor_t> {
        let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let path = URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent(file).path
        let handle = try #require(dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE), "cannot load \(path)")
        let symbol = try #require(dlsym(handle, "mia_plugin_entry"))
        let entry = unsafeBitCast(symbol, to: mia_plugin_entry_fn.self)
        #expect(entry(UInt32(MIA_ABI_MAJOR) + 1, 0) == nil)
        return try #require(entry(UInt32(MIA_ABI_MAJOR), UInt32(MIA_ABI_MINOR)))
    }

    @Test(arguments: expected.map(\.file))
    func listsItsAttacks(file: String) throws {
        let e = Self.expected.first { $0.file == file }!
        let d = try descriptor(file).pointee
        #expect(String(cString: d.name) == e.plugin)
        let names = (0..<Int(d.component_count)).map { String(cString: d.components[$0].name) }
        #expect(names == e.components)
        for i in 0..<Int(d.component_count) {
            #expect(d.components[i].kind == MIA_COMPONENT_ATTACK)
            for j in 0..<Int(d.components[i].option_count) { #expect(d.components[i].options[j].default_json != nil) }
        }
    }

    /// RMIA through the C table scores as the Swift type does in-process.
    @Test func scoresThroughTheCTable() throws {
        let d = try descriptor("libMIAAttacksReference.so").pointee
        let index = try #require(
            (0..<Int(d.component_count)).first { String(cString: d.components[$0].name) == "rmia" })
        let table = d.components[index].vtable.assumingMemoryBound(to: mia_attack_vtable_t.self).pointee
        var error = mia_error_t()
        var instance: UnsafeMutableRawPointer?
        // ABI 1.2: one shared table; the component's descriptor says which attack to create.
        let create = try #require(table.create_component)
        let created = try CreateArguments.with(
            component: d.components + index, host: nil,
            json: "{\"mode\": \"online\", \"gamma\": 1.5, \"offline_a\": 0.3}"
        ) { create($0, &instance, &error) }
        #expect(created == MIA_OK)
        defer { table.destroy(instance) }
        #expect(
            table.requirements(instance) == MIA_NEEDS_REFERENCE_MODELS | MIA_NEEDS_REFERENCE_IN | MIA_NEEDS_POPULATION)
        let s = syntheticSignals(n: 30, c: 3, r: 4, p: 20, seed: 2)
        var scores = [Double](repeating: -1, count: 30)
        var mask = [UInt8](repeating: 1, count: 30)
        let status = s.labels.withUnsafeBufferPointer { l in
            s.targetLogits.withUnsafeBufferPointer { t in
                s.referenceLogits.withUnsafeBufferPointer { rl in
                    s.referenceMembership.withUnsafeBufferPointer { rm in
                        s.populationLabels.withUnsafeBufferPointer { pl in
                            s.populationTargetLogits.withUnsafeBufferPointer { pt in
                                s.populationReferenceLogits.withUnsafeBufferPointer { pr in
                                    var c = mia_signals_t()
                                    c.struct_size = UInt32(MemoryLayout<mia_signals_t>.size)
                                    c.record_count = 30
                                    c.class_count = 3
                                    c.reference_count = 4
                                    c.population_count = 20
                                    c.labels = l.baseAddress
                                    c.target_logits = t.baseAddress
                                    c.reference_logits = rl.baseAddress
                                    c.reference_membership = rm.baseAddress
                                    c.population_labels = pl.baseAddress
                                    c.population_target_logits = pt.baseAddress
                                    c.population_reference_logits = pr.baseAddress
                                    return table.score(instance, &c, &scores, &mask, &error)
                                }
                            }
                        }
                    }
                }
            }
        }
        #expect(created == MIA_OK)
        #expect(status == MIA_OK)
        let direct = try s.score(
            with: RMIAAttack(options: opts(["mode": .string("online"), "gamma": .double(1.5)]), host: .standalone)
        ).scores
        #expect(scores == direct)
    }
}
