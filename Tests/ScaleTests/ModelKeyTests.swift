import Foundation
import PluginKit
import Testing

@testable import AuditCore

/// Issue 9: a model's store key hashes the options the config gave, not the defaults, so a
/// backend release that adds a defaulted option does not retrain the whole store.
@Suite struct ModelKeyTests {
    /// A component that is never called: only its name, version and schema are read.
    func component(_ kind: ComponentKind, _ name: String, version: String, options: [OptionSpec]) -> ComponentInfo {
        ComponentInfo(
            kind: kind, name: name, summary: "", options: options, vtable: UnsafeRawPointer(bitPattern: 0x10)!,
            plugin: PluginInfo(path: "/p/\(name).so", name: "mia-\(name)", version: version, abiMajor: 1, abiMinor: 0, toolchain: "t"))
    }

    func spec(_ name: String, _ type: OptionType, default json: String) -> OptionSpec {
        OptionSpec(name, type, default: json, name)
    }

    /// Release 1 of the backend, and release 2 that adds `dropout` with a default that keeps
    /// release 1's behaviour (same version: a version changes when behaviour does).
    var release1: [OptionSpec] { [spec("epochs", .int, default: "10"), spec("learning_rate", .float, default: "0.01")] }
    var release2: [OptionSpec] { release1 + [spec("dropout", .float, default: "0")] }

    func config(modelOptions: String) throws -> AuditConfig {
        try AuditConfig.parse(
            """
            run: {output: /tmp/mia-key-test}
            dataset:
              plugin: toy
              audit_records: 10
            model:
              plugin: net
              options: \(modelOptions)
            audit:
              attacks:
                - plugin: loss-threshold
            """, file: "/tmp/k.yaml")
    }

    func key(_ config: AuditConfig, backendSchema: [OptionSpec], version: String = "1.0") throws -> String {
        let backend = try ResolvedComponent.checked(config.model!, component(.model, "net", version: version, options: backendSchema), baseDirectory: "/tmp")
        let dataset = try ResolvedComponent.checked(config.dataset!, component(.dataset, "toy", version: "1.0", options: [spec("scale", .float, default: "1")]), baseDirectory: "/tmp")
        return ModelStore.key(
            backend: backend.info, backendOptionsJSON: backend.givenOptionsJSON, dataset: dataset.info,
            datasetOptionsJSON: dataset.givenOptionsJSON, spec: ModelSpec(featureShape: [4], classCount: 2), members: [0, 2, 5], seed: 9)
    }

    @Test func aNewDefaultedOptionKeepsTheKey() throws {
        let c = try config(modelOptions: "{epochs: 3}")
        // The options the backend gets differ (release 2 fills in `dropout`)...
        let full1 = try ResolvedComponent.checked(c.model!, component(.model, "net", version: "1.0", options: release1), baseDirectory: "/tmp")
        let full2 = try ResolvedComponent.checked(c.model!, component(.model, "net", version: "1.0", options: release2), baseDirectory: "/tmp")
        #expect(full1.optionsJSON != full2.optionsJSON)
        #expect(full1.givenOptionsJSON == #"{"epochs":3}"#)
        #expect(full2.givenOptions == full1.givenOptions)
        // ...but the key does not.
        #expect(try key(c, backendSchema: release1) == key(c, backendSchema: release2))
    }

    @Test func anExplicitOptionChangesTheKeyEvenAtItsDefault() throws {
        let base = try key(config(modelOptions: "{epochs: 3}"), backendSchema: release2)
        let dropout = try key(config(modelOptions: "{epochs: 3, dropout: 0.5}"), backendSchema: release2)
        let dropoutAtDefault = try key(config(modelOptions: "{epochs: 3, dropout: 0}"), backendSchema: release2)
        let epochs = try key(config(modelOptions: "{epochs: 4}"), backendSchema: release2)
        #expect(Set([base, dropout, dropoutAtDefault, epochs]).count == 4)
        // Key order in the file does not matter; an int written for a float option is the same value.
        #expect(try key(config(modelOptions: "{dropout: 0.5, epochs: 3}"), backendSchema: release2) == dropout)
        #expect(try key(config(modelOptions: "{epochs: 3, learning_rate: 1}"), backendSchema: release2)
                == key(config(modelOptions: "{epochs: 3, learning_rate: 1.0}"), backendSchema: release2))
    }

    @Test func backendVersionAndSchemeAreInTheKey() throws {
        let c = try config(modelOptions: "{epochs: 3}")
        #expect(try key(c, backendSchema: release1, version: "1.0") != key(c, backendSchema: release1, version: "1.1"))
        #expect(ModelStore.scheme == "mia-model-v2")
        // The key is the SHA-256 of the documented fields, scheme first.
        var h = SHA256()
        h.update("mia-model-v2\n")
        h.update("backend=net@mia-net/1.0\n")
        h.update(#"options={"epochs":3}"# + "\n")
        h.update("dataset=toy@mia-toy/1.0\n")
        h.update("dataset_options={}\n")
        h.update("shape=[4] classes=2\n")
        h.update("seed=9\nmembers=")
        h.update(raw: [Int64(0), 2, 5])
        #expect(try key(c, backendSchema: release1) == h.hexDigest())
    }
}

/// The run keys its models on the options the config gave: the same training written with one
/// default spelled out is another key (the backend gets the same options either way).
@Suite struct ModelKeyRunTests {
    @Test(.timeLimit(.minutes(2))) func runKeysOnTheGivenOptions() throws {
        let binary = try ReleaseBinary.path()
        let dir = try ReleaseBinary.scratch("model-key")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let plain = ReleaseBinary.config(output: dir + "/a", references: 1)
        let spelled = ReleaseBinary.config(output: dir + "/b", references: 1)
            .replacingOccurrences(of: "    epochs: 2\n", with: "    epochs: 2\n    batch_size: 128\n")
        #expect(spelled != ReleaseBinary.config(output: dir + "/b", references: 1))
        try plain.write(toFile: dir + "/a.yaml", atomically: true, encoding: .utf8)
        try spelled.write(toFile: dir + "/b.yaml", atomically: true, encoding: .utf8)
        func keys(_ config: String) throws -> [String] {
            let r = try Command.run(binary, ["plan", dir + "/" + config, "--no-trial"], cwd: dir)
            #expect(r.status == 0, "\(r.stderr)")
            return r.stdout.split(separator: "\n").filter { $0.contains("missing: ") }.map { String($0.split(separator: " ").last!) }
        }
        let a = try keys("a.yaml"), b = try keys("b.yaml")
        #expect(a.count == 2 && b.count == 2)
        #expect(Set(a).isDisjoint(with: b), "\(a) \(b)")
        // Nothing else that differs between the two (the output folder) is in the key.
        try ReleaseBinary.config(output: dir + "/c", references: 1).write(toFile: dir + "/c.yaml", atomically: true, encoding: .utf8)
        #expect(try keys("c.yaml") == a)
    }
}
