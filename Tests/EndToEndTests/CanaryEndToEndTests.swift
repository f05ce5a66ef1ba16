import Foundation
import MIATestSupport
import Testing

@testable import AuditCore

/// A small audit with canaries: 1,000 audit records, an MLP (overfit without DP-SGD, 50 epochs), no
/// reference models, the loss-threshold attack.
func canaryConfig(output: String, store: String, canaries: String?, dp: String? = nil, epochs: Int = 50) -> String {
    """
    run:
      name: e2e-canaries
      output: \(output)
      model_store: \(store)
      seed: 3
      threads: 2
    dataset:
      plugin: idx
      options:
        images: \(fashionImages)
        labels: \(fashionLabels)
      audit_records: 1000
      population_records: 200
    model:
      plugin: native
      options:
        architecture: mlp
        hidden_sizes: [256]
        optimizer: adam
        learning_rate: 0.001
        batch_size: 64
        epochs: \(epochs)
    \(dp.map { "    " + $0 } ?? "")
    audit:
      fprs: [0.01, 0.1]
      bootstrap_samples: 20
    \(canaries.map { "  canaries: " + $0 } ?? "")
      attacks:
        - plugin: loss-threshold
    """
}

@Suite(
    .serialized,
    .enabled(
        if: FileManager.default.isExecutableFile(atPath: binary),
        "build the release binary first: swift build -c release"))
struct CanaryEndToEndTests {
    let folder = NSTemporaryDirectory() + "mia-e2e-canaries-\(getpid())"

