import AttacksClassifier
import Foundation
import Kernels
import PluginKit
import Testing

@Suite struct SynthesisTests {
    /// A fixed linear-softmax target on 9 features in [0, 1]: logit_k = 3 Σ_{j ≡ k mod 3} x_j.
    /// A record is confidently class k when its own three features are high and the rest low.
    static func linearTarget() -> FakeQueries {
        let weights = (0..<27).map { i -> Float in (i % 9) % 3 == i / 9 ? 3 : 0 }
        return FakeQueries(classCount: 3, featureSize: 9, boost: 3, weights: weights)
    }

    /// The target's probabilities for one record, computed here from the weights.
    static func probabilities(_ x: ArraySlice<Float>) -> [Double] {
        let x = Array(x)
        let logits = (0..<3).map { k in (0..<9).filter { $0 % 3 == k }.map { 3 * x[$0] }.reduce(0, +) }
        return directSoftmax(logits[...])
    }

    @Test func synthesisedRecordsPassTheThresholdAsTheWantedClass() throws {
        let target = Self.linearTarget()
        let synthesis = ShadowSynthesis(
            recordsPerClass: 20, kMax: 4, kMin: 1, rejectionsMax: 5, confidenceMin: 0.8, iterationsMax: 300,
            queryBudget: 100_000, batchSize: 32)
        var rng = SeededRandom(seed: 3)
        let made = try synthesis.run(target: target, featureSize: 9, classCount: 3, rng: &rng)
        #expect(made.perClass == [20, 20, 20])
        #expect(!made.budgetExhausted)
        #expect(made.labels.count == 60 && made.features.count == 60 * 9)
        #expect(made.features.allSatisfy { $0 >= 0 && $0 <= 1 })
        for i in 0..<60 {
            let p = Self.probabilities(made.features[(9 * i)..<(9 * i + 9)])
            let label = Int(made.labels[i])
            #expect(p[label] > 0.8, "record \(i): confidence \(p[label])")
            #expect(p.indices.allSatisfy { p[$0] <= p[label] })
        }
        // The fake counted exactly the queries reported, in batches (at most 32 a call).
        #expect(target.targetQueries == made.queries)
        #expect(target.targetCalls * 32 >= made.queries && target.targetCalls < made.queries)
        // A random record is rarely that confident: the walks had to climb.
        #expect(made.queries > 60)
        // Same seed, same records.
        var again = SeededRandom(seed: 3)
        #expect(
            try synthesis.run(target: Self.linearTarget(), featureSize: 9, classCount: 3, rng: &again).features
                == made.features)
    }

    @Test(arguments: [1, 50, 777, 5_000])
    func theQueryBudgetIsNeverExceeded(budget: Int) throws {
        let target = Self.linearTarget()
        let synthesis = ShadowSynthesis(
            recordsPerClass: 30, kMax: 4, kMin: 1, rejectionsMax: 5, confidenceMin: 0.9, iterationsMax: 300,
            queryBudget: budget, batchSize: 64)
        var rng = SeededRandom(seed: 4)
        let made = try synthesis.run(target: target, featureSize: 9, classCount: 3, rng: &rng)
        #expect(target.targetQueries == made.queries)
        #expect(made.queries <= budget)
        if made.budgetExhausted { #expect(made.queries == budget) } else { #expect(made.perClass == [30, 30, 30]) }
        if budget < 90 { #expect(made.budgetExhausted) }
    }

    /// Audit records in [0, 1]^9; the target memorised the members (+3 on the true logit).
    static func auditSetup() -> (TestSignals, FakeQueries) {
        let queries = linearTarget()
        var rng = SeededRandom(seed: 21)
        let n = 60
        let features = (0..<(n * 9)).map { _ in rng.nextFloat() }
        let labels = (0..<n).map { _ in Int32(rng.nextInt(below: 3)) }
        let membership = (0..<n).map { UInt8($0 % 2) }
        for i in 0..<n where membership[i] != 0 {
            queries.targetTraining[Array(features[(9 * i)..<(9 * i + 9)])] = labels[i]
        }
        let target = try! queries.predictTarget(features: features, count: n)
        let s = TestSignals(
            classCount: 3, labels: labels, targetLogits: target, targetMembership: membership, features: features,
            featureShape: [9])
        return (s, queries)
    }

    @Test func shokriOnSynthesisedDataNeedsNoPopulation() throws {
        let (s, queries) = Self.auditSetup()
        let before = queries.targetQueries
        let options: [String: OptionValue] = [
            "shadow_data": .string("synthesis"), "shadow_count": .int(2), "model": .string("logistic_regression"),
            "synthesis_records_per_class": .int(30), "synthesis_k_max": .int(4), "synthesis_k_min": .int(1),
            "synthesis_confidence_min": .double(0.6), "query_budget": .int(50_000),
        ]
        let attack = try ShokriAttack(options: opts(options), host: .standalone)
        #expect(attack.requirements == [.queryAccess, .features])
        let (scores, mask) = try s.score(with: attack, seed: 5, query: queries)
        #expect(queries.shadowsTrained == 2)
        #expect(queries.targetQueries - before <= 50_000)
        #expect(mask.allSatisfy { $0 == 1 })
        let auc = bruteForceAUC(scores: scores, membership: s.targetMembership)
        #expect(auc > 0.7, "AUC \(auc)")
        #expect(try s.score(with: attack, seed: 5, query: Self.auditSetup().1).scores == scores)
    }

    @Test func aBudgetTooSmallIsAnErrorNamingIt() throws {
        let (s, queries) = Self.auditSetup()
        let before = queries.targetQueries
        let attack = try ShokriAttack(
            options: opts([
                "shadow_data": .string("synthesis"), "query_budget": .int(40), "synthesis_records_per_class": .int(10),
                "synthesis_confidence_min": .double(0.9),
            ]),
            host: .standalone)
        do {
            _ = try s.score(with: attack, seed: 5, query: queries)
            Issue.record("a budget of 40 queries cannot make 2 records of each class")
        } catch let error as PluginError {
            #expect(error.message.contains("query_budget") && error.message.contains("40"), "\(error.message)")
        }
        #expect(queries.targetQueries - before == 40)
        for bad: [String: OptionValue] in [
            ["shadow_data": .string("invented")], ["query_budget": .int(0)],
            ["synthesis_k_min": .int(9), "synthesis_k_max": .int(3)],
            ["synthesis_confidence_min": .double(1)], ["synthesis_records_per_class": .int(1)],
        ] {
            #expect(throws: PluginError.self) { try ShokriAttack(options: opts(bad), host: .standalone) }
        }
    }
}
