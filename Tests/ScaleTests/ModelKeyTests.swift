import Foundation
import PluginKit
import Testing

@testable import AuditCore

/// Issue 13: a model's store key (`Provenance.modelKey`) covers everything that determines the
/// model: the libraries' bytes, the options after defaults, the content of the dataset's files.
@Suite struct ModelKeyTests {
    /// A component that is never called: only its name, version, schema and library file are read.
    func component(
        _ kind: ComponentKind, _ name: String, version: String, options: [OptionSpec], library: String? = nil
    ) -> ComponentInfo {
        ComponentInfo(
            kind: kind, name: name, summary: "", options: options, vtable: UnsafeRawPointer(bitPattern: 0x10)!,
            plugin: PluginInfo(
                path: library ?? "/p/\(name).so", name: "mia-\(name)", version: version, abiMajor: 1, abiMinor: 0,
                toolchain: "t"))
    }

    func spec(_ name: String, _ type: OptionType, default json: String) -> OptionSpec {
        OptionSpec(name, type, default: json, name)
    }

    var schema: [OptionSpec] { [spec("epochs", .int, default: "10"), spec("learning_rate", .float, default: "0.01")] }

    func config(modelOptions: String, datasetOptions: String = "{}") throws -> AuditConfig {
        try AuditConfig.parse(
            """
            run: {output: /tmp/mia-key-test}
            dataset:
              plugin: toy
              audit_records: 10
              options: \(datasetOptions)
            model:
              plugin: net
              options: \(modelOptions)
            audit:
              attacks:
                - plugin: loss-threshold
            """, file: "/tmp/k.yaml")
    }

    func key(
        _ config: AuditConfig, version: String = "1.0", library: String? = nil, seed: UInt64 = 9, store: String? = nil
    ) throws -> String {
        let backend = try ResolvedComponent.checked(
            config.model!, component(.model, "net", version: version, options: schema, library: library),
            baseDirectory: "/tmp")
        let dataset = try ResolvedComponent.checked(
            config.dataset!,
            component(
                .dataset, "toy", version: "1.0",
                options: [spec("scale", .float, default: "1"), OptionSpec("file", .path, "data")]),
            baseDirectory: "/tmp")
        return Provenance(store: store).modelKey(
            backend: backend, dataset: dataset, spec: ModelSpec(featureShape: [4], classCount: 2), members: [0, 2, 5],
            seed: seed,
            publicRecords: nil)
    }

