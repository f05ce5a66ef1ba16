import Foundation
import Kernels
import PluginKit
import Testing

@testable import AttacksReference

/// LiRA written out from Carlini et al. 2022, separately from the plugin: plain loops,
/// φ = log(p / (1 - p)) from a direct softmax, Gaussians from the IN / OUT φ of each record.
struct ReferenceLiRA {
    let s: TestSignals
    /// 1: unbiased variances (k - 1); 0: maximum likelihood (k).
    var ddof = 1

    func phi(_ logits: [Float], _ row: Int, _ y: Int) -> Double {
        let c = s.classCount
        let p = directSoftmax(logits[(row * c)..<((row + 1) * c)])[y]
        return log(p / (1 - p))
    }

    /// (values, mean, variance with divisor k - ddof) per record, and the pooled within-record variance.
    func groups(wantIn: Bool) -> (values: [[Double]], mean: [Double], variance: [Double], pooled: Double) {
        let n = s.recordCount
        var values = [[Double]](repeating: [], count: n)
        for r in 0..<s.referenceCount {
            for i in 0..<n where (s.referenceMembership[r * n + i] == 1) == wantIn {
                values[i].append(phi(s.referenceLogits, r * n + i, Int(s.labels[i])))
            }
        }
        let mean = values.map { $0.reduce(0, +) / Double($0.count) }
        let ss = values.indices.map { i in values[i].map { ($0 - mean[i]) * ($0 - mean[i]) }.reduce(0, +) }
        let variance = values.indices.map { values[$0].count >= 2 ? ss[$0] / Double(values[$0].count - ddof) : 0 }
        let dof = values.filter { $0.count >= 2 }.map { $0.count - ddof }.reduce(0, +)
        let pooled = values.indices.filter { values[$0].count >= 2 }.map { ss[$0] }.reduce(0, +) / Double(dof)
        return (values, mean, variance, pooled)
    }

    func scores(online: Bool, perExample: Bool) -> [Double] {
        let out = groups(wantIn: false), ins = groups(wantIn: true)
        func sd(_ g: (values: [[Double]], mean: [Double], variance: [Double], pooled: Double), _ i: Int) -> Double {
            (perExample && g.values[i].count >= 2 ? g.variance[i] : g.pooled).squareRoot()
        }
        return (0..<s.recordCount).map { i in
            let x = phi(s.targetLogits, i, Int(s.labels[i]))
            if !online {
                // One-sided test: -log Pr[Z > x], Z ~ N(μ_out, σ_out²).
                let z = (x - out.mean[i]) / sd(out, i)
                return -log(0.5 * erfc(z / 2.0.squareRoot()))
            }
            func logN(_ x: Double, _ mu: Double, _ sigma: Double) -> Double {
                -(x - mu) * (x - mu) / (2 * sigma * sigma) - log(sigma * (2 * Double.pi).squareRoot())
            }
            return logN(x, ins.mean[i], sd(ins, i)) - logN(x, out.mean[i], sd(out, i))
        }
    }
}

/// RMIA written out from Zarifzadeh et al. 2024 with an O(N × P) double loop in linear space.
func referenceRMIA(_ s: TestSignals, online: Bool, gamma: Double, a: Double) -> [Double] {
    let (ratioX, ratioZ) = referenceRMIARatios(s, online: online, a: a)
    return ratioX.map { x in Double(ratioZ.filter { x / $0 > gamma }.count) / Double(ratioZ.count) }
}

/// RMIA's likelihood ratios in linear space: `p(x|θ)/Pr(x)` of every audit record and
/// `p(z|θ)/Pr(z)` of every population record.
func referenceRMIARatios(_ s: TestSignals, online: Bool, a: Double) -> (x: [Double], z: [Double]) {
    let n = s.recordCount, p = s.populationCount, c = s.classCount, r = s.referenceCount
    func prob(_ logits: [Float], _ row: Int, _ y: Int32) -> Double {
        directSoftmax(logits[(row * c)..<((row + 1) * c)])[Int(y)]
    }
    func values(_ i: Int, member: UInt8) -> [Double] {
        (0..<r).filter { s.referenceMembership[$0 * n + i] == member }.map {
            prob(s.referenceLogits, $0 * n + i, s.labels[i])
        }
    }
    func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(v.count) }
    func offline(_ pOut: Double) -> Double { 0.5 * ((1 + a) * pOut + (1 - a)) }
    // Offline, a record without OUT models takes the mean of every OUT probability.
    let everyOut = (0..<n).flatMap { values($0, member: 0) }
    func prX(_ i: Int) -> Double {
        let out = values(i, member: 0), ins = values(i, member: 1)
        if online {
            // ½(p_in + p_out); without IN models the offline approximation, without OUT the IN mean.
            if !out.isEmpty && !ins.isEmpty { return 0.5 * (mean(out) + mean(ins)) }
            return out.isEmpty ? mean(ins) : offline(mean(out))
        }
        return offline(mean(out.isEmpty ? everyOut : out))
    }
    func prZ(_ j: Int) -> Double {
        let m = mean((0..<r).map { prob(s.populationReferenceLogits, $0 * p + j, s.populationLabels[j]) })
        return online ? m : offline(m)
    }
    let ratioZ = (0..<p).map { prob(s.populationTargetLogits, $0, s.populationLabels[$0]) / prZ($0) }
    return ((0..<n).map { prob(s.targetLogits, $0, s.labels[$0]) / prX($0) }, ratioZ)
}

