import Foundation
import MIATestSupport
import Testing

@testable import AuditCore

let fashionImages = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"
let fashionLabels = "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz"

/// A small, overfit audit on a Fashion-MNIST slice: 600 audit records, an MLP trained 40 epochs.
func smallConfig(output: String) -> String {
    """
    run:
      name: e2e
      output: \(output)
      seed: 5
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
        hidden_sizes: [256]
        optimizer: adam
        learning_rate: 0.001
        batch_size: 128
        epochs: 40
    reference_models:
      count: 4
    audit:
      fprs: [0.01, 0.1]
      slices: [class, correctness]
      bootstrap_samples: 50
      attacks:
        - plugin: loss-threshold
        - plugin: lira
          name: lira-offline
          options:
            mode: offline
    """
}

/// AUC by brute force over every (member, non-member) pair, ties counting one half.
func bruteForceAUC(_ scores: [Double], _ member: [Bool]) -> Double {
    let m = scores.indices.filter { member[$0] }.map { scores[$0] }
    let n = scores.indices.filter { !member[$0] }.map { scores[$0] }
    var wins = 0.0
    for a in m { for b in n { wins += a > b ? 1 : (a == b ? 0.5 : 0) } }
    return wins / Double(m.count * n.count)
}

@Suite(
    .serialized,
    .enabled(
        if: FileManager.default.isExecutableFile(atPath: binary),
        "build the release binary first: swift build -c release"))
struct EndToEndTests {
    let folder = NSTemporaryDirectory() + "mia-e2e-\(getpid())"

