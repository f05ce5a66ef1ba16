import AttacksClassifier
import AttacksReference
import AttacksThreshold
import Foundation
import PluginKit
import Testing

/// Workload A1 (WORKLOADS.md): N = 20,000 audit records, 10 classes, R = 64 reference models,
/// P = 10,000 population records. Not a test of speed (timed tests are flaky on shared
/// machines): it prints the times, and runs only when asked, in release:
///
///     MIA_TIMING=1 swift test -c release --filter TimingTests
@Suite(.enabled(if: ProcessInfo.processInfo.environment["MIA_TIMING"] != nil))
struct TimingTests {
    @Test func workloadA1() throws {
        let start = Date()
        let s = syntheticSignals(n: 20_000, c: 10, r: 64, p: 10_000, seed: 1)
        print("A1 signals built in \(String(format: "%.2f", Date().timeIntervalSince(start))) s")
        let attacks: [(String, any AttackStrategy)] = [
            ("loss-threshold", try LossThresholdAttack(options: opts(), host: .standalone)),
            ("lira offline global", try LiRAAttack(options: opts(), host: .standalone)),
            ("lira online per_example", try LiRAAttack(options: opts(["mode": .string("online"), "variance": .string("per_example")]), host: .standalone)),
            ("rmia offline", try RMIAAttack(options: opts(), host: .standalone)),
            ("rmia online", try RMIAAttack(options: opts(["mode": .string("online")]), host: .standalone)),
            ("reference-threshold", try ReferenceThresholdAttack(options: opts(), host: .standalone)),
        ]
        try time(attacks, on: s)
    }

    /// The attacks without reference models, on the same N and C.
    @Test func workloadA1OneModel() throws {
        let s = syntheticSignals(n: 20_000, c: 10, r: 0, p: 10_000, seed: 1)
        let attacks: [(String, any AttackStrategy)] = [
            ("modified-entropy, class thresholds", try ModifiedEntropyAttack(options: opts(["class_thresholds": .bool(true)]), host: .standalone)),
            ("kde-loss (fraction 0.1, 5 repeats)", try KDELossAttack(options: opts(), host: .standalone)),
            ("classifier logistic_regression", try ClassifierAttack(options: opts(), host: .standalone)),
            ("classifier mlp", try ClassifierAttack(options: opts(["model": .string("mlp")]), host: .standalone)),
            ("classifier knn", try ClassifierAttack(options: opts(["model": .string("knn")]), host: .standalone)),
            ("classifier random_forest (50 trees, depth 8)", try ClassifierAttack(options: opts(["model": .string("random_forest")]), host: .standalone)),
        ]
        try time(attacks, on: s)
    }

    func time(_ attacks: [(String, any AttackStrategy)], on s: SignalsStorage) throws {
        for (name, attack) in attacks {
            var times: [Double] = []
            var scores: [Double] = []
            for _ in 0..<3 {
                let t = Date()
                scores = try s.score(with: attack).scores
                times.append(Date().timeIntervalSince(t))
            }
            var mask: [UInt8] = []
            (scores, mask) = try s.score(with: attack)
            let auc = bruteForceAUC(scores: Array(scores.prefix(2000)), membership: Array(s.targetMembership.prefix(2000)), mask: Array(mask.prefix(2000)))
            print("A1 \(name): median \(String(format: "%.3f", times.sorted()[1])) s (AUC ≈ \(String(format: "%.3f", auc)))")
            #expect(scores.allSatisfy { $0.isFinite })
        }
    }
}