@Suite struct LiRATests {
    let signals = syntheticSignals(n: 80, c: 4, r: 12, p: 0, seed: 21)

    @Test(
        arguments: [
            ("offline", "global"), ("offline", "per_example"), ("online", "global"), ("online", "per_example"),
        ],
        ["unbiased", "maximum_likelihood"])
    func matchesThePaperFormulas(modeAndVariance: (String, String), estimator: String) throws {
        let (mode, variance) = modeAndVariance
        // Precondition of the comparison: every record has at least one IN and one OUT model.
        let n = signals.recordCount
        for i in 0..<n {
            let ins = (0..<12).filter { signals.referenceMembership[$0 * n + i] == 1 }.count
            #expect(ins > 0 && ins < 12)
        }
        let attack = try LiRAAttack(
            options: opts([
                "mode": .string(mode), "variance": .string(variance), "variance_estimator": .string(estimator),
            ]), host: .standalone)
        #expect(attack.requirements == (mode == "online" ? [.referenceModels, .referenceIn] : [.referenceModels]))
        let got = try signals.score(with: attack).scores
        let expected = ReferenceLiRA(s: signals, ddof: estimator == "unbiased" ? 1 : 0).scores(
            online: mode == "online", perExample: variance == "per_example")
        for i in 0..<n {
            // The written-out one-sided test overflows where erfc underflows (z > 37); the plugin does not.
            #expect(got[i].isFinite)
            if expected[i].isFinite {
                #expect(abs(got[i] - expected[i]) < 1e-6 * max(1, abs(expected[i])), "record \(i)")
            } else {
                #expect(got[i] > 600)
            }
        }
    }

    @Test func handWorkedOfflineCase() throws {
        // One record, C = 2, y = 0: logits (0, -t) give φ = t exactly. OUT φ = 1, 3 (mean 2,
        // unbiased variance 2); target φ = 2 + √2, one deviation above: score = -log(1 - Φ(1)).
        let s = TestSignals(
            classCount: 2, labels: [0], targetLogits: [0, -Float(2 + 2.0.squareRoot())], referenceCount: 2,
            referenceLogits: [0, -1, 0, -3], referenceMembership: [0, 0])
        let got = try s.score(with: LiRAAttack(options: opts(["variance": .string("per_example")]), host: .standalone))
            .scores
        #expect(abs(got[0] - -log(1 - 0.841_344_746_068_542_9)) < 1e-6)
        #expect(throws: PluginError.self) {
            try LiRAAttack(options: opts(["mode": .string("both")]), host: .standalone)
        }
    }

    @Test func varianceEstimatorHandWorked() throws {
        // C = 2, y = 0, logits (0, -t) give φ = t. Three models: record A is OUT of models 0, 1
        // (φ 1, 3; squared deviations 2) and IN model 2; record B is OUT of all three (φ 0, 1, 2;
        // squared deviations 2). Pooled variance: unbiased 4 / ((2-1) + (3-1)) = 4/3; maximum
        // likelihood 4 / (2 + 3) = 0.8. Targets sit √0.8 above each record's OUT mean (2 and 1),
        // so maximum likelihood gives z = 1 for both, unbiased z = √(0.8 / (4/3)) = √0.6.
        // Per example, record A: variance 2 (unbiased) or 1 (ML) around mean 2.
        let d = 0.8.squareRoot()
        let s = TestSignals(
            classCount: 2, labels: [0, 0], targetLogits: [0, -Float(2 + d), 0, -Float(1 + d)], referenceCount: 3,
            // Models 0, 1, 2, each record A then B.
            referenceLogits: [0, -1, 0, -0, 0, -3, 0, -1, 0, -10, 0, -2],
            referenceMembership: [0, 0, 0, 0, 1, 0])
        func upperTail(_ z: Double) -> Double { -log(0.5 * erfc(z / 2.0.squareRoot())) }
        func scores(_ variance: String, _ estimator: String) throws -> [Double] {
            try s.score(
                with: LiRAAttack(
                    options: opts(["variance": .string(variance), "variance_estimator": .string(estimator)]),
                    host: .standalone)
            ).scores
        }
        let mlGlobal = try scores("global", "maximum_likelihood"), unbiasedGlobal = try scores("global", "unbiased")
        for i in 0..<2 {
            #expect(abs(mlGlobal[i] - upperTail(1)) < 1e-6)
            #expect(abs(unbiasedGlobal[i] - upperTail(0.6.squareRoot())) < 1e-6)
        }
        // Record A per example: target 2 + √0.8 over sd 1 (ML) or √2 (unbiased).
        #expect(abs(try scores("per_example", "maximum_likelihood")[0] - upperTail(d)) < 1e-6)
        #expect(abs(try scores("per_example", "unbiased")[0] - upperTail(d / 2.0.squareRoot())) < 1e-6)
        // The default is the unbiased estimator.
        #expect(try s.score(with: LiRAAttack(options: opts(), host: .standalone)).scores == unbiasedGlobal)
        #expect(throws: PluginError.self) {
            try LiRAAttack(options: opts(["variance_estimator": .string("ddof0")]), host: .standalone)
        }
    }
}

