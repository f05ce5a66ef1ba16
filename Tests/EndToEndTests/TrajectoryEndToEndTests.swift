import Foundation
import MIATestSupport
import Testing

@testable import AuditCore

/// The loss-trajectory attack through the release binary: a small audit with checkpoints, its
/// scores recomputed here from the store's checkpoint logits (trajectories by the cross-entropy
/// written out, the logistic attack model by `independentLogisticRegression`).
@Suite(
    .serialized,
    .enabled(
        if: FileManager.default.isExecutableFile(atPath: binary),
        "build the release binary first: swift build -c release"))
struct TrajectoryEndToEndTests {
    let folder = NSTemporaryDirectory() + "mia-e2e-trajectory-\(getpid())"

    /// The store folder of every model, by role.
    func modelFolders(_ store: String) throws -> [String: String] {
        var out: [String: String] = [:]
        for key in try FileManager.default.contentsOfDirectory(atPath: store) {
            let meta = try? Data(contentsOf: URL(fileURLWithPath: "\(store)/\(key)/meta.json"))
            if let meta, let record = try? JSONDecoder().decode([String: AnyDecodable].self, from: meta),
                case .string(let role)? = record["role"]
            {
                out[role] = "\(store)/\(key)"
            }
        }
        return out
    }

    @Test func theTrajectoryScoresAreTheIndependentFitOnTheStoredCheckpoints() throws {
        let output = folder + "/run", store = folder + "/store"
        try? FileManager.default.removeItem(atPath: folder)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let text =
            checkpointConfig(output: output, store: store, epochs: 8, checkpoints: "[2, 4]")
            .replacingOccurrences(of: "count: 4", with: "count: 2")
            + "\n    - plugin: loss-trajectory\n      options: {model: logistic_regression}\n"
        let config = folder + "/t.yaml"
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let run = try mia(["run", config, "--quiet"])
        #expect(run.status == 0, "stderr: \(run.stderr)")

        let summary = try RunSummary.decode(jsonData: Data(contentsOf: URL(fileURLWithPath: output + "/metrics.json")))
        let checkpoints = try #require(summary.checkpoints)
        #expect(checkpoints.epochs.map(\.epoch) == [2, 4])
        #expect(
            checkpoints.epochs.allSatisfy { $0.attacks["loss-trajectory"] == nil },
            "it reads every epoch at once: no per-epoch rerun")
        #expect(
            checkpoints.notes.contains { $0.contains("`loss-trajectory` read every checkpoint at once") },
            "\(checkpoints.notes)")
        let auc = try #require(summary.attacks["loss-trajectory"]?.auc)

        let n = 600, c = 10, r = 2
        let labels = try Npy.read(Int32.self, from: output + "/signals/labels.npy").values
        let referenceMembership = try Npy.read(UInt8.self, from: output + "/signals/reference_membership.npy").values
        let membership = try Npy.read(UInt8.self, from: output + "/signals/target_membership.npy").values.map {
            $0 != 0
        }
        let folders = try modelFolders(store)
        /// Record i's losses at epochs 2 and 4, then at the end, under the model of `role`.
        func trajectories(_ role: String) throws -> [[Double]] {
            let files = ["logits-600-200-epoch2.npy", "logits-600-200-epoch4.npy", "logits-600-200.npy"]
            let logits = try files.map { try Npy.read(Float.self, from: try #require(folders[role]) + "/" + $0).values }
            return (0..<n).map { i in
                logits.map { z in
                    let row = (0..<c).map { Double(z[i * c + $0]) }
                    let top = row.max()!
                    return top + log(row.map { exp($0 - top) }.reduce(0, +)) - row[Int(labels[i])]
                }
            }
        }
        let x = try (1...r).flatMap { try trajectories("reference \($0)") }
        let y = referenceMembership.map { Double($0) }
        let expected = independentLogisticRegression(x, y, predict: try trajectories("target"), iterations: 3000)
        let scores = try Npy.read(Double.self, from: output + "/scores/loss-trajectory.npy").values
        #expect(scores.count == n)
        let worst = zip(scores, expected).map { abs($0 - $1) }.max() ?? 1
        #expect(worst < 1e-5, "largest difference \(worst)")
        #expect(abs(bruteForceAUC(scores, membership) - auc) < 1e-9)

        // Another list of checkpoints is other scores: not reused.
        let again = try mia(["run", config, "--verbose"])
        #expect(again.stderr.contains("attack loss-trajectory: scores reused"), "\(again.stderr)")
        let fewer = folder + "/fewer.yaml"
        try text.replacingOccurrences(of: "checkpoints: [2, 4]", with: "checkpoints: [4]").write(
            toFile: fewer, atomically: true, encoding: .utf8)
        let other = try mia(["run", fewer, "--verbose"])
        #expect(other.status == 0, "stderr: \(other.stderr)")
        #expect(!other.stderr.contains("attack loss-trajectory: scores reused"), "\(other.stderr)")
    }
}
