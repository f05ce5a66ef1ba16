import AttacksThreshold
import Foundation
import Kernels
import PluginKit
import Testing

/// Logits whose softmax is exactly (to f32 rounding) the given probabilities.
func logits(_ rows: [[Double]]) -> [Float] { rows.flatMap { $0.map { Float(log($0)) } } }

@Suite struct ThresholdAttackTests {
    /// Three records: p = (.5, .25, .25) with y = 0 and y = 1, p = (.1, .1, .8) with y = 2.
    let storage = TestSignals(
        classCount: 3, labels: [0, 1, 2],
        targetLogits: logits([[0.5, 0.25, 0.25], [0.5, 0.25, 0.25], [0.1, 0.1, 0.8]]))

    func scores(_ attack: any AttackStrategy) throws -> [Double] { try storage.score(with: attack).scores }

    func expectClose(_ a: [Double], _ b: [Double], tolerance: Double = 1e-6) {
        #expect(a.count == b.count)
        for (x, y) in zip(a, b) { #expect(abs(x - y) < tolerance, "\(a) vs \(b)") }
    }

    @Test func lossVariants() throws {
        expectClose(
            try scores(LossThresholdAttack(options: opts(), host: .standalone)), [log(0.5), log(0.25), log(0.8)])
        expectClose(
            try scores(LossThresholdAttack(options: opts(["loss": .string("probability")]), host: .standalone)),
            [-0.5, -0.75, -0.2])
        // 1 - p_y / max p: 0 for a predicted class, 1 - .25/.5 = .5 otherwise.
        expectClose(
            try scores(
                LossThresholdAttack(options: opts(["loss": .string("normalized_probability")]), host: .standalone)),
            [0, -0.5, 0])
        #expect(throws: PluginError.self) {
            try LossThresholdAttack(options: opts(["loss": .string("hinge")]), host: .standalone)
        }
    }

    @Test func confidenceEntropyModifiedEntropyCorrectness() throws {
        expectClose(try scores(ConfidenceAttack(options: opts(), host: .standalone)), [0.5, 0.25, 0.8])
        let h01 = 0.5 * log(0.5) + 0.5 * log(0.25), h2 = 0.2 * log(0.1) + 0.8 * log(0.8)
        expectClose(try scores(EntropyAttack(options: opts(), host: .standalone)), [h01, h01, h2])
        // Mentr = -(1 - p_y) log p_y - Σ_{j≠y} p_j log(1 - p_j); score = -Mentr.
        let m0 = -0.5 * log(0.5) - 2 * 0.25 * log(0.75)
        let m1 = -0.75 * log(0.25) - 0.5 * log(0.5) - 0.25 * log(0.75)
        let m2 = -0.2 * log(0.8) - 2 * 0.1 * log(0.9)
        expectClose(try scores(ModifiedEntropyAttack(options: opts(), host: .standalone)), [-m0, -m1, -m2])
        expectClose(try scores(CorrectnessAttack(options: opts(), host: .standalone)), [1, 0, 1])
        expectClose(try scores(GapAttack(options: opts(), host: .standalone)), [1, 0, 1])
    }

    @Test func classThresholdsStandardisePerClassAgainstThePopulation() throws {
        // Population scores (log p_y): class 0: log .5, log .25 (mean -1.5 ln 2, sd .5 ln 2);
        // class 1: log .25 twice (sd 0, so the pooled sd); class 2: one record (pooled mean, sd).
        let population = logits([
            [0.5, 0.25, 0.25], [0.25, 0.5, 0.25], [0.5, 0.25, 0.25], [0.25, 0.25, 0.5], [0.1, 0.1, 0.8],
        ])
        let signals = TestSignals(
            classCount: 3, labels: storage.labels, targetLogits: storage.targetLogits,
            populationLabels: [0, 0, 1, 1, 2], populationTargetLogits: population)
        let attack = try LossThresholdAttack(options: opts(["class_thresholds": .bool(true)]), host: .standalone)
        #expect(attack.requirements == [.population])
        let pooledValues = [log(0.5), log(0.25), log(0.25), log(0.25), log(0.8)]
        let pooledMean = pooledValues.reduce(0, +) / 5
        let pooledSD = (pooledValues.map { ($0 - pooledMean) * ($0 - pooledMean) }.reduce(0, +) / 5).squareRoot()
        let expected = [
            (log(0.5) - (-1.5 * log(2.0))) / (0.5 * log(2.0)),  // = 1
            (log(0.25) - log(0.25)) / pooledSD,  // = 0
            (log(0.8) - pooledMean) / pooledSD,
        ]
        expectClose(try signals.score(with: attack).scores, expected)
        #expect(abs(expected[0] - 1) < 1e-12)
        // Without a population set the option is refused at score time.
        #expect(throws: PluginError.self) { try storage.score(with: attack) }
    }
}

