import Foundation
import MIATestSupport
import Testing

@testable import AuditCore

/// `mia-audit plan` counts the distillation students of `audit.trajectory.source: distillation`
/// (one per model) and says which the store holds: none known before the models are trained (a
/// student's key holds its teacher's logits), all after a run, none again for another temperature
/// (other students), and the target's unknown when the target is given as a file.
@Suite(
    .serialized,
    .enabled(
        if: FileManager.default.isExecutableFile(atPath: binary),
        "build the release binary first: swift build -c release"))
struct DistilledPlanTests {
    let folder = NSTemporaryDirectory() + "mia-e2e-distilled-plan-\(getpid())"

    func config(temperature: Double = 1, trajectory: Bool = true, target: String = "") -> String {
        """
        run:
          name: e2e-distilled-plan
          output: \(folder)/run
          model_store: \(folder)/store
          seed: 5
          threads: 2
        dataset:
          plugin: idx
          options:
            images: \(fashionImages)
            labels: \(fashionLabels)
          audit_records: 300
          population_records: 200
        model:
          plugin: native
          options:
            architecture: mlp
            hidden_sizes: [32]
            batch_size: 64
            epochs: 3
        \(target)
        reference_models:
          count: 2
        audit:
          bootstrap_samples: 0
        """
            + (trajectory
                ? """

                  trajectory:
                    source: distillation
                    epochs: 2
                    temperature: \(temperature)
                  attacks:
                    - plugin: loss-trajectory
                """
                : """

                  attacks:
                    - plugin: loss-threshold
                """)
    }

    /// The student lines of `plan`'s output (from `students:` on), or "" when there are none.
    func plan(_ text: String, _ name: String) throws -> String {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try mia(["plan", path, "--no-trial", "--quiet"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        guard let start = result.stdout.range(of: "students:") else { return "" }
        return String(result.stdout[start.lowerBound...])
    }

    @Test func planCountsTheStudentsAndWhichAreStored() throws {
        try? FileManager.default.removeItem(atPath: folder)
        defer { try? FileManager.default.removeItem(atPath: folder) }

        // An empty store: 3 students (target, 2 reference models), none known yet.
        let empty = try plan(config(), "a.yaml")
        #expect(
            empty.hasPrefix("students: 3 to distill for the loss trajectory (one per model, 2 epochs each"), "\(empty)")
        #expect(empty.contains("  in the store:        0\n"), "\(empty)")
        #expect(empty.contains("  to train:            0\n"), "\(empty)")
        #expect(empty.contains("  not known yet:       3 "), "\(empty)")

        let run = try mia(["run", folder + "/a.yaml", "--quiet"])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let stored = try plan(config(), "a.yaml")
        #expect(stored.contains("  in the store:        3\n"), "\(stored)")
        #expect(stored.contains("  to train:            0\n"), "\(stored)")
        #expect(!stored.contains("not known yet"), "\(stored)")
        #expect(stored.contains("measured on 3 stored students:"), "\(stored)")

        // Another temperature: the same models (stored), other students (to train).
        let warmer = try plan(config(temperature: 3), "warmer.yaml")
        #expect(warmer.contains("  in the store:        0\n"), "\(warmer)")
        #expect(warmer.contains("  to train:            3\n"), "\(warmer)")
        #expect(warmer.contains("  missing: student of target\n"), "\(warmer)")
        #expect(warmer.contains("  missing: student of reference 2\n"), "\(warmer)")

        // The target given as a file (any stored model will do: `plan` loads none): its student's
        // key waits for the run to ask it; the reference models' students are the stored ones.
        let store = folder + "/store"
        let model = try #require(
            try FileManager.default.contentsOfDirectory(atPath: store).map { "\(store)/\($0)/model.bin" }
                .first { FileManager.default.fileExists(atPath: $0) })
        try "0\n1\n2".write(toFile: folder + "/members.txt", atomically: true, encoding: .utf8)
        let given = """
            target:
              plugin: native
              options:
                architecture: mlp
                hidden_sizes: [32]
              model_file: \(model)
              membership: \(folder)/members.txt
            """
        let external = try plan(config(target: given), "external.yaml")
        #expect(external.hasPrefix("students: 3 "), "\(external)")
        #expect(external.contains("  in the store:        2\n"), "\(external)")
        #expect(external.contains("  not known yet:       1 "), "\(external)")

        // No distillation: no student lines.
        #expect(try plan(config(trajectory: false), "plain.yaml").isEmpty)
    }
}
