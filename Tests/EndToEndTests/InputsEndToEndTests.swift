import Foundation
import MIATestSupport
import Testing

@testable import AuditCore

/// Issue 13 through the binary: `validate` on a signals config, shared options before the
/// command, and the run state of a failing rerun.
@Suite(
    .serialized,
    .enabled(
        if: FileManager.default.isExecutableFile(atPath: binary),
        "build the release binary first: swift build -c release"))
struct InputsEndToEndTests {
    let folder = NSTemporaryDirectory() + "mia-inputs-e2e-\(getpid())"

    /// A signals folder of 200 records, 3 classes: members have a higher true-class logit.
    func signalsFolder() throws -> String {
        let dir = folder + "/signals-in"
        let n = 200, c = 3
        let labels = (0..<n).map { Int32($0 % c) }
        let member = (0..<n).map { UInt8(($0 / 3) % 2) }
        var logits = [Float](repeating: 0, count: n * c)
        for i in 0..<n { logits[i * c + Int(labels[i])] = Float(i % 7) * 0.3 + (member[i] == 1 ? 1.0 : 0) }
        try Npy.write(labels, shape: [n], to: dir + "/labels.npy")
        try Npy.write(logits, shape: [n, c], to: dir + "/target_logits.npy")
        try Npy.write(member, shape: [n], to: dir + "/target_membership.npy")
        return dir
    }

    func write(_ text: String, _ name: String) throws -> String {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func signalsConfig(output: String, attacks: [String], name: String = "inputs") throws -> String {
        let fixture = packageRoot + "/.build/release/libTestFixtureFailing.so"
        return """
            run:
              name: "\(name)"
              output: \(output)
            plugins:
              paths: [\(fixture)]
            signals:
              path: \(try signalsFolder())
            audit:
              bootstrap_samples: 0
              attacks:
            \(attacks.map { "    - plugin: \($0)" }.joined(separator: "\n"))

            """
    }

    @Test func validateDescribesASignalsConfigAndSharedOptionsGoBeforeTheCommand() throws {
        let config = try write(try signalsConfig(output: folder + "/v", attacks: ["loss-threshold"]), "v.yaml")
        let v = try mia(["validate", config])
        #expect(v.status == 0, "\(v.stderr)")
        #expect(v.stdout.contains("signals from") && v.stdout.contains("200 audit records, 3 classes"), "\(v.stdout)")
        for args in [
            ["--verbose", "validate", config], ["-q", "--plugin-path", folder, "validate", config],
            ["-v", "plugins", "list"],
        ] {
            let r = try mia(args)
            #expect(r.status == 0, "\(args): \(r.stderr)")
        }
        // A run name that climbs out of runs/ is refused with its line.
        let escape = try write(
            try signalsConfig(output: folder + "/v", attacks: ["loss-threshold"], name: "../../.."), "escape.yaml")
        let e = try mia(["validate", escape])
        #expect(
            e.status == 2 && e.stderr.contains("escape.yaml:2: `run.name`: a run name is one folder name"),
            "\(e.stderr)")
    }

    @Test func aFailingRerunLeavesNoResultsThatLookComplete() throws {
        let output = folder + "/rerun"
        try? FileManager.default.removeItem(atPath: output)
        let good = try write(try signalsConfig(output: output, attacks: ["loss-threshold"]), "good.yaml")
        let first = try mia(["run", good, "--quiet"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(RunFolder.read(output)?.state == .complete)
        #expect(FileManager.default.fileExists(atPath: output + "/metrics.json"))
        #expect(try mia(["report", output]).status == 0)

        let bad = try write(
            try signalsConfig(output: output, attacks: ["loss-threshold", "failing-attack"]), "bad.yaml")
        let second = try mia(["run", bad, "--quiet"])
        #expect(second.status == 1, "\(second.stderr)")
        for name in ["metrics.json", "report.html", "roc"] {
            #expect(
                !FileManager.default.fileExists(atPath: output + "/" + name),
                "\(name) of the earlier run is still in place")
        }
        let state = try #require(RunFolder.read(output))
        #expect(state.state == .failed && state.stage == "attacks", "\(state)")
        #expect(state.plugin?.contains("libTestFixtureFailing.so") == true, "\(state)")
        let previous = try #require(state.previousResults)
        #expect(FileManager.default.fileExists(atPath: previous + "/metrics.json"))
        let report = try mia(["report", output])
        #expect(report.status == 1)
        #expect(
            report.stderr.contains("the run failed in stage `attacks`")
                && report.stderr.contains("this fixture always fails"), "\(report.stderr)")
    }
}
