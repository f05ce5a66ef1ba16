import AttacksClassifier
import Foundation
import Kernels
import PluginKit
import Testing

@Suite struct ClassifierAttackTests {
    @Test func featureRows() {
        // p = (.2, .5, .3), y = 2.
        let z = logits([[0.2, 0.5, 0.3]])
        let set = FeatureSet(
            features: [.probabilities, .sortedProbabilities, .topK, .loss, .label, .logits], classCount: 3, topK: 2)
        #expect(set.width == 3 + 3 + 2 + 1 + 3 + 3)
        let row = z.withUnsafeBufferPointer { zp in
            [Int32(2)].withUnsafeBufferPointer { set.rows(logits: zp, labels: $0) }
        }
        let expected = [0.2, 0.5, 0.3, 0.5, 0.3, 0.2, 0.5, 0.3, -log(0.3), 0, 0, 1] + z.map(Double.init)
        for (a, b) in zip(row, expected) { #expect(abs(a - b) < 1e-6) }
    }

    @Test func releasedProbabilitiesAreReadAsReleasedNotRenormalised() {
        // A top-1 release of p = (.7, .2, .1): log(.7) and the floor for the rest. Read as released,
        // the features keep .7; a softmax would renormalise it to 1 - 2e-12/.7 and lose it.
        let floor = log(1e-12)
        let z: [Float] = [Float(log(0.7)), Float(floor), Float(floor)]
        let set = FeatureSet(features: [.sortedProbabilities, .loss], classCount: 3, topK: 3)
        func row(_ released: Bool) -> [Double] {
            z.withUnsafeBufferPointer { zp in
                [Int32(0)].withUnsafeBufferPointer { set.rows(logits: zp, labels: $0, released: released) }
            }
        }
        let released = row(true), renormalised = row(false)
        #expect(abs(released[0] - 0.7) < 1e-6)
        #expect(abs(released[1] - 1e-12) < 1e-15 && abs(released[2] - 1e-12) < 1e-15)
        #expect(abs(released[3] - -log(0.7)) < 1e-6)
        #expect(abs(renormalised[0] - 1) < 1e-9)  // what the attack saw before: p is gone
        #expect(renormalised[3] < 1e-9)
    }

    /// 2 classes; members of class 0 are 3 in 4, of class 1 are 1 in 4 (40 records each class).
    var labelOnly: TestSignals {
        var labels: [Int32] = [], membership: [UInt8] = []
        for i in 0..<80 {
            labels.append(Int32(i % 2))
            let k = i / 2
            membership.append(i % 2 == 0 ? (k % 4 != 0 ? 1 : 0) : (k % 4 == 0 ? 1 : 0))
        }
        return TestSignals(
            classCount: 2, labels: labels, targetLogits: [Float](repeating: 0, count: 160), targetMembership: membership
        )
    }

    @Test func logisticRegressionOnTheLabelLearnsEachClassMemberRate() throws {
        // With the one-hot label as the only feature the (nearly unpenalised) maximum-likelihood
        // fit gives each class the member rate of its training records.
        let s = labelOnly
        let attack = try ClassifierAttack(
            options: opts(["features": .list([.string("label")]), "model": .string("logistic_regression")]),
            host: .standalone)
        #expect(attack.requirements == [.knownMembership])
        let (scores, mask) = try s.score(with: attack, seed: 4)
        #expect(mask.filter { $0 == 0 }.count == 40)
        for k in 0..<2 {
            let train = (0..<80).filter { mask[$0] == 0 && s.labels[$0] == Int32(k) }
            let rate = Double(train.filter { s.targetMembership[$0] != 0 }.count) / Double(train.count)
            for i in 0..<80 where s.labels[i] == Int32(k) { #expect(abs(scores[i] - rate) < 0.01) }
        }
    }

    @Test func oneNearestNeighbourCopiesTheNearestTrainingRecord() throws {
        let s = syntheticSignals(n: 60, c: 3, r: 0, p: 0, seed: 9)
        let attack = try ClassifierAttack(
            options: opts(["features": .list([.string("loss")]), "model": .string("knn"), "neighbors": .int(1)]),
            host: .standalone)
        let (scores, mask) = try s.score(with: attack, seed: 2)
        let loss = (0..<60).map { i -> Double in
            let p = directSoftmax(s.targetLogits[(3 * i)..<(3 * i + 3)])
            return -log(p[Int(s.labels[i])])
        }
        let train = (0..<60).filter { mask[$0] == 0 }
        for i in 0..<60 {
            let nearest = train.min { abs(loss[$0] - loss[i]) < abs(loss[$1] - loss[i]) }!
            #expect(scores[i] == Double(s.targetMembership[nearest]))
        }
    }

    @Test func mlpSeparatesAndIsDeterministic() throws {
        let s = syntheticSignals(n: 200, c: 3, r: 0, p: 0, memberBoost: 4, seed: 5)
        let attack = try ClassifierAttack(
            options: opts(["model": .string("mlp"), "epochs": .int(30)]), host: .standalone)
        let (scores, mask) = try s.score(with: attack, seed: 1)
        #expect(bruteForceAUC(scores: scores, membership: s.targetMembership, mask: mask) > 0.85)
        #expect(try s.score(with: attack, seed: 1).scores == scores)
        #expect(throws: PluginError.self) {
            try ClassifierAttack(options: opts(["features": .list([.string("gradients")])]), host: .standalone)
        }
    }
}

/// A population of 2-D points for the shadow attacks, an audit set of other points, and a
/// target that memorised the audit members.
func shadowSetup(audit n: Int, population p: Int, classes c: Int) -> (TestSignals, FakeQueries) {
    var rng = SeededRandom(seed: 77)
    let weights = (0..<(c * 2)).map { _ in Float(rng.nextGaussian()) * 0.1 }
    let queries = FakeQueries(classCount: c, featureSize: 2, boost: 3, weights: weights)
    func points(_ k: Int) -> ([Float], [Int32]) {
        ((0..<(2 * k)).map { _ in Float(rng.nextGaussian()) }, (0..<k).map { _ in Int32(rng.nextInt(below: c)) })
    }
    let (features, labels) = points(n)
    let (popFeatures, popLabels) = points(p)
    let membership = (0..<n).map { UInt8($0 % 2) }
    for i in 0..<n where membership[i] != 0 {
        queries.targetTraining[Array(features[(2 * i)..<(2 * i + 2)])] = labels[i]
    }
    let target = try! queries.predictTarget(features: features, count: n)
    let popTarget = try! queries.predictTarget(features: popFeatures, count: p)
    let s = TestSignals(
        classCount: c, labels: labels, targetLogits: target, populationLabels: popLabels,
        populationTargetLogits: popTarget,
        targetMembership: membership, features: features, populationFeatures: popFeatures, featureShape: [2])
    return (s, queries)
}

@Suite struct ShadowAttackTests {
    @Test func shokriTrainsOneShadowPerCountAndSeparatesMemorisedRecords() throws {
        // Small weights leave a non-member's probabilities near uniform (largest < .5 here), while
        // memorising a record adds 3 to its true-class logit (largest > .8). Every shadow memorises
        // its IN half as the target its members, so the per-class attack models learn "confident
        // = member" and order the audit set perfectly.
        let (s, queries) = shadowSetup(audit: 40, population: 120, classes: 3)
        let attack = try ShokriAttack(
            options: opts(["shadow_count": .int(3), "model": .string("logistic_regression")]), host: .standalone)
        #expect(attack.requirements == [.queryAccess, .features, .population])
        let largest = (0..<40).map { i in directSoftmax(s.targetLogits[(3 * i)..<(3 * i + 3)]).max()! }
        #expect((0..<40).allSatisfy { s.targetMembership[$0] != 0 ? largest[$0] > 0.8 : largest[$0] < 0.5 })
        let (scores, mask) = try s.score(with: attack, seed: 8, query: queries)
        #expect(queries.shadowsTrained == 3)
        #expect(mask.allSatisfy { $0 == 1 })
        #expect(bruteForceAUC(scores: scores, membership: s.targetMembership) == 1)
        #expect(throws: PluginError.self) { try s.score(with: attack, seed: 8) }
    }

    @Test func mlLeaksUsesOneShadow() throws {
        let (s, queries) = shadowSetup(audit: 40, population: 120, classes: 4)
        let attack = try MLLeaksAttack(options: opts(["model": .string("logistic_regression")]), host: .standalone)
        let (scores, _) = try s.score(with: attack, seed: 8, query: queries)
        #expect(queries.shadowsTrained == 1)
        #expect(bruteForceAUC(scores: scores, membership: s.targetMembership) == 1)
        // The default attack model (MLP) also separates them.
        let mlp = try MLLeaksAttack(options: opts(["epochs": .int(20)]), host: .standalone)
        #expect(
            bruteForceAUC(
                scores: try s.score(with: mlp, seed: 8, query: queries).scores, membership: s.targetMembership) > 0.95)
    }
}
