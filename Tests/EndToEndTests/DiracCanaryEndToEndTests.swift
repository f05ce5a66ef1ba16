import Foundation
import MIATestSupport
import Testing

@testable import AuditCore

/// Dirac gradient canaries (`audit.canaries.kind: dirac`, white-box): the native backend inserts
/// them into the target's DP-SGD steps and scores the privatised gradients (ABI 1.4); the
/// one-run bound is computed on those scores. Uses `canaryConfig` (1,000 audit records, an MLP).
@Suite(
    .serialized,
    .enabled(
        if: FileManager.default.isExecutableFile(atPath: binary),
        "build the release binary first: swift build -c release"))
struct DiracCanaryEndToEndTests {
    let folder = NSTemporaryDirectory() + "mia-e2e-dirac-\(getpid())"

    func write(_ config: String, _ name: String) throws -> String {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/" + name + ".yaml"
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func run(_ config: String, _ name: String) throws -> RunSummary {
        let result = try mia(["run", try write(config, name), "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        return try RunSummary.decode(
            jsonData: Data(contentsOf: URL(fileURLWithPath: folder + "/" + name + "/metrics.json")))
    }

    func dp(_ sigma: Double) -> String {
        "dp_sgd: true\n    dp_noise_multiplier: \(sigma)\n    dp_clip_norm: 1.0\n    dp_delta: 0.00001"
    }

    /// canaries.json of run `name`: per canary its coin and score.
    func recorded(_ name: String) throws -> [(included: Bool, score: Double, coordinate: Int)] {
        let object =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: folder + "/" + name + "/canaries.json"))) as? [String: Any]
        #expect(object?["kind"] as? String == "dirac")
        let records = try #require(object?["records"] as? [[String: Any]])
        return try records.map {
            (
                try #require($0["included"] as? Bool), try #require(($0["score"] as? NSNumber)?.doubleValue),
                try #require($0["coordinate"] as? Int)
            )
        }
    }

    @Test func withAlmostNoNoiseTheCanariesSeparateExactlyAndTheBoundIsTheCeiling() throws {
        let name = "dirac-no-noise"
        let s = try run(
            canaryConfig(
                output: folder + "/" + name, store: folder + "/store",
                canaries: "{count: 200, kind: dirac, guesses: [100]}",
                dp: dp(0.001), epochs: 10), name)
        let audit = try #require(s.canaryAudit)
        #expect(audit.kind == "dirac" && audit.bounds.keys.sorted() == ["noisy_gradients"])
        let canaries = try recorded(name)
        #expect(canaries.count == 200 && Set(canaries.map(\.coordinate)).count == 200)
        #expect(canaries.filter(\.included).count == audit.included)
        let lowestIn = try #require(canaries.filter(\.included).map(\.score).min())
        let highestOut = try #require(canaries.filter { !$0.included }.map(\.score).max())
        #expect(lowestIn > highestOut, "in \(lowestIn) vs out \(highestOut)")
        let bound = try #require(audit.bounds["noisy_gradients"])
        // k = 100 in and 100 out: separated scores make every guess right except the |I − 100|
        // that the I canaries in (not exactly 100) force on the wrong side.
        let metrics = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: folder + "/" + name + "/metrics.json")))
        let counts =
            ((metrics as? [String: Any])?["canary_audit"] as? [String: Any])?["bounds"] as? [String: [String: Any]]
        let guesses = try #require(counts?["noisy_gradients"]?["guesses"] as? Int)
        let correct = try #require(counts?["noisy_gradients"]?["correct"] as? Int)
        #expect(
            bound.canaries == 200 && guesses == 200 && correct == 200 - abs(audit.included - 100),
            "\(bound), \(audit.included) in")
        // 197 of 200 (seed 3: 103 in) at 95 % gives 3.22.
        #expect(bound.epsilon > 2.5, "\(bound)")
        // The records are not canaries: the ordinary metrics keep every audit record.
        #expect(s.attacks["loss-threshold"]?.metrics.recordCount == 1000)
        let html = try String(contentsOfFile: folder + "/" + name + "/report.html", encoding: .utf8)
        #expect(html.contains("DP audit with canaries") && html.contains("noisy_gradients"))
        // Run again: the target and its canary scores come from the store, checked by their checksum.
        let again = try run(
            canaryConfig(
                output: folder + "/" + name + "-again", store: folder + "/store",
                canaries: "{count: 200, kind: dirac, guesses: [100]}", dp: dp(0.001), epochs: 10), name + "-again")
        #expect(again.canaryAudit?.bounds == audit.bounds)
    }

    @Test(arguments: [1.0, 3.0])
    func onDPSGDTheBoundStaysBelowBothClaimedEpsilons(sigma: Double) throws {
        let name = "dirac-sigma-\(sigma)"
        let s = try run(
            canaryConfig(
                output: folder + "/" + name, store: folder + "/store-dp", canaries: "{count: 1000, kind: dirac}",
                dp: dp(sigma), epochs: 10), name)
        let audit = try #require(s.canaryAudit)
        let bound = try #require(audit.bounds["noisy_gradients"])
        let accountants = try #require(s.privacy?.claimedEpsilonAccountants)
        #expect(
            bound.epsilon <= accountants.pld && accountants.pld <= accountants.rdp,
            "σ \(sigma): audited \(bound.epsilon), claimed \(accountants)")
        #expect(bound.epsilon > 0, "white-box canaries at σ \(sigma) audit a positive ε: \(bound)")
    }

    @Test func aBackendWithoutDPSGDIsRefusedBeforeAnyTraining() throws {
        let config = canaryConfig(
            output: folder + "/python", store: folder + "/store-python", canaries: "{count: 50, kind: dirac}", dp: dp(1)
        )
        .replacingOccurrences(of: "plugin: native", with: "plugin: python")
        let result = try mia(["validate", try write(config, "python")])
        #expect(result.status != 0)
        #expect(result.stderr.contains("does not offer Dirac gradient canaries"), "\(result.stderr)")
    }

    @Test func aModelRunInAChildProcessIsRefusedBeforeAnyTraining() throws {
        let config = canaryConfig(
            output: folder + "/isolated", store: folder + "/store-isolated", canaries: "{count: 50, kind: dirac}",
            dp: dp(1)
        )
        .replacingOccurrences(of: "dataset:\n", with: "plugins:\n  isolation: process\ndataset:\n")
        let result = try mia(["validate", try write(config, "isolated")])
        #expect(result.status != 0)
        #expect(result.stderr.contains("not yet passed to a model backend run in a child process"), "\(result.stderr)")
    }
}
