import Foundation
import Testing

@testable import AuditCore

/// Issue 13, items 1, 5 and 7: what the store and the score cache reuse follows what determines
/// it (the dataset's bytes, the plugin library's bytes, seeds from names), stored files are
/// checked before reuse, and `--fresh` reuses nothing. Each test runs the release binary as a user would.
@Suite(.serialized) struct ProvenanceTests {
    static let fashion = "/usr/share/datasets/fashion-mnist/"

    /// A tiny audit whose dataset files are `images` and `labels`, its store `store`.
    static func config(
        output: String, store: String, images: String? = nil, labels: String? = nil,
        attacks: [String] = ["loss-threshold"]
    ) -> String {
        var text = ReleaseBinary.config(output: output, references: 2, attacks: attacks)
        if let images { text = text.replacingOccurrences(of: fashion + "train-images-idx3-ubyte.gz", with: images) }
        if let labels { text = text.replacingOccurrences(of: fashion + "train-labels-idx1-ubyte.gz", with: labels) }
        return text.replacingOccurrences(of: "  threads: 1\n", with: "  threads: 1\n  model_store: \(store)\n")
    }

    static func run(_ binary: String, _ dir: String, _ name: String, _ config: String, _ extra: [String] = []) throws
        -> Command
    {
        try config.write(toFile: "\(dir)/\(name).yaml", atomically: true, encoding: .utf8)
        let r = try Command.run(binary, ["run", "\(dir)/\(name).yaml"] + extra, cwd: dir, timeout: 180)
        #expect(r.status == 0, "\(name): \(r.stderr)")
        return r
    }

