import Foundation
import MIATestSupport
import Testing

@testable import AuditCore

/// The loss-trajectory attack through distillation (`audit.trajectory.source: distillation`)
/// with the release binary: on a small overfit audit it separates members (AUC well above 0.5);
/// students are kept in the store and reused until something that determines them changes; a
/// target given as a file is distilled like one trained here (the same student, the same
/// scores); a model in a child process is refused.
@Suite(
    .serialized,
    .enabled(
        if: FileManager.default.isExecutableFile(atPath: binary),
        "build the release binary first: swift build -c release"))
struct DistilledTrajectoryEndToEndTests {
    let folder = NSTemporaryDirectory() + "mia-e2e-distilled-\(getpid())"

    func config(output: String, store: String, temperature: Double = 1, extra: String = "") -> String {
        """
        run:
          name: e2e-distilled
          output: \(output)
          model_store: \(store)
          seed: 4
          threads: 2
        \(extra)
        dataset:
          plugin: idx
          options:
            images: \(fashionImages)
            labels: \(fashionLabels)
          audit_records: 600
          population_records: 300
        model:
          plugin: native
          options:
            architecture: mlp
            hidden_sizes: [128]
            optimizer: adam
            learning_rate: 0.001
            batch_size: 64
            epochs: 30
        reference_models:
          count: 4
        audit:
          fprs: [0.01, 0.1]
          bootstrap_samples: 0
          trajectory:
            source: distillation
            epochs: 5
            temperature: \(temperature)
          attacks:
            - plugin: loss-threshold
            - plugin: loss-trajectory
              options: {model: logistic_regression}
        """
    }

    func write(_ text: String, _ name: String) throws -> String {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func auc(_ output: String, _ attack: String) throws -> Double {
        let summary = try RunSummary.decode(jsonData: Data(contentsOf: URL(fileURLWithPath: output + "/metrics.json")))
        return try #require(summary.attacks[attack]?.auc)
    }

    @Test func theDistilledTrajectorySeparatesMembersAndItsStudentsAreKept() throws {
        try? FileManager.default.removeItem(atPath: folder)
        let store = folder + "/store", output = folder + "/run"
        let first = try write(config(output: output, store: store), "t.yaml")
        let run = try mia(["run", first, "--verbose"])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        for role in ["target", "reference 1", "reference 4"] {
            #expect(run.stderr.contains("trained student of \(role) (5 distillation epochs)"), "\(run.stderr)")
        }
        let trajectory = try auc(output, "loss-trajectory")
        #expect(trajectory > 0.6, "AUC \(trajectory)")
        let summary = try RunSummary.decode(jsonData: Data(contentsOf: URL(fileURLWithPath: output + "/metrics.json")))
        #expect(summary.checkpoints == nil, "no `audit.checkpoints`: no per-epoch reruns")

        // Every student is in the store with its logits on the 600 audit records at each epoch.
        var students = 0
        for key in try FileManager.default.contentsOfDirectory(atPath: store) {
            guard let meta = try? String(contentsOfFile: "\(store)/\(key)/meta.json", encoding: .utf8),
                meta.contains("student of")
            else { continue }
            students += 1
            for e in 1...5 {
                let logits = try Npy.read(Float.self, from: "\(store)/\(key)/logits-600-0-epoch\(e).npy").values
                #expect(logits.count == 600 * 10)
            }
        }
        #expect(students == 5)

        // Run again: models, students and scores come from the store.
        let again = try mia(["run", first, "--verbose"])
        #expect(again.status == 0, "stderr: \(again.stderr)")
        #expect(again.stderr.contains("student of target: reused from store"), "\(again.stderr)")
        #expect(!again.stderr.contains("trained student of"), "\(again.stderr)")
        #expect(again.stderr.contains("attack loss-trajectory: scores reused"), "\(again.stderr)")

        // Another temperature is other students and other scores.
        let warmer = try write(config(output: folder + "/warmer", store: store, temperature: 3), "warmer.yaml")
        let other = try mia(["run", warmer, "--verbose"])
        #expect(other.status == 0, "stderr: \(other.stderr)")
        #expect(other.stderr.contains("trained student of target"), "\(other.stderr)")
        #expect(!other.stderr.contains("attack loss-trajectory: scores reused"), "\(other.stderr)")

        // The target given as a file (its own checkpoints unreachable): its student is trained
        // again under the new teacher's key, the reference models' students are reused, and the
        // scores are those of the target trained here (same weights, same soft targets).
        var targetFile: String?
        for key in try FileManager.default.contentsOfDirectory(atPath: store) {
            let meta = try? String(contentsOfFile: "\(store)/\(key)/meta.json", encoding: .utf8)
            if meta?.contains("\"role\" : \"target\"") == true { targetFile = "\(store)/\(key)/model.bin" }
        }
        let model = try #require(targetFile)
        let members = try Npy.read(UInt8.self, from: output + "/signals/target_membership.npy").values
        try members.indices.filter { members[$0] != 0 }.map(String.init).joined(separator: "\n")
            .write(toFile: folder + "/members.txt", atomically: true, encoding: .utf8)
        let external = config(output: folder + "/external", store: store).replacingOccurrences(
            of: "reference_models:",
            with: """
                target:
                  plugin: native
                  options:
                    architecture: mlp
                    hidden_sizes: [128]
                  model_file: \(model)
                  membership: \(folder)/members.txt
                reference_models:
                """)
        let fromFile = try mia(["run", try write(external, "external.yaml"), "--verbose"])
        #expect(fromFile.status == 0, "stderr: \(fromFile.stderr)")
        #expect(fromFile.stderr.contains("trained student of target"), "\(fromFile.stderr)")
        #expect(fromFile.stderr.contains("student of reference 1: reused from store"), "\(fromFile.stderr)")
        #expect(try auc(folder + "/external", "loss-trajectory") == trajectory)

        // A model backend in a child process cannot train students yet: refused, naming it.
        let isolated = config(
            output: folder + "/isolated", store: store, temperature: 2,
            extra: "plugins:\n  isolation: process")
        let refused = try mia(["run", try write(isolated, "isolated.yaml"), "--quiet"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("cannot train a distillation student"), "\(refused.stderr)")
        #expect(refused.stderr.contains("libMIAModelNative"), "\(refused.stderr)")
    }
}