    @Test func optionsAreKeyedAfterDefaults() throws {
        let base = try key(config(modelOptions: "{epochs: 3}"))
        // A default spelled out is the same training: the same key.
        #expect(try key(config(modelOptions: "{epochs: 3, learning_rate: 0.01}")) == base)
        #expect(try key(config(modelOptions: "{learning_rate: 0.01, epochs: 3}")) == base)
        #expect(try key(config(modelOptions: "{epochs: 4}")) != base)
        #expect(
            try key(config(modelOptions: "{epochs: 3, learning_rate: 1}"))
                == key(config(modelOptions: "{epochs: 3, learning_rate: 1.0}")))
        #expect(try key(config(modelOptions: "{epochs: 3}"), seed: 10) != base)
        #expect(Provenance.scheme == "mia-v3")
    }

    @Test func versionAndLibraryBytesAreInTheKey() throws {
        let c = try config(modelOptions: "{epochs: 3}")
        #expect(try key(c, version: "1.0") != key(c, version: "1.1"))
        let dir = try ReleaseBinary.scratch("key-library")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = dir + "/a.so", b = dir + "/b.so"
        try Data("library one".utf8).write(to: URL(fileURLWithPath: a))
        try Data("library two".utf8).write(to: URL(fileURLWithPath: b))
        // Same name and version, other bytes: another key.
        #expect(try key(c, library: a) != key(c, library: b))
        #expect(try key(c, library: a) == key(c, library: a))
        #expect(Provenance.libraryDigest(a) == SHA256.hex("library one"))
    }

    @Test func datasetContentIsInTheKey() throws {
        let dir = try ReleaseBinary.scratch("key-content")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/data.bin"
        try Data(repeating: 1, count: 1000).write(to: URL(fileURLWithPath: file))
        let c = try config(modelOptions: "{epochs: 3}", datasetOptions: "{file: \(file)}")
        let first = try key(c, store: dir + "/store")
        #expect(try key(c, store: dir + "/store") == first)
        // Other bytes of the same size under the same path: another key.
        try Data(repeating: 2, count: 1000).write(to: URL(fileURLWithPath: file))
        #expect(try key(c, store: dir + "/store") != first)
        // A folder: its files, sorted, by content.
        let folder = dir + "/folder"
        try FileManager.default.createDirectory(atPath: folder + "/sub", withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: folder + "/sub/x"))
        let inFolder = try config(modelOptions: "{epochs: 3}", datasetOptions: "{file: \(folder)}")
        let before = try key(inFolder)
        try Data("y".utf8).write(to: URL(fileURLWithPath: folder + "/sub/x"))
        #expect(try key(inFolder) != before)
    }

    @Test func contentDigestsAreRememberedInTheStore() throws {
        let dir = try ReleaseBinary.scratch("content-hashes")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/big.bin"
        try Data(repeating: 7, count: 100_000).write(to: URL(fileURLWithPath: file))
        let memory = dir + "/store/content-hashes.json"
        let one = ContentHashes(cachePath: memory, sharesProcessMemory: false)
        let digest = one.digest(of: file)
        #expect(digest == SHA256.hex(contentsOf: file))
        #expect(one.filesRead == 1)
        try one.save()
        let saved = try String(contentsOfFile: memory, encoding: .utf8)
        #expect(saved.contains(file) && saved.contains(digest) && saved.contains("inode"))
        // Another instance (another run) takes the digest from the file without reading the data.
        let two = ContentHashes(cachePath: memory, sharesProcessMemory: false)
        #expect(two.digest(of: file) == digest)
        #expect(two.filesRead == 0)
        // The same file rewritten (same size, other bytes) is read again.
        try Data(repeating: 8, count: 100_000).write(to: URL(fileURLWithPath: file))
        let three = ContentHashes(cachePath: memory, sharesProcessMemory: false)
        #expect(three.digest(of: file) != digest)
        #expect(three.filesRead == 1)
        // A file that cannot be read gets a digest that never matches another process's.
        #expect(one.digest(of: dir + "/missing").hasPrefix("unreadable:"))
    }

    @Test func seedsComeFromNames() throws {
        let a = Provenance.seed(run: 7, name: "attack kde-loss")
        #expect(a == Provenance.seed(run: 7, name: "attack kde-loss"))
        #expect(a != Provenance.seed(run: 7, name: "attack loss-threshold"))
        #expect(a != Provenance.seed(run: 8, name: "attack kde-loss"))
        // The documented derivation: the first 8 bytes of SHA-256("mia-seed-v1\n7\nattack kde-loss"), big-endian.
        var h = SHA256()
        h.update("mia-seed-v1\n7\nattack kde-loss")
        #expect(a == h.finalize().prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        // The scores' key holds the seed.
        let attack = try ResolvedComponent.checked(
            config(modelOptions: "{}").attacks[0].component,
            component(.attack, "loss-threshold", version: "1.0", options: []), baseDirectory: "/tmp")
        let p = Provenance(store: nil)
        #expect(p.scoresKey(attack, signalsKey: "s", seed: 1) != p.scoresKey(attack, signalsKey: "s", seed: 2))
        #expect(p.scoresKey(attack, signalsKey: "s", seed: 1) != p.scoresKey(attack, signalsKey: "t", seed: 1))
    }
}

/// The run keys its models on the options after defaults: the same training written with one
/// default spelled out is the same key (the backend gets the same options either way).
@Suite struct ModelKeyRunTests {
    @Test(.timeLimit(.minutes(2))) func runKeysOnTheOptionsAfterDefaults() throws {
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
            return r.stdout.split(separator: "\n").filter { $0.contains("missing: ") }.map {
                String($0.split(separator: " ").last!)
            }
        }
        let a = try keys("a.yaml"), b = try keys("b.yaml")
        #expect(a.count == 2 && b.count == 2)
        #expect(a == b, "\(a) \(b)")
        // Nothing else that differs between the two (the output folder) is in the key.
        try ReleaseBinary.config(output: dir + "/c", references: 1).write(
            toFile: dir + "/c.yaml", atomically: true, encoding: .utf8)
        #expect(try keys("c.yaml") == a)
    }
}