    static func aucs(_ output: String) throws -> [String: Double] {
        let data = try #require(
            FileManager.default.contents(atPath: output + "/metrics.json"), "no metrics.json in \(output)")
        return try RunSummary.decoder.decode(RunSummary.self, from: data).attacks.mapValues(\.auc)
    }

    static func scores(_ output: String, _ attack: String) -> Data? {
        FileManager.default.contents(atPath: "\(output)/scores/\(attack).npy")
    }

    /// The data behind the dataset's paths is replaced (Fashion-MNIST's t10k files copied over
    /// the train files): every model is trained again and the AUC is the new data's, as a fresh
    /// run on the new data gives.
    @Test(.timeLimit(.minutes(6))) func newDataUnderTheSamePathsRetrains() throws {
        let binary = try ReleaseBinary.path()
        let dir = try ReleaseBinary.scratch("provenance-data")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let images = dir + "/images.gz", labels = dir + "/labels.gz"
        let fm = FileManager.default
        try fm.copyItem(atPath: Self.fashion + "train-images-idx3-ubyte.gz", toPath: images)
        try fm.copyItem(atPath: Self.fashion + "train-labels-idx1-ubyte.gz", toPath: labels)
        let config = Self.config(output: dir + "/run", store: dir + "/store", images: images, labels: labels)
        let first = try Self.run(binary, dir, "a", config, ["-v"])
        #expect(first.stderr.contains("0 in the store, 3 to train"), "\(first.stderr)")
        let old = try Self.aucs(dir + "/run")

        // The same config again: everything reused, and said so at the default level.
        let again = try Self.run(binary, dir, "a", config)
        #expect(again.stderr.contains("model target: reused from store"), "\(again.stderr)")
        #expect(again.stderr.contains("attack loss-threshold: scores reused"), "\(again.stderr)")

        for (from, to) in [("t10k-images-idx3-ubyte.gz", images), ("t10k-labels-idx1-ubyte.gz", labels)] {
            try fm.removeItem(atPath: to)
            try fm.copyItem(atPath: Self.fashion + from, toPath: to)
        }
        let second = try Self.run(binary, dir, "a", config, ["-v"])
        #expect(second.stderr.contains("0 in the store, 3 to train"), "\(second.stderr)")
        #expect(!second.stderr.contains("reused"), "\(second.stderr)")
        let new = try Self.aucs(dir + "/run")
        #expect(new != old)

        let fresh = try Self.run(
            binary, dir, "b",
            Self.config(output: dir + "/fresh", store: dir + "/fresh-store", images: images, labels: labels))
        #expect(fresh.status == 0)
        #expect(try Self.aucs(dir + "/fresh") == new)
        #expect(Self.scores(dir + "/fresh", "loss-threshold") == Self.scores(dir + "/run", "loss-threshold"))
    }

    /// An attack library rebuilt with its name and version unchanged (here: one byte appended to
    /// a copy) gets its scores computed again.
    @Test(.timeLimit(.minutes(4))) func rebuiltAttackLibraryRecomputesScores() throws {
        let binary = try ReleaseBinary.path()
        let dir = try ReleaseBinary.scratch("provenance-library")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A copy of the binary and its plugins, so that one library can be changed.
        let bin = dir + "/bin"
        let fm = FileManager.default
        try fm.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let release = (binary as NSString).deletingLastPathComponent
        for name in try fm.contentsOfDirectory(atPath: release)
        where name == "mia-audit" || (name.hasPrefix("libMIA") && name.hasSuffix(".so")) {
            try fm.copyItem(atPath: release + "/" + name, toPath: bin + "/" + name)
        }
        let config = Self.config(output: dir + "/run", store: dir + "/store")
        _ = try Self.run(bin + "/mia-audit", dir, "a", config)
        let again = try Self.run(bin + "/mia-audit", dir, "a", config)
        #expect(again.stderr.contains("attack loss-threshold: scores reused"), "\(again.stderr)")

        let library = try #require(FileHandle(forUpdatingAtPath: bin + "/libMIAAttacksThreshold.so"))
        library.seekToEndOfFile()
        library.write(Data([0]))
        try library.close()
        let rebuilt = try Self.run(bin + "/mia-audit", dir, "a", config, ["-v"])
        #expect(!rebuilt.stderr.contains("scores reused"), "\(rebuilt.stderr)")
        #expect(rebuilt.stderr.contains("attack loss-threshold: scored"), "\(rebuilt.stderr)")
        // The models' libraries did not change: they are reused.
        #expect(rebuilt.stderr.contains("3 in the store, 0 to train"), "\(rebuilt.stderr)")
    }

    /// An attack's seed comes from its name: listing the attacks in another order changes no
    /// attack's scores, in the same run folder (reused) or a new one (computed again).
    @Test(.timeLimit(.minutes(4))) func attackOrderDoesNotChangeScores() throws {
        let binary = try ReleaseBinary.path()
        let dir = try ReleaseBinary.scratch("provenance-order")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = dir + "/store"
        _ = try Self.run(
            binary, dir, "a", Self.config(output: dir + "/run", store: store, attacks: ["loss-threshold", "kde-loss"]))
        let kde = try #require(Self.scores(dir + "/run", "kde-loss"))
        let reordered = Self.config(output: dir + "/run", store: store, attacks: ["kde-loss", "loss-threshold"])
        let again = try Self.run(binary, dir, "b", reordered)
        #expect(again.stderr.contains("attack kde-loss: scores reused"), "\(again.stderr)")
        #expect(Self.scores(dir + "/run", "kde-loss") == kde)
        // Computed again in a new folder, in the new order: the same scores.
        let elsewhere = try Self.run(
            binary, dir, "c",
            Self.config(output: dir + "/other", store: store, attacks: ["kde-loss", "loss-threshold"]))
        #expect(elsewhere.stderr.contains("model target: reused from store"), "\(elsewhere.stderr)")
        #expect(!elsewhere.stderr.contains("scores reused"), "\(elsewhere.stderr)")
        #expect(Self.scores(dir + "/other", "kde-loss") == kde)
    }

    /// 400 flipped bytes in a stored logits file: the run says which file, computes the logits
    /// again from the stored model, and gets the AUC of a run that never saw the corruption.
    @Test(.timeLimit(.minutes(4))) func corruptLogitsAreDetectedAndRecomputed() throws {
        let binary = try ReleaseBinary.path()
        let dir = try ReleaseBinary.scratch("provenance-corrupt")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = dir + "/store"
        _ = try Self.run(binary, dir, "a", Self.config(output: dir + "/run", store: store))
        let clean = try Self.aucs(dir + "/run")
        // The target's logits file.
        let keys = ReleaseBinary.finishedModels(store: store)
        let target = try #require(
            keys.first { key in
                (try? String(contentsOfFile: "\(store)/\(key)/meta.json", encoding: .utf8))?.contains(
                    "\"role\" : \"target\"") == true
            })
        let file = try #require(
            try FileManager.default.contentsOfDirectory(atPath: "\(store)/\(target)")
                .first { $0.hasPrefix("logits-") && $0.hasSuffix(".npy") })
        let path = "\(store)/\(target)/\(file)"
        var bytes = try #require(FileManager.default.contents(atPath: path))
        for i in 0..<400 { bytes[200 + i * 7] ^= 0xFF }
        try bytes.write(to: URL(fileURLWithPath: path))

        let rerun = try Self.run(binary, dir, "b", Self.config(output: dir + "/rerun", store: store))
        #expect(
            rerun.stderr.contains("warning") && rerun.stderr.contains(path) && rerun.stderr.contains("corrupt"),
            "\(rerun.stderr)")
        #expect(try Self.aucs(dir + "/rerun") == clean)
        #expect(ArtifactChecksum.verify(path) == .intact)
    }

    /// `--fresh` trains every model again and reruns every attack, though the store holds them.
    @Test(.timeLimit(.minutes(4))) func freshRecomputesEverything() throws {
        let binary = try ReleaseBinary.path()
        let dir = try ReleaseBinary.scratch("provenance-fresh")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = Self.config(output: dir + "/run", store: dir + "/store")
        _ = try Self.run(binary, dir, "a", config)
        let before = try Self.aucs(dir + "/run")
        let fresh = try Self.run(binary, dir, "a", config, ["--fresh", "-v"])
        #expect(fresh.stderr.contains("0 in the store, 3 to train"), "\(fresh.stderr)")
        #expect(!fresh.stderr.contains("reused"), "\(fresh.stderr)")
        #expect(fresh.stderr.contains("attack loss-threshold: scored"), "\(fresh.stderr)")
        #expect(try Self.aucs(dir + "/run") == before)
    }
}