    func write(_ text: String, _ name: String) throws -> String {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func anOverfitModelLeaksAndTheResultsAgree() throws {
        let output = folder + "/run"
        try? FileManager.default.removeItem(atPath: output)
        let config = try write(smallConfig(output: output), "small.yaml")
        let first = try mia(["run", config, "--quiet"])
        #expect(first.status == 0, "stderr: \(first.stderr)")

        let summary = try RunSummary.decode(jsonData: Data(contentsOf: URL(fileURLWithPath: output + "/metrics.json")))
        let membership = try Npy.read(UInt8.self, from: output + "/signals/target_membership.npy").values.map {
            $0 != 0
        }
        let labels = try Npy.read(Int32.self, from: output + "/signals/labels.npy").values
        let (logits, shape) = try Npy.read(Float.self, from: output + "/signals/target_logits.npy")
        #expect(shape == [600, 10])
        #expect(membership.filter { $0 }.count == 300)
        for name in ["loss-threshold", "lira-offline"] {
            let evaluation = try #require(summary.attacks[name])
            #expect(evaluation.auc > 0.6, "\(name) AUC \(evaluation.auc)")
            let scores = try Npy.read(Double.self, from: output + "/scores/\(name).npy").values
            #expect(abs(bruteForceAUC(scores, membership) - evaluation.auc) < 1e-9)
            let csv = try String(contentsOfFile: output + "/roc/\(name).csv", encoding: .utf8)
            #expect(csv.hasPrefix("fpr,tpr,threshold\n0.0,0.0,inf\n"))
            #expect(csv.hasSuffix("1.0,1.0,\(scores.min()!)\n"))
        }
        // The loss attack's score is minus the cross-entropy of the true label, computed here anew.
        let loss = try Npy.read(Double.self, from: output + "/scores/loss-threshold.npy").values
        for i in 0..<600 {
            let row = (0..<10).map { Double(logits[i * 10 + $0]) }
            let top = row.max()!
            let lse = top + log(row.map { exp($0 - top) }.reduce(0, +))
            #expect(abs(loss[i] - (row[Int(labels[i])] - lse)) < 1e-4)
        }
        // Train and test accuracy agree with the signals.
        let correct = (0..<600).map { i in (0..<10).max { logits[i * 10 + $0] < logits[i * 10 + $1] }! == Int(labels[i])
        }
        let train = Double((0..<600).filter { membership[$0] && correct[$0] }.count) / 300
        #expect(abs(summary.target.trainAccuracy - train) < 1e-12)
        #expect(summary.target.history.count == 40)
        #expect(FileManager.default.fileExists(atPath: output + "/report.html"))

        // A second run trains nothing: every model file stays as it was.
        let store = output + "/models"
        // Model folders (the store also remembers file digests in content-hashes.json).
        let models = try FileManager.default.contentsOfDirectory(atPath: store).filter { $0 != "content-hashes.json" }
            .sorted()
        #expect(models.count == 5)
        func stamps() throws -> [Date] {
            try models.map {
                try FileManager.default.attributesOfItem(atPath: "\(store)/\($0)/model.bin")[.modificationDate] as! Date
            }
        }
        let before = try stamps()
        let second = try mia(["run", config, "--verbose"])
        #expect(second.status == 0)
        #expect(second.stderr.contains("5 in the store, 0 to train"))
        #expect(try stamps() == before)
        let again = try RunSummary.decode(jsonData: Data(contentsOf: URL(fileURLWithPath: output + "/metrics.json")))
        #expect(again.attacks["lira-offline"]?.auc == summary.attacks["lira-offline"]?.auc)

        // `plan` sees every model in the store: nothing to train, so no trial and no estimate.
        let plan = try mia(["plan", config])
        #expect(plan.stdout.contains("in the store:        5"), "\(plan.stdout)")
        #expect(plan.stdout.contains("to train:            0"))
        #expect(!plan.stdout.contains("expected") && !plan.stderr.contains("trial"))

        // The report can be rebuilt from the folder alone.
        try FileManager.default.removeItem(atPath: output + "/report.html")
        #expect(try mia(["report", output]).status == 0)
        #expect(FileManager.default.fileExists(atPath: output + "/report.html"))
    }

    @Test func configErrorsStopBeforeAnyWork() throws {
        let output = folder + "/bad"
        let cases: [(String, String, String)] = [
            ("epochs: 40", "epoch: 40", "`native` has no option `epoch`; did you mean `epochs`?"),
            ("plugin: lira", "plugin: lirra", "no attack plugin named `lirra` was found; did you mean `lira`?"),
            ("audit_records: 600", "audit_records: 60000", "but the dataset holds 60000 records"),
            ("train-labels-idx1", "no-such-labels", "does not exist"),
            ("count: 4", "count: 0", "attack `lira-offline` needs reference models"),
        ]
        for (from, to, message) in cases {
            let path = try write(smallConfig(output: output).replacingOccurrences(of: from, with: to), "bad.yaml")
            let r = try mia(["validate", path])
            #expect(r.status == 2, "\(to): \(r.stderr)")
            #expect(r.stderr.contains(message), "\(to): \(r.stderr)")
            #expect(r.stderr.contains("bad.yaml:"), "\(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: output))
        let line = try mia([
            "validate",
            try write(
                smallConfig(output: output).replacingOccurrences(of: "epochs: 40", with: "epoch: 40"), "bad.yaml"),
        ])
        #expect(line.stderr.contains("bad.yaml:21:"))
    }

    @Test func pluginsAreListedAndDescribed() throws {
        let list = try mia(["plugins"])
        #expect(list.status == 0)
        for name in ["idx", "native", "loss-threshold", "lira", "rmia"] { #expect(list.stdout.contains(name)) }
        #expect(list.stdout.contains("ABI 1."))
        let describe = try mia(["plugins", "describe", "lira"])
        #expect(describe.stdout.contains("mode (string"))
        #expect(try mia(["plugins", "describe", "nope"]).status == 3)
    }
}

@Suite(
    .serialized, .enabled(if: FileManager.default.isExecutableFile(atPath: binary), "build the release binary first"))
struct BringYourOwnSignalsTests {
    let folder = NSTemporaryDirectory() + "mia-byos-\(getpid())"

    func signalsConfig(_ signals: String, output: String, attacks: String, membership: String? = nil) -> String {
        """
        run:
          name: own-signals
          output: \(output)
        signals:
          path: \(signals)
        \(membership.map { "  membership: \($0)" } ?? "")
        audit:
          fprs: [0.01, 0.1]
          bootstrap_samples: 0
          attacks:
        \(attacks)
        """
    }

    @Test func signalsFromElsewhereGiveTheSameResults() throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let source = folder + "/source"
        try smallConfig(output: source).write(toFile: folder + "/source.yaml", atomically: true, encoding: .utf8)
        #expect(try mia(["run", folder + "/source.yaml", "--quiet"]).status == 0)
        let original = try RunSummary.decode(jsonData: Data(contentsOf: URL(fileURLWithPath: source + "/metrics.json")))

        // NumPy's own types: int64 labels, float64 logits, bool membership, a text file of member indices.
        let converted = folder + "/numpy"
        let script = """
            import numpy as np, os, sys
            src, dst = sys.argv[1], sys.argv[2]
            os.makedirs(dst, exist_ok=True)
            for name in os.listdir(src):
                a = np.load(os.path.join(src, name))
                if a.dtype == np.float32: a = a.astype(np.float64)
                if a.dtype == np.int32: a = a.astype(np.int64)
                if name == "reference_membership.npy": a = a.astype(bool)
                if name == "target_membership.npy":
                    np.savetxt(os.path.join(dst, "members.txt"), np.flatnonzero(a), fmt="%d")
                    continue
                np.save(os.path.join(dst, name), a)
            """
        let py = Process()
        py.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        py.arguments = ["python3", "-c", script, source + "/signals", converted]
        try py.run()
        py.waitUntilExit()
        try #require(py.terminationStatus == 0, "numpy is needed for this test")

        let attacks = """
              - plugin: loss-threshold
              - plugin: lira
                name: lira-offline
                options: {mode: offline}
              - plugin: rmia
            """
        let config = folder + "/own.yaml"
        try signalsConfig(converted, output: folder + "/own", attacks: attacks, membership: converted + "/members.txt")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let r = try mia(["run", config, "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let own = try RunSummary.decode(jsonData: Data(contentsOf: URL(fileURLWithPath: folder + "/own/metrics.json")))
        for name in ["loss-threshold", "lira-offline"] {
            let a = try #require(own.attacks[name]?.auc), b = try #require(original.attacks[name]?.auc)
            #expect(abs(a - b) < 1e-6, "\(name): \(a) vs \(b)")
        }
        #expect((own.attacks["rmia"]?.auc ?? 0) > 0.55)

        // An attack that needs what signals cannot give is refused before any work.
        let refused = folder + "/refused.yaml"
        try signalsConfig(
            converted, output: folder + "/refused", attacks: "      - plugin: shokri",
            membership: converted + "/members.txt"
        )
        .write(toFile: refused, atomically: true, encoding: .utf8)
        let v = try mia(["validate", refused])
        #expect(v.status == 2)
        #expect(v.stderr.contains("attack `shokri` needs"))
        // A membership index outside the records is named.
        try "0\n99999\n".write(toFile: folder + "/bad.txt", atomically: true, encoding: .utf8)
        try signalsConfig(
            converted, output: folder + "/bad", attacks: "      - plugin: loss-threshold",
            membership: folder + "/bad.txt"
        )
        .write(toFile: refused, atomically: true, encoding: .utf8)
        let bad = try mia(["validate", refused])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("member index 99999 is outside the 600 audit records"), "\(bad.stderr)")
    }
}

@Suite(
    .serialized, .enabled(if: FileManager.default.isExecutableFile(atPath: binary), "build the release binary first"))
struct OutputDefenceEndToEndTests {
    @Test func labelOnlyOutputsLeaveTheLossAttackNoBetterThanTheGapAttack() throws {
        let folder = NSTemporaryDirectory() + "mia-defence-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let text = smallConfig(output: folder + "/run")
            .replacingOccurrences(
                of: "  fprs: [0.01, 0.1]",
                with: "  fprs: [0.01, 0.1]\n  output_defences: [label_only, {top_k: 1}, {rounding: 1}]"
            )
            .replacingOccurrences(
                of: "    - plugin: loss-threshold", with: "    - plugin: loss-threshold\n    - plugin: gap")
        try text.write(toFile: folder + "/c.yaml", atomically: true, encoding: .utf8)
        let r = try mia(["run", folder + "/c.yaml", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let s = try RunSummary.decode(jsonData: Data(contentsOf: URL(fileURLWithPath: folder + "/run/metrics.json")))
        let loss = try #require(s.attacks["loss-threshold"]?.auc)
        let labelOnlyLoss = try #require(s.attacks["loss-threshold@label-only"]?.auc)
        let labelOnlyGap = try #require(s.attacks["gap@label-only"]?.auc)
        let gap = try #require(s.attacks["gap"]?.auc)
        #expect(labelOnlyLoss <= labelOnlyGap + 1e-9)
        #expect(abs(labelOnlyGap - gap) < 1e-9)
        #expect(labelOnlyLoss < loss)
        #expect(s.attacks["lira-offline@top-1"] != nil)
        #expect(s.attacks["lira-offline@round-1"] != nil)
    }
}

@Suite(
    .serialized, .enabled(if: FileManager.default.isExecutableFile(atPath: binary), "build the release binary first"))
struct TrainedElsewhereTests {
    @Test func aTargetTrainedElsewhereIsAuditedWithItsMembershipFile() throws {
        let folder = NSTemporaryDirectory() + "mia-elsewhere-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let first = folder + "/first"
        try smallConfig(output: first).write(toFile: folder + "/first.yaml", atomically: true, encoding: .utf8)
        #expect(try mia(["run", folder + "/first.yaml", "--quiet"]).status == 0)
        let original = try RunSummary.decode(jsonData: Data(contentsOf: URL(fileURLWithPath: first + "/metrics.json")))
        // The target's saved model, as if it came from elsewhere, and its members as a text file.
        var targetFile: String?
        for key in try FileManager.default.contentsOfDirectory(atPath: first + "/models")
        where key != "content-hashes.json" {
            let meta = try String(contentsOfFile: "\(first)/models/\(key)/meta.json", encoding: .utf8)
            if meta.contains("\"role\" : \"target\"") { targetFile = "\(first)/models/\(key)/model.bin" }
        }
        let model = try #require(targetFile)
        let members = try Npy.read(UInt8.self, from: first + "/signals/target_membership.npy").values
        try members.indices.filter { members[$0] != 0 }.map(String.init).joined(separator: "\n")
            .write(toFile: folder + "/members.txt", atomically: true, encoding: .utf8)

        let text = smallConfig(output: folder + "/second").replacingOccurrences(
            of: "reference_models:",
            with: """
                target:
                  plugin: native
                  options:
                    architecture: mlp
                    hidden_sizes: [256]
                  model_file: \(model)
                  membership: \(folder)/members.txt
                reference_models:
                """)
        // An attack that queries the target (and trains shadow models) asks the target's own backend.
        let withQueries = text.replacingOccurrences(
            of: "    - plugin: loss-threshold\n",
            with: "    - plugin: loss-threshold\n    - plugin: shokri\n      options: {shadow_count: 2}\n")
        #expect(withQueries != text)
        try withQueries.write(toFile: folder + "/second.yaml", atomically: true, encoding: .utf8)
        let r = try mia(["run", folder + "/second.yaml", "--verbose"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(
            r.stderr.contains("4 in this shard, 0 in the store, 4 to train"), "only the reference models are trained")
        let second = try RunSummary.decode(
            jsonData: Data(contentsOf: URL(fileURLWithPath: folder + "/second/metrics.json")))
        for name in ["loss-threshold", "lira-offline"] {
            #expect(second.attacks[name]?.auc == original.attacks[name]?.auc, "\(name)")
        }
        #expect(second.plugins.contains { $0.component == "target native" })
        #expect(second.attacks["shokri"] != nil)

        // A member index outside the audit records is refused before any work.
        try "1\n600\n".write(toFile: folder + "/members.txt", atomically: true, encoding: .utf8)
        let bad = try mia(["validate", folder + "/second.yaml"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("member index 600 is outside the 600 audit records"), "\(bad.stderr)")
    }
}

@Suite(
    .serialized, .enabled(if: FileManager.default.isExecutableFile(atPath: binary), "build the release binary first"))
struct PythonBackendEndToEndTests {
    /// A whole audit whose target and reference models are a user's NumPy code in worker processes.
    @Test func anAuditOfAModelInAPythonWorker() throws {
        let folder = NSTemporaryDirectory() + "mia-python-e2e-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let text = smallConfig(output: folder + "/run").replacingOccurrences(
            of: """
                  plugin: native
                  options:
                    architecture: mlp
                    hidden_sizes: [256]
                    optimizer: adam
                    learning_rate: 0.001
                    batch_size: 128
                    epochs: 40
                """,
            with: """
                  plugin: python
                  options:
                    module: \(packageRoot)/python/examples/numpy_worker.py
                    python_path: [\(packageRoot)/python]
                    worker_options: '{"steps": 60, "learning_rate": 0.5}'
                    timeout_seconds: 120
                """)
        #expect(text.contains("plugin: python"))
        try text.write(toFile: folder + "/c.yaml", atomically: true, encoding: .utf8)
        let r = try mia(["run", folder + "/c.yaml", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let s = try RunSummary.decode(jsonData: Data(contentsOf: URL(fileURLWithPath: folder + "/run/metrics.json")))
        #expect(s.target.trainAccuracy > 0.6)
        #expect(s.plugins.contains { $0.component == "model python" })
        for name in ["loss-threshold", "lira-offline"] {
            let auc = try #require(s.attacks[name]?.auc)
            #expect(auc > 0.4 && auc < 1)
        }
    }
}

@Suite(
    .serialized, .enabled(if: FileManager.default.isExecutableFile(atPath: binary), "build the release binary first"))
struct DPSGDEndToEndTests {
    /// DP-SGD with much noise leaves the attacks near chance, and the audit's empirical lower bound
    /// on epsilon stays below the accountant's claim.
    @Test func aDPSGDTargetLeaksLittleAndItsEpsilonIsReported() throws {
        let folder = NSTemporaryDirectory() + "mia-dp-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let text = smallConfig(output: folder + "/run")
            .replacingOccurrences(
                of: "    epochs: 40",
                with: "    epochs: 10\n    dp_sgd: true\n    dp_noise_multiplier: 2.0\n    dp_clip_norm: 1.0")
        try text.write(toFile: folder + "/c.yaml", atomically: true, encoding: .utf8)
        let r = try mia(["run", folder + "/c.yaml", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let s = try RunSummary.decode(jsonData: Data(contentsOf: URL(fileURLWithPath: folder + "/run/metrics.json")))
        for name in ["loss-threshold", "lira-offline"] {
            let auc = try #require(s.attacks[name]?.auc)
            #expect(abs(auc - 0.5) < 0.07, "\(name) AUC \(auc)")
        }
        let privacy = try #require(s.privacy)
        let claimed = try #require(privacy.claimedEpsilon)
        #expect(claimed > 0 && claimed.isFinite)
        #expect(privacy.delta == 1e-5)
        for (_, bound) in privacy.empiricalEpsilonLowerBound { #expect(bound < claimed) }
        let html = try String(contentsOfFile: folder + "/run/report.html", encoding: .utf8)
        #expect(html.contains("Claimed epsilon (DP-SGD accountant)"))
        #expect(html.contains("threshold chosen on held-out records"))
        // Both accountants, for the steps the backend counted: the host's RDP figure is the one the
        // backend reported; the PLD one is tighter; the report shows them side by side.
        let accountants = try #require(privacy.claimedEpsilonAccountants)
        #expect(abs(accountants.rdp - claimed) <= 1e-12 * claimed, "host RDP \(accountants.rdp), backend \(claimed)")
        #expect(accountants.pld > 0 && accountants.pld < accountants.rdp)
        #expect(html.contains("<small>(RDP)</small>") && html.contains("<small>(PLD)</small>"))
    }
}
