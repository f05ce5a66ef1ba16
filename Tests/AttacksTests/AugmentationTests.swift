import AttacksReference
import Foundation
import Kernels
import PluginKit
import Testing

/// LiRA and RMIA over query augmentations (ABI 1.3, `Signals.augmentation`), against the
/// written-out formulas of `ReferenceTests.swift` applied view by view.

/// `base` with A views: view 0 is `base` itself, view a > 0 its logits plus seeded noise (the
/// labels and memberships are the record's, whatever the view). Returns the augmented storage
/// and every view as its own un-augmented storage.
func augmentedSignals(_ base: TestSignals, views a: Int, noise: Float = 0.4, seed: UInt64 = 5) -> (
    TestSignals, [TestSignals]
) {
    var rng = SeededRandom(seed: seed)
    func perturb(_ v: [Float]) -> [Float] { v.map { $0 + noise * Float(rng.nextGaussian()) } }
    var views = [base]
    for _ in 1..<a {
        views.append(
            TestSignals(
                classCount: base.classCount, labels: base.labels, targetLogits: perturb(base.targetLogits),
                referenceCount: base.referenceCount,
                referenceLogits: perturb(base.referenceLogits), referenceMembership: base.referenceMembership,
                populationLabels: base.populationLabels, populationTargetLogits: perturb(base.populationTargetLogits),
                populationReferenceLogits: perturb(base.populationReferenceLogits),
                targetMembership: base.targetMembership))
    }
    let augmented = TestSignals(
        classCount: base.classCount, labels: base.labels, targetLogits: base.targetLogits,
        referenceCount: base.referenceCount,
        referenceLogits: base.referenceLogits, referenceMembership: base.referenceMembership,
        populationLabels: base.populationLabels,
        populationTargetLogits: base.populationTargetLogits, populationReferenceLogits: base.populationReferenceLogits,
        targetMembership: base.targetMembership)
    augmented.augmentationCount = a
    augmented.augmentedTargetLogits = views.flatMap(\.targetLogits)
    augmented.augmentedReferenceLogits = views.flatMap(\.referenceLogits)
    augmented.augmentedPopulationTargetLogits = views.flatMap(\.populationTargetLogits)
    augmented.augmentedPopulationReferenceLogits = views.flatMap(\.populationReferenceLogits)
    return (augmented, views)
}

@Suite struct AugmentedLiRATests {
    @Test(arguments: [
        ("offline", "global"), ("offline", "per_example"), ("online", "global"), ("online", "per_example"),
    ])
    func sumsThePerAugmentationScores(mode: String, variance: String) throws {
        let (signals, views) = augmentedSignals(syntheticSignals(n: 80, c: 4, r: 12, p: 0, seed: 21), views: 4)
        let attack = try LiRAAttack(
            options: opts(["mode": .string(mode), "variance": .string(variance)]), host: .standalone)
        let got = try signals.score(with: attack).scores
        // Per augmentation its own Gaussians (written out), the scores summed.
        let perView = views.map {
            ReferenceLiRA(s: $0).scores(online: mode == "online", perExample: variance == "per_example")
        }
        var compared = 0
        for i in got.indices where perView.allSatisfy({ $0[i].isFinite }) {
            let expected = perView.map { $0[i] }.reduce(0, +)
            #expect(abs(got[i] - expected) < 1e-6 * max(1, abs(expected)), "record \(i)")
            compared += 1
        }
        #expect(compared > 60)
        // The views differ enough that the sum is not A times view 0's score.
        let plain = try views[0].score(with: attack).scores
        #expect(got.indices.contains { abs(got[$0] - 4 * plain[$0]) > 0.1 })
    }

    @Test func oneViewAndCopiesAreTheUnaugmentedScoresBitForBit() throws {
        let base = syntheticSignals(n: 50, c: 3, r: 6, p: 0, seed: 4)
        for mode in ["offline", "online"] {
            let attack = try LiRAAttack(options: opts(["mode": .string(mode)]), host: .standalone)
            let plain = try base.score(with: attack).scores
            // A = 2 with view 1 a copy of view 0: exactly twice the score (0 + s + s = 2s in floating point).
            let (twice, _) = augmentedSignals(base, views: 2, noise: 0)
            #expect(try twice.score(with: attack).scores == plain.map { 2 * $0 })
            // `augmentation(0)` of augmented signals is the un-augmented view.
            let (augmented, _) = augmentedSignals(base, views: 3)
            let viewZero = try augmented.withSignals { s -> [Double] in
                var out = [Double](repeating: 0, count: s.recordCount),
                    mask = [UInt8](repeating: 1, count: s.recordCount)
                let v = s.augmentation(0)
                #expect(v.augmentationCount == 1 && v.augmentedReferenceLogits == nil)
                try out.withUnsafeMutableBufferPointer { o in
                    try mask.withUnsafeMutableBufferPointer { try attack.score(v, into: o, evaluationMask: $0) }
                }
                return out
            }
            #expect(viewZero == plain)
        }
    }
}

@Suite struct AugmentedRMIATests {
    @Test(arguments: [("offline", 1.0, 0.3), ("offline", 2.0, 0.0), ("online", 1.0, 0.3), ("online", 2.0, 0.3)])
    func averagesTheLikelihoodRatios(mode: String, gamma: Double, a: Double) throws {
        let (signals, views) = augmentedSignals(syntheticSignals(n: 60, c: 4, r: 6, p: 50, seed: 33), views: 3)
        let attack = try RMIAAttack(
            options: opts(["mode": .string(mode), "gamma": .double(gamma), "offline_a": .double(a)]), host: .standalone)
        let got = try signals.score(with: attack).scores
        // Written out in linear space: each ratio averaged over the views, then the pairwise count.
        let ratios = views.map { referenceRMIARatios($0, online: mode == "online", a: a) }
        let x = (0..<60).map { i in ratios.map { $0.x[i] }.reduce(0, +) / 3 }
        let z = (0..<50).map { j in ratios.map { $0.z[j] }.reduce(0, +) / 3 }
        let expected = x.map { xi in Double(z.filter { xi / $0 > gamma }.count) / 50 }
        var exact = 0
        for i in got.indices {
            #expect(abs(got[i] - expected[i]) <= 1.0 / 50 + 1e-12, "record \(i)")
            if got[i] == expected[i] { exact += 1 }
        }
        #expect(exact >= got.count - 1)
        // Not the un-augmented scores: the views moved some records.
        #expect(try views[0].score(with: attack).scores != got)
    }

    @Test func copiesOfOneViewAreTheUnaugmentedScoresBitForBit() throws {
        let base = syntheticSignals(n: 40, c: 3, r: 4, p: 30, seed: 8)
        for mode in ["offline", "online"] {
            let attack = try RMIAAttack(options: opts(["mode": .string(mode)]), host: .standalone)
            let (copies, _) = augmentedSignals(base, views: 3, noise: 0)
            #expect(try copies.score(with: attack).scores == base.score(with: attack).scores)
        }
    }
}
