import Foundation
import MIATestSupport
import Testing

@testable import AuditCore

/// A small audit (600 audit records, MLP, 4 reference models) with `audit.checkpoints` set
/// (or not, for `checkpoints: nil`).
func checkpointConfig(output: String, store: String, epochs: Int, checkpoints: String?) -> String {
    """
    run:
      name: e2e-checkpoints
      output: \(output)
      model_store: \(store)
      seed: 9
      threads: 2
    dataset:
      plugin: idx
      options:
        images: \(fashionImages)
        labels: \(fashionLabels)
      audit_records: 600
      population_records: 200
    model:
      plugin: native
      options:
        architecture: mlp
        hidden_sizes: [128]
        optimizer: adam
        learning_rate: 0.001
        batch_size: 64
        epochs: \(epochs)
    reference_models:
      count: 4
    audit:
      fprs: [0.01, 0.1]
      bootstrap_samples: 20
    \(checkpoints.map { "  checkpoints: \($0)" } ?? "")
      attacks:
        - plugin: loss-threshold
        - plugin: lira
          name: lira-offline
          options:
            mode: offline
        - plugin: rmia
    """
}

@Suite(
    .serialized,
    .enabled(
        if: FileManager.default.isExecutableFile(atPath: binary),
        "build the release binary first: swift build -c release"))
struct CheckpointEndToEndTests {
    let folder = NSTemporaryDirectory() + "mia-e2e-checkpoints-\(getpid())"