@Suite struct KDELossAttackTests {
    /// Silverman's rule written out: 0.9 min(sd, IQR / 1.34) n^-1/5, numpy-style quartiles.
    func silverman(_ x: [Double]) -> Double {
        let s = x.sorted(), n = Double(x.count)
        let mean = s.reduce(0, +) / n
        let sd = (s.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / (n - 1)).squareRoot()
        func q(_ p: Double) -> Double {
            let pos = p * (n - 1), lo = Int(pos)
            return lo + 1 < s.count ? s[lo] + (pos - Double(lo)) * (s[lo + 1] - s[lo]) : s[lo]
        }
        return 0.9 * min(sd, (q(0.75) - q(0.25)) / 1.34) * pow(n, -0.2)
    }

    func density(_ x: Double, _ samples: [Double]) -> Double {
        let h = silverman(samples)
        return samples.map { exp(-0.5 * pow((x - $0) / h, 2)) }.reduce(0, +)
            / (Double(samples.count) * h * (2 * Double.pi).squareRoot())
    }

    @Test func scoreIsTheLogRatioOfTheKnownRecordsDensities() throws {
        // 40 records, 2 classes; members have p_y drawn higher. One repeat: the records known to
        // the attacker are exactly those the mask leaves out, so the test can refit both densities.
        var rng = SeededRandom(seed: 3)
        let n = 40
        let membership = (0..<n).map { UInt8($0 % 2) }
        let labels = [Int32](repeating: 0, count: n)
        var rows: [[Double]] = []
        for i in 0..<n {
            let p = membership[i] != 0 ? 0.6 + 0.35 * rng.nextDouble() : 0.2 + 0.6 * rng.nextDouble()
            rows.append([p, 1 - p])
        }
        let s = TestSignals(classCount: 2, labels: labels, targetLogits: logits(rows), targetMembership: membership)
        let attack = try KDELossAttack(
            options: opts(["known_member_fraction": .double(0.25), "repeats": .int(1)]), host: .standalone)
        #expect(attack.requirements == [.knownMembership])
        let (scores, mask) = try s.score(with: attack, seed: 11)
        let losses = rows.map { -log($0[0]) }
        let known = (0..<n).filter { mask[$0] == 0 }
        // ceil(.25 * 20) = 5 members and 5 non-members known.
        #expect(known.filter { membership[$0] != 0 }.count == 5)
        #expect(known.filter { membership[$0] == 0 }.count == 5)
        // Losses come from f32 logits: compare the densities of the f32-exact losses.
        let exact = (0..<n).map { i -> Double in
            let z0 = Double(s.targetLogits[2 * i]), z1 = Double(s.targetLogits[2 * i + 1])
            return log(exp(z0) + exp(z1)) - z0
        }
        #expect(zip(exact, losses).allSatisfy { abs($0 - $1) < 1e-5 })
        let inSamples = known.filter { membership[$0] != 0 }.map { exact[$0] }
        let outSamples = known.filter { membership[$0] == 0 }.map { exact[$0] }
        for i in 0..<n where mask[i] != 0 {
            let expected = log(density(exact[i], inSamples)) - log(density(exact[i], outSamples))
            #expect(abs(scores[i] - expected) < 1e-8 * max(1, abs(expected)), "record \(i)")
        }
    }

    @Test func repeatsAverageOutOfBagAndMaskOnlyAlwaysKnownRecords() throws {
        let s = syntheticSignals(n: 60, c: 3, r: 0, p: 0)
        let one = try KDELossAttack(
            options: opts(["known_member_fraction": .double(0.5), "repeats": .int(1)]), host: .standalone)
        let many = try KDELossAttack(
            options: opts(["known_member_fraction": .double(0.5), "repeats": .int(6)]), host: .standalone)
        let (_, mask1) = try s.score(with: one, seed: 5)
        let (_, mask6) = try s.score(with: many, seed: 5)
        // With one draw half the records are known; with six, only those known in every draw.
        #expect(mask1.filter { $0 == 0 }.count >= 28)
        #expect(mask6.filter { $0 == 0 }.count < mask1.filter { $0 == 0 }.count)
        // Same seed, same scores.
        #expect(try s.score(with: many, seed: 5).scores == s.score(with: many, seed: 5).scores)
        #expect(throws: PluginError.self) {
            try KDELossAttack(options: opts(["known_member_fraction": .double(1.5)]), host: .standalone)
        }
    }
}

@Suite struct ExtremeOutputTests {
    @Test func modifiedEntropyKeepsItsPrecisionWhenTheModelIsSure() throws {
        // Logits (40, 0, 0), y = 0: p1 = p2 = q = e^-40 / (1 + 2e^-40). To first order
        // Mentr = -(2q) log(1 - 2q) - 2 q log(1 - q) ≈ 4q² + 2q² = 6q² ≈ 1.1e-34, though p0
        // rounds to 1 in f64 and a naive formula gives 0.
        let s = TestSignals(classCount: 3, labels: [0], targetLogits: [40, 0, 0])
        let q = exp(-40.0) / (1 + 2 * exp(-40.0))
        let got = try s.score(with: ModifiedEntropyAttack(options: opts(), host: .standalone)).scores[0]
        #expect(abs(-got / (6 * q * q) - 1) < 1e-9)
        // And the probability loss 1 - p0 = 2q.
        let loss = try s.score(
            with: LossThresholdAttack(options: opts(["loss": .string("probability")]), host: .standalone)
        ).scores[0]
        #expect(abs(-loss / (2 * q) - 1) < 1e-9)
    }
}