@Suite struct RMIATests {
    let signals = syntheticSignals(n: 60, c: 4, r: 6, p: 50, seed: 33)

    @Test(arguments: [
        ("offline", 1.0, 0.3), ("offline", 2.0, 0.0), ("offline", 1.5, 1.0), ("online", 1.0, 0.3), ("online", 2.0, 0.3),
    ])
    func matchesThePaperFormulas(mode: String, gamma: Double, a: Double) throws {
        let attack = try RMIAAttack(
            options: opts(["mode": .string(mode), "gamma": .double(gamma), "offline_a": .double(a)]), host: .standalone)
        let got = try signals.score(with: attack).scores
        let expected = referenceRMIA(signals, online: mode == "online", gamma: gamma, a: a)
        // Log space against linear space: a pair at the exact threshold could flip; allow one.
        var exact = 0
        for i in got.indices {
            #expect(abs(got[i] - expected[i]) <= 1.0 / 50 + 1e-12, "record \(i)")
            if got[i] == expected[i] { exact += 1 }
        }
        #expect(exact >= got.count - 1)
        // The data include a record that no reference model left OUT (the fallback paths).
        #expect((0..<60).contains { i in (0..<6).allSatisfy { signals.referenceMembership[$0 * 60 + i] == 1 } })
        #expect(Set(got).count > 5)
    }

    @Test func handWorkedCase() throws {
        // C = 2, y = 0, one reference model, OUT for x. p(·) = softmax; logits (0, -log(1/p - 1)).
        func row(_ p: Double) -> [Float] { [0, -Float(log(p / (1 - p)))] }
        // x: target .8, reference .4 → offline a = 0: Pr(x) = ½(.4 + 1) = .7, ratio 8/7.
        // z1: target .5, reference .5 → Pr = .75, ratio 2/3; z2: target .9, reference .2 → Pr .6, ratio 1.5.
        // With γ = 1: x beats z1 only (8/7 / 1.5 < 1) → score 1/2. With γ = 1.8: 8/7 / (2/3) = 1.714 → 0.
        let s = TestSignals(
            classCount: 2, labels: [0], targetLogits: row(0.8), referenceCount: 1, referenceLogits: row(0.4),
            referenceMembership: [0], populationLabels: [0, 0], populationTargetLogits: row(0.5) + row(0.9),
            populationReferenceLogits: row(0.5) + row(0.2))
        let one = try RMIAAttack(options: opts(["gamma": .double(1), "offline_a": .double(0)]), host: .standalone)
        #expect(try s.score(with: one).scores == [0.5])
        let strict = try RMIAAttack(options: opts(["gamma": .double(1.8), "offline_a": .double(0)]), host: .standalone)
        #expect(try s.score(with: strict).scores == [0])
        #expect(one.requirements == [.referenceModels, .population])
        #expect(throws: PluginError.self) { try RMIAAttack(options: opts(["gamma": .double(0)]), host: .standalone) }
    }
}

@Suite struct RMIATuningTests {
    /// Reference model 0 of `s` as the target, models 1..<R as the references.
    func pseudoTarget(_ s: TestSignals) -> TestSignals {
        let n = s.recordCount, c = s.classCount, p = s.populationCount, r = s.referenceCount
        return TestSignals(
            classCount: c, labels: s.labels, targetLogits: Array(s.referenceLogits[0..<(n * c)]), referenceCount: r - 1,
            referenceLogits: Array(s.referenceLogits[(n * c)...]),
            referenceMembership: Array(s.referenceMembership[n...]),
            populationLabels: s.populationLabels,
            populationTargetLogits: Array(s.populationReferenceLogits[0..<(p * c)]),
            populationReferenceLogits: Array(s.populationReferenceLogits[(p * c)...]),
            targetMembership: Array(s.referenceMembership[0..<n]))
    }

