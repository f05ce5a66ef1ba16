import AttacksClassifier
import AttacksReference
import AttacksThreshold
import Foundation
import Kernels
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
            (
                "lira online per_example",
                try LiRAAttack(
                    options: opts(["mode": .string("online"), "variance": .string("per_example")]), host: .standalone)
            ),
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
            (
                "modified-entropy, class thresholds",
                try ModifiedEntropyAttack(options: opts(["class_thresholds": .bool(true)]), host: .standalone)
            ),
            ("kde-loss (fraction 0.1, 5 repeats)", try KDELossAttack(options: opts(), host: .standalone)),
            ("classifier logistic_regression", try ClassifierAttack(options: opts(), host: .standalone)),
            ("classifier mlp", try ClassifierAttack(options: opts(["model": .string("mlp")]), host: .standalone)),
            ("classifier knn", try ClassifierAttack(options: opts(["model": .string("knn")]), host: .standalone)),
            (
                "classifier random_forest (50 trees, depth 8)",
                try ClassifierAttack(options: opts(["model": .string("random_forest")]), host: .standalone)
            ),
        ]
        try time(attacks, on: s)
    }

    /// The random forest alone at the largest size the attacks give it: 20,000 rows, 20 features.
    @Test func randomForestAtScale() throws {
        var rng = SeededRandom(seed: 2)
        let n = 20_000, d = 20
        let x = (0..<(n * d)).map { _ in rng.nextGaussian() }
        let y = (0..<n).map { i in UInt8(x[i * d] + 0.5 * x[i * d + 1] * x[i * d + 2] + rng.nextGaussian() > 0 ? 1 : 0)
        }
        var times: [Double] = []
        for _ in 0..<3 {
            let t = Date()
            var forest = RandomForest()
            try forest.fit(x, width: d, labels: y, seed: 1)
            _ = forest.memberProbability(x, width: d)
            times.append(Date().timeIntervalSince(t))
        }
        print(
            "random forest (50 trees, depth 8, min_leaf 5), 20,000 x 20: fit + predict median \(String(format: "%.3f", times.sorted()[1])) s"
        )
    }

    /// Synthesis against a linear-softmax target on 784 features (Fashion-MNIST's shape), 10
    /// classes, the default options: queries per record and time (the fake's own cost included).
    @Test func synthesisAtScale() throws {
        var rng = SeededRandom(seed: 3)
        let weights = (0..<(10 * 784)).map { _ in Float(rng.nextGaussian()) * 0.1 }
        let target = FakeQueries(classCount: 10, featureSize: 784, boost: 0, weights: weights)
        let t = Date()
        let made = try ShadowSynthesis().run(target: target, featureSize: 784, classCount: 10, rng: &rng)
        print(
            "synthesis, 784 features, 10 classes, defaults: \(made.labels.count) records (\(made.perClass)) with \(made.queries) queries "
                + "(\(String(format: "%.1f", Double(made.queries) / Double(max(made.labels.count, 1)))) per record) in \(target.targetCalls) calls, "
                + "\(String(format: "%.2f", Date().timeIntervalSince(t))) s")
    }

    func time(_ attacks: [(String, any AttackStrategy)], on s: TestSignals) throws {
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
            let auc = bruteForceAUC(
                scores: Array(scores.prefix(2000)), membership: Array(s.targetMembership.prefix(2000)),
                mask: Array(mask.prefix(2000)))
            print(
                "A1 \(name): median \(String(format: "%.3f", times.sorted()[1])) s (AUC ≈ \(String(format: "%.3f", auc)))"
            )
            #expect(scores.allSatisfy { $0.isFinite })
        }
    }
}