    func write(_ text: String, _ name: String) throws -> String {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func summary(_ output: String) throws -> RunSummary {
        try RunSummary.decode(jsonData: Data(contentsOf: URL(fileURLWithPath: output + "/metrics.json")))
    }

    /// The store folder of the model whose record has `role`.
    func modelFolder(_ store: String, role: String) throws -> String {
        for key in try FileManager.default.contentsOfDirectory(atPath: store) {
            let meta = try? Data(contentsOf: URL(fileURLWithPath: "\(store)/\(key)/meta.json"))
            if let meta, let record = try? JSONDecoder().decode([String: AnyDecodable].self, from: meta),
                case .string(let r)? = record["role"], r == role
            {
                return "\(store)/\(key)"
            }
        }
        throw CocoaError(.fileNoSuchFile)
    }

    @Test func checkpointsAuditEveryEpochAndTheLastEqualsTheFinalRun() throws {
        let output = folder + "/run", store = folder + "/store"
        try? FileManager.default.removeItem(atPath: folder)
        // A first audit without checkpoints fills the store.
        let plain = try write(
            checkpointConfig(output: output, store: store, epochs: 12, checkpoints: nil), "plain.yaml")
        #expect(try mia(["run", plain, "--quiet"]).status == 0)
        let target = try modelFolder(store, role: "target")
        let finalBefore = try Data(contentsOf: URL(fileURLWithPath: target + "/logits-600-200.npy"))

        // The same audit with checkpoints: the stored models lack them, so all five train again.
        let config = try write(
            checkpointConfig(output: output, store: store, epochs: 12, checkpoints: "[3, 6, 12]"), "c.yaml")
        let run = try mia(["run", config, "--verbose"])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(run.stderr.contains("5 in this shard, 0 in the store, 5 to train"), "\(run.stderr)")
        // Taking checkpoints changed nothing in the final models.
        #expect(try Data(contentsOf: URL(fileURLWithPath: target + "/logits-600-200.npy")) == finalBefore)

        let s = try summary(output)
        let checkpoints = try #require(s.checkpoints)
        #expect(checkpoints.notes.isEmpty, "\(checkpoints.notes)")
        #expect(checkpoints.epochs.map(\.epoch) == [3, 6, 12])
        let last = try #require(checkpoints.epochs.last)
        #expect(last.trainAccuracy == s.target.trainAccuracy)
        #expect(last.testAccuracy == s.target.testAccuracy)
        for name in ["loss-threshold", "lira-offline", "rmia"] {
            let final = try #require(s.attacks[name])
            let atLast = try #require(last.attacks[name])
            #expect(atLast.auc == final.auc, "\(name)")
            #expect(atLast.aucCI == final.aucCI, "\(name)")
            #expect(atLast.attackerAdvantage == final.metrics.attackerAdvantage, "\(name)")
            #expect(atLast.tprAtLowestFPR == final.tpr(atFPR: 0.01), "\(name)")
        }
        // Epoch 3, checked anew: the loss score is minus the cross-entropy of the target's epoch-3
        // logits, and the AUC is the brute-force one of those scores.
        let membership = try Npy.read(UInt8.self, from: output + "/signals/target_membership.npy").values.map {
            $0 != 0
        }
        let labels = try Npy.read(Int32.self, from: output + "/signals/labels.npy").values
        let (logits, shape) = try Npy.read(Float.self, from: target + "/logits-600-200-epoch3.npy")
        #expect(shape == [800, 10])
        let loss = try Npy.read(Double.self, from: output + "/scores/epoch-3/loss-threshold.npy").values
        for i in 0..<600 {
            let row = (0..<10).map { Double(logits[i * 10 + $0]) }
            let top = row.max()!
            let lse = top + log(row.map { exp($0 - top) }.reduce(0, +))
            #expect(abs(loss[i] - (row[Int(labels[i])] - lse)) < 1e-4)
        }
        let first = checkpoints.epochs[0]
        #expect(abs(bruteForceAUC(loss, membership) - (first.attacks["loss-threshold"]?.auc ?? 0)) < 1e-9)
        #expect(first.trainAccuracy < last.trainAccuracy, "3 epochs fit the members less than 12")

        // Run again: nothing to train, the same figures.
        let again = try mia(["run", config, "--verbose"])
        #expect(again.stderr.contains("5 in the store, 0 to train"), "\(again.stderr)")
        #expect(try summary(output).checkpoints == checkpoints)

        // The report has the section, and `mia-audit report` rebuilds it from the folder.
        let report = output + "/report.html"
        #expect(try String(contentsOfFile: report, encoding: .utf8).contains("<h2>Leakage over training</h2>"))
        try FileManager.default.removeItem(atPath: report)
        #expect(try mia(["report", output]).status == 0)
        let rebuilt = try String(contentsOfFile: report, encoding: .utf8)
        #expect(rebuilt.contains("<h2>Leakage over training</h2>"))
        #expect(rebuilt.contains("id=\"checkpoints-auc\"") && rebuilt.contains("id=\"checkpoints-accuracy\""))
        #expect(rebuilt.contains("data-metric=\"/checkpoints/epochs/2/attacks/rmia/auc\""))
    }

    @Test func aRunKilledDuringCheckpointsResumesToTheSameFigures() throws {
        let killed = folder + "/killed", clean = folder + "/clean"
        try? FileManager.default.removeItem(atPath: killed)
        try? FileManager.default.removeItem(atPath: clean)
        let text = checkpointConfig(output: killed, store: killed + "/models", epochs: 30, checkpoints: "[2, 10, 30]")
        let config = try write(text, "killed.yaml")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["run", config, "--quiet"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        // Kill it (-9) once the first checkpoint of some model is in the store.
        let deadline = Date().addingTimeInterval(60)
        var sawCheckpoint = false
        while !sawCheckpoint && p.isRunning && Date() < deadline {
            let keys = (try? FileManager.default.contentsOfDirectory(atPath: killed + "/models")) ?? []
            sawCheckpoint = keys.contains { key in
                ((try? FileManager.default.contentsOfDirectory(atPath: "\(killed)/models/\(key)")) ?? []).contains(
                    "model-epoch2.bin")
            }
            if !sawCheckpoint { usleep(5_000) }
        }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        #expect(sawCheckpoint)
        #expect(p.terminationReason == .uncaughtSignal, "the run ended before it could be killed")
        #expect(!FileManager.default.fileExists(atPath: killed + "/metrics.json"))

        let resumed = try mia(["run", config, "--quiet"])
        #expect(resumed.status == 0, "stderr: \(resumed.stderr)")
        let cleanConfig = try write(
            text.replacingOccurrences(of: killed, with: clean), "clean.yaml")
        #expect(try mia(["run", cleanConfig, "--quiet"]).status == 0)
        let a = try #require(try summary(killed).checkpoints)
        let b = try #require(try summary(clean).checkpoints)
        #expect(a.epochs.map(\.epoch) == [2, 10, 30])
        #expect(a == b)
    }

    /// The Python worker protocol offers no checkpoints: the audit of the final models goes on,
    /// and the run says which backend offered none.
    @Test func aBackendWithoutCheckpointsIsNamed() throws {
        let output = folder + "/python"
        try? FileManager.default.removeItem(atPath: output)
        let native = checkpointConfig(output: output, store: output + "/models", epochs: 12, checkpoints: "[3, 6]")
        let start = try #require(native.range(of: "  plugin: native\n")),
            end = try #require(native.range(of: "reference_models:"))
        let text = native.replacingCharacters(
            in: start.lowerBound..<end.lowerBound,
            with: """
                  plugin: python
                  options:
                    module: \(packageRoot)/python/examples/numpy_worker.py
                    python_path: [\(packageRoot)/python]
                    worker_options: '{"steps": 30, "learning_rate": 0.5}'
                    timeout_seconds: 120

                """
        ).replacingOccurrences(of: "count: 4", with: "count: 2")
        #expect(text.contains("plugin: python") && text.contains("checkpoints: [3, 6]"))
        let r = try mia(["run", try write(text, "python.yaml"), "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let s = try summary(output)
        let checkpoints = try #require(s.checkpoints)
        #expect(checkpoints.epochs.isEmpty)
        #expect(checkpoints.notes.count == 1)
        #expect(checkpoints.notes.first?.contains("model backend `python`") == true, "\(checkpoints.notes)")
        #expect(
            checkpoints.notes.first?.contains("reported no checkpoint for any model") == true, "\(checkpoints.notes)")
        #expect(s.attacks["loss-threshold"] != nil, "the final models are audited")
        #expect(
            try String(contentsOfFile: output + "/report.html", encoding: .utf8).contains(
                "reported no checkpoint for any model"))
    }
}

/// Just enough JSON to read a string field of a model record.
enum AnyDecodable: Decodable {
    case string(String)
    case other

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        self = (try? c.decode(String.self)).map(AnyDecodable.string) ?? .other
    }
}