    @Test(arguments: [(UInt64(41), 1.0), (UInt64(42), 2.0)])
    func choosesTheBestAByBruteForce(seed: UInt64, gamma: Double) throws {
        let s = syntheticSignals(n: 60, c: 4, r: 6, p: 40, memberBoost: 1.2, seed: seed)
        let attack = try RMIAAttack(
            options: opts(["tune_offline_a": .bool(true), "gamma": .double(gamma), "offline_a": .double(0.9)]),
            host: .standalone)
        let got = try s.score(with: attack).scores
        // Independently: every a of the grid, the written-out RMIA on the pseudo-target, its AUC
        // by counting pairs against model 0's membership.
        let pseudo = pseudoTarget(s)
        let aucs = (0...100).map { k in
            bruteForceAUC(
                scores: referenceRMIA(pseudo, online: false, gamma: gamma, a: Double(k) / 100),
                membership: pseudo.targetMembership)
        }
        let best = aucs.max()!
        let chosen = attack.chosenOfflineA
        #expect(
            abs(aucs[Int((chosen * 100).rounded())] - best) < 1e-12,
            "a = \(chosen) scores \(aucs[Int((chosen * 100).rounded())]), best \(best)")
        #expect(abs(attack.tuningAUC! - best) < 1e-12)
        // The smallest a reaching the best AUC.
        #expect(!aucs[0..<Int((chosen * 100).rounded())].contains { $0 > best - 1e-12 })
        // The spread matters: the search is not picking from a flat line.
        #expect(aucs.min()! < best)
        // The target is then scored with the chosen a, not offline_a.
        let expected = referenceRMIA(s, online: false, gamma: gamma, a: chosen)
        for i in 0..<s.recordCount { #expect(abs(got[i] - expected[i]) < 1e-12, "record \(i)") }
    }

    @Test func needsTwoReferenceModels() throws {
        let s = syntheticSignals(n: 20, c: 3, r: 1, p: 10, seed: 5)
        let attack = try RMIAAttack(options: opts(["tune_offline_a": .bool(true)]), host: .standalone)
        #expect(throws: PluginError.self) { try s.score(with: attack) }
    }

    @Test func aucMatchesPairCounting() {
        let scores: [Double] = [3, 1, 2, 2, 5, 0, 2]
        let members = [true, false, true, false, true, false, false]
        let u8 = members.map { UInt8($0 ? 1 : 0) }
        #expect(abs(RMIAOfflineTuning.auc(scores, members) - bruteForceAUC(scores: scores, membership: u8)) < 1e-15)
    }
}

@Suite struct ReferenceThresholdTests {
    /// Logits (0, log(e^ℓ - 1)) with y = 0 give cross-entropy loss ℓ.
    func row(loss: Double) -> [Float] { [0, Float(log(exp(loss) - 1))] }

    /// Three records with the same OUT losses 1, 2, 3, 4 (a fifth reference model is IN, with a
    /// loss the attack must ignore) and target losses 2.5, 0.5, 5.
    var storage: TestSignals {
        let targets = [2.5, 0.5, 5.0]
        var reference: [Float] = []
        for m in 0..<5 {
            for _ in targets { reference += row(loss: m < 4 ? Double(m + 1) : 0.01) }
        }
        return TestSignals(
            classCount: 2, labels: [0, 0, 0], targetLogits: targets.flatMap { row(loss: $0) }, referenceCount: 5,
            referenceLogits: reference, referenceMembership: [UInt8](repeating: 0, count: 12) + [1, 1, 1])
    }

    @Test func percentile() throws {
        // Linear percentiles of (1, 2, 3, 4): loss 2.5 sits at q = 1.5 / 3 → score .5; below all → 1; above → 0.
        let got = try storage.score(with: ReferenceThresholdAttack(options: opts(), host: .standalone)).scores
        for (g, e) in zip(got, [0.5, 1, 0]) { #expect(abs(g - e) < 1e-5) }
    }

    @Test func zScore() throws {
        // Mean 2.5, unbiased sd √(5/3).
        let got = try storage.score(
            with: ReferenceThresholdAttack(options: opts(["score": .string("z_score")]), host: .standalone)
        ).scores
        let sd = (5.0 / 3).squareRoot()
        for (g, e) in zip(got, [0, 2 / sd, -2.5 / sd]) { #expect(abs(g - e) < 1e-5) }
    }
}
