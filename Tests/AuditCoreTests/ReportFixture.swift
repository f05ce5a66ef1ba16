import Foundation

@testable import AuditCore

/// A synthetic finished run: three attacks of different strength on 4,000 audit records,
/// 10 classes, a 20-epoch history, timings, plugins, and a config with characters to escape.
struct ReportFixture {
    var summary: RunSummary
    var scores: [String: [Double]]
    var isMember: [Bool]
    var masks: [String: [UInt8]]

    static func make(records n: Int = 4000, bootstrapSamples: Int = 50) -> ReportFixture {
        var rng = TestRandom(2024)
        let isMember = (0..<n).map { $0 % 2 == 0 }
        let labels = (0..<n).map { _ in Int32(rng.next() % 10) }
        let correct = isMember.map { rng.uniform() < ($0 ? 0.93 : 0.83) }
        var scores: [String: [Double]] = [:], masks: [String: [UInt8]] = [:]
        // Loss attack: minus a loss-like positive score, members lower loss.
        scores["loss"] = isMember.map { m in -abs(rng.gaussian() * (m ? 0.6 : 1.0)) }
        // A likelihood-ratio attack with a heavy upper tail on some members.
        scores["lira_offline"] = isMember.map { m in rng.gaussian() + (m ? (rng.uniform() < 0.05 ? 4 : 0.3) : 0) }
        // Correctness (label-only): two values, and half the records used for training (masked).
        scores["correctness"] = correct.map { $0 ? 1 : 0 }
        masks["correctness"] = (0..<n).map { $0 % 4 < 2 ? 0 : 1 }
        masks["loss"] = [UInt8](repeating: 1, count: n)
        let fprs = [0.001, 0.01, 0.1]
        var summary = RunSummary(
            toolVersion: "0.1.0-test", runName: "fixture <w2> & co", createdAt: "2026-11-24T21:00:00Z",
            dataset: DatasetSummary(name: "fashion-mnist", records: 5000, classes: 10),
            target: TargetSummary(
                trainAccuracy: 0.93125, testAccuracy: 0.82875,
                history: (1...20).map { e in
                    let t = Double(e)
                    return EpochSummary(
                        epoch: e, trainLoss: 1.6 * exp(-t / 6) + 0.12, trainAccuracy: 0.95 - 0.4 * exp(-t / 5),
                        heldoutLoss: 1.5 * exp(-t / 5) + 0.42 + 0.01 * t, heldoutAccuracy: 0.84 - 0.35 * exp(-t / 4),
                        seconds: 0.8 + 0.01 * t)
                }),
            referenceCount: 8, fprs: fprs,
            stageSeconds: [
                StageTiming(stage: "load dataset", seconds: 0.41), StageTiming(stage: "train models", seconds: 41.7),
                StageTiming(stage: "signals", seconds: 2.25), StageTiming(stage: "attacks", seconds: 1.02),
                StageTiming(stage: "evaluate", seconds: 0.33), StageTiming(stage: "report", seconds: 0.12),
            ],
            totalSeconds: 45.83, peakMemoryBytes: 412_345_678,
            configYAML:
                "run:\n  name: \"fixture <w2> & co\"\n  seed: 7\naudit:\n  attacks:\n    - loss # <script>alert('x')</script>\n",
            plugins: [
                PluginUse(
                    name: "attacks-threshold", version: "0.1.0", path: "/opt/mia & co/libMIAAttacksThreshold.so",
                    component: "attack loss"),
                PluginUse(
                    name: "attacks-reference", version: "0.1.0", path: "/opt/mia/libMIAAttacksReference.so",
                    component: "attack lira_offline"),
            ])
        summary.blas = BLASSummary(
            library: "libopenblas.so.0", version: "OpenBLAS 0.3.21 DYNAMIC_ARCH", kernel: "SkylakeX",
            chosenBy: "mia-audit",
            note: "OpenBLAS took Prescott by itself", threads: 2, gflops: 271.4, cpu: "Xeon <fixture> & co",
            cpuFeatures: ["avx2", "fma", "avx512f"], vectorLevel: "avx512")
        for (k, name) in ["loss", "lira_offline", "correctness"].enumerated() {
            let mask = masks[name] ?? [UInt8](repeating: 1, count: n)
            let e = evaluate(
                attack: name, scores: scores[name]!, evaluationMask: mask, isMember: isMember,
                labels: labels, targetCorrect: correct, fprs: fprs, slices: .all,
                bootstrapSamples: bootstrapSamples, seed: UInt64(k))
            summary.add(
                e,
                mostAtRisk: mostAtRisk(
                    scores: scores[name]!, isMember: isMember, evaluationMask: mask,
                    labels: labels, recordIndices: (0..<n).map { $0 + 1000 }, count: 10))
        }
        return ReportFixture(summary: summary, scores: scores, isMember: isMember, masks: masks)
    }

    func html() -> String {
        renderReport(summary: summary, scores: scores, isMember: isMember, evaluationMasks: masks)
    }
}