    func run(_ config: String, _ name: String) throws -> RunSummary {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/" + name + ".yaml"
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try mia(["run", path, "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        let output = folder + "/" + name
        return try RunSummary.decode(jsonData: Data(contentsOf: URL(fileURLWithPath: output + "/metrics.json")))
    }

    func models(_ store: String) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: store)) ?? []).filter { !$0.hasSuffix(".json") }.count
    }

    @Test func anOverfitTargetGivesAPositiveBoundThatGrowsWithTheCanaryCount() throws {
        try? FileManager.default.removeItem(atPath: folder)
        let store = folder + "/store"
        // Without canaries first: its target must not be reused by the runs with canaries.
        _ = try run(canaryConfig(output: folder + "/plain", store: store, canaries: nil), "plain")
        let before = models(store)
        let small = try run(
            canaryConfig(output: folder + "/m50", store: store, canaries: "{count: 50, kind: mislabelled}"), "m50")
        #expect(models(store) == before + 1, "the target with canaries was trained, not taken from the store")
        let large = try run(
            canaryConfig(output: folder + "/m400", store: store, canaries: "{count: 400, kind: mislabelled}"), "m400")
        let a = try #require(small.canaryAudit?.bounds["loss-threshold"])
        let b = try #require(large.canaryAudit?.bounds["loss-threshold"])
        // At 95 % after the correction over the 5 k tried (each at 99 %), every guess right at
        // k = m/2 gives at most log(q / (1 - q)), q = 0.01^(1/m): 2.34 for m = 50, 4.46 for m = 400.
        #expect(a.epsilon > 1, "m = 50: \(a)")
        #expect(b.epsilon > a.epsilon + 0.5, "m = 400 \(b.epsilon) vs m = 50 \(a.epsilon)")
        #expect(a.canaries == 50 && b.canaries == 400 && small.canaryAudit?.claimedEpsilon == nil)
        // The Gaussian-DP bound from the same guesses: positive, and growing with m too.
        let ga = try #require(a.gaussianDP), gb = try #require(b.gaussianDP)
        #expect(ga.mu > 0 && gb.mu > ga.mu, "μ: m = 50 \(ga.mu), m = 400 \(gb.mu)")
        // The canaries are left out of the ordinary metrics, and recorded in the run folder.
        #expect(small.attacks["loss-threshold"]?.metrics.recordCount == 950)
        let record =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: folder + "/m400/canaries.json"))) as? [String: Any]
        let records = try #require(record?["records"] as? [[String: Any]])
        #expect(records.count == 400 && record?["kind"] as? String == "mislabelled")
        #expect(records.filter { $0["included"] as? Bool == true }.count == large.canaryAudit?.included)
        let html = try String(contentsOfFile: folder + "/m400/report.html", encoding: .utf8)
        #expect(html.contains("DP audit with canaries"))
    }

    @Test func onDPSGDTheAuditedBoundStaysBelowTheClaimedEpsilon() throws {
        let store = folder + "/store-dp"
        for (sigma, name) in [(0.8, "dp-low-noise"), (2.0, "dp-high-noise")] {
            let dp = "dp_sgd: true\n    dp_noise_multiplier: \(sigma)\n    dp_clip_norm: 1.0\n    dp_delta: 0.00001"
            let s = try run(
                canaryConfig(
                    output: folder + "/" + name, store: store, canaries: "{count: 400, kind: mislabelled}", dp: dp,
                    epochs: 10), name)
            let audit = try #require(s.canaryAudit)
            let claimed = try #require(audit.claimedEpsilon)
            let bound = try #require(audit.bounds["loss-threshold"])
            #expect(bound.epsilon <= claimed, "σ \(sigma): audited \(bound.epsilon) > claimed \(claimed)")
            let gaussian = try #require(bound.gaussianDP)
            #expect(
                gaussian.epsilon <= claimed, "σ \(sigma): ε of the audited μ \(gaussian.epsilon) > claimed \(claimed)")
            #expect(audit.delta == 1e-5)
        }
    }

    @Test func aPythonWorkerTrainsOnTheCanariesTheHostInserted() throws {
        // The host builds every training set, canaries included, and hands it to the backend:
        // the numpy example worker (a linear model) fits noise canaries with random labels, so
        // its losses on them tell the coin flips apart. Had the worker seen the original records,
        // the scores would say nothing of the flips and the bound would exceed 1 with
        // probability far below 5 %.
        let config = canaryConfig(
            output: folder + "/python", store: folder + "/store-python",
            canaries: "{count: 200, kind: ood_noise}"
        )
        .replacingOccurrences(
            of: """
                  plugin: native
                  options:
                    architecture: mlp
                    hidden_sizes: [256]
                    optimizer: adam
                    learning_rate: 0.001
                    batch_size: 64
                    epochs: 50
                """,
            with: """
                  plugin: python
                  options:
                    module: \(packageRoot)/python/examples/numpy_worker.py
                    python_path: [\(packageRoot)/python]
                    worker_options: '{"steps": 60, "learning_rate": 0.5}'
                    timeout_seconds: 120
                """)
        #expect(config.contains("plugin: python"))
        let s = try run(config, "python")
        #expect(s.plugins.contains { $0.component == "model python" })
        let bound = try #require(s.canaryAudit?.bounds["loss-threshold"])
        #expect(bound.epsilon > 1, "\(bound)")
    }

    @Test func checkpointsBoundEachEpochAndTheLastEqualsTheFinalBound() throws {
        let config = canaryConfig(
            output: folder + "/checkpoints", store: folder + "/store-checkpoints",
            canaries: "{count: 400, kind: mislabelled}"
        )
        .replacingOccurrences(of: "  fprs: [0.01, 0.1]\n", with: "  fprs: [0.01, 0.1]\n  checkpoints: [5, 50]\n")
        let s = try run(config, "checkpoints")
        let epochs = try #require(s.checkpoints?.epochs)
        #expect(epochs.map(\.epoch) == [5, 50])
        let last = try #require(epochs.last?.canaryEpsilon?["loss-threshold"])
        let final = try #require(s.canaryAudit?.bounds["loss-threshold"])
        #expect(last == final && last.gaussianDP != nil)
        // The canaries are left out of the checkpoints' figures as of the final ones.
        #expect(
            epochs.last?.trainAccuracy == s.target.trainAccuracy && epochs.last?.testAccuracy == s.target.testAccuracy)
        #expect(epochs.last?.attacks["loss-threshold"]?.auc == s.attacks["loss-threshold"]?.auc)
    }
}
