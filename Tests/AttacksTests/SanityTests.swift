import AttacksClassifier
import AttacksReference
import AttacksThreshold
import Foundation
import PluginKit
import Testing

/// Every attack, with options that make it run on `syntheticSignals`.
let everyAttack: [(String, @Sendable () throws -> any AttackStrategy)] = [
    ("loss-threshold", { try LossThresholdAttack(options: opts(), host: .standalone) }),
    (
        "loss-threshold probability",
        { try LossThresholdAttack(options: opts(["loss": .string("probability")]), host: .standalone) }
    ),
    (
        "loss-threshold normalized",
        { try LossThresholdAttack(options: opts(["loss": .string("normalized_probability")]), host: .standalone) }
    ),
    (
        "loss-threshold per class",
        { try LossThresholdAttack(options: opts(["class_thresholds": .bool(true)]), host: .standalone) }
    ),
    ("confidence", { try ConfidenceAttack(options: opts(), host: .standalone) }),
    ("entropy", { try EntropyAttack(options: opts(), host: .standalone) }),
    ("modified-entropy", { try ModifiedEntropyAttack(options: opts(), host: .standalone) }),
    (
        "modified-entropy per class",
        { try ModifiedEntropyAttack(options: opts(["class_thresholds": .bool(true)]), host: .standalone) }
    ),
    ("correctness", { try CorrectnessAttack(options: opts(), host: .standalone) }),
    ("gap", { try GapAttack(options: opts(), host: .standalone) }),
    ("kde-loss", { try KDELossAttack(options: opts(["known_member_fraction": .double(0.3)]), host: .standalone) }),
    ("lira offline", { try LiRAAttack(options: opts(), host: .standalone) }),
    (
        "lira online per example",
        {
            try LiRAAttack(
                options: opts(["mode": .string("online"), "variance": .string("per_example")]), host: .standalone)
        }
    ),
    ("rmia offline", { try RMIAAttack(options: opts(), host: .standalone) }),
    ("rmia online", { try RMIAAttack(options: opts(["mode": .string("online")]), host: .standalone) }),
    ("reference-threshold", { try ReferenceThresholdAttack(options: opts(), host: .standalone) }),
    (
        "reference-threshold z",
        { try ReferenceThresholdAttack(options: opts(["score": .string("z_score")]), host: .standalone) }
    ),
    ("classifier logistic", { try ClassifierAttack(options: opts(), host: .standalone) }),
    (
        "classifier mlp",
        { try ClassifierAttack(options: opts(["model": .string("mlp"), "epochs": .int(10)]), host: .standalone) }
    ),
    (
        "classifier knn",
        { try ClassifierAttack(options: opts(["model": .string("knn"), "neighbors": .int(15)]), host: .standalone) }
    ),
    (
        "classifier random_forest",
        {
            try ClassifierAttack(
                options: opts(["model": .string("random_forest"), "trees": .int(20)]), host: .standalone)
        }
    ),
]

@Suite struct SanityTests {
    /// Members have a higher true-class logit (lower loss) under every model that trained on them.
    // Shared by the tests, which only read it (`score` lends its arrays read-only).
    nonisolated(unsafe) static let signals = syntheticSignals(n: 300, c: 5, r: 8, p: 200, memberBoost: 1.5, seed: 99)

    @Test(arguments: everyAttack.map(\.0))
    func everyAttackBeatsChance(name: String) throws {
        let attack = try everyAttack.first { $0.0 == name }!.1()
        let (scores, mask) = try Self.signals.score(with: attack, seed: 1)
        #expect(scores.allSatisfy { $0.isFinite })
        let auc = bruteForceAUC(scores: scores, membership: Self.signals.targetMembership, mask: mask)
        #expect(auc > 0.55, "\(name): AUC \(auc)")
    }

    /// The shadow-model attacks need features and queries: their own fake world (Support.swift).
    @Test func shadowAttacksBeatChance() throws {
        let (s, queries) = shadowSetup(audit: 60, population: 150, classes: 3)
        for attack in [
            try ShokriAttack(options: opts(["epochs": .int(10)]), host: .standalone) as any AttackStrategy,
            try MLLeaksAttack(options: opts(["epochs": .int(10)]), host: .standalone),
        ] {
            let auc = bruteForceAUC(
                scores: try s.score(with: attack, seed: 3, query: queries).scores, membership: s.targetMembership)
            #expect(auc > 0.55)
        }
    }
}

@Suite struct SchemaTests {
    // Safe to share: immutable metatypes of attacks whose conformances are not actor-isolated.
    nonisolated(unsafe) static let components: [any AttackStrategy.Type] = [
        LossThresholdAttack.self, ConfidenceAttack.self, EntropyAttack.self, ModifiedEntropyAttack.self,
        CorrectnessAttack.self,
        KDELossAttack.self, GapAttack.self, LiRAAttack.self, RMIAAttack.self, ReferenceThresholdAttack.self,
        ClassifierAttack.self, ShokriAttack.self, MLLeaksAttack.self,
    ]

    @Test func namesSummariesAndDefaults() throws {
        let names = Self.components.map { $0.name }
        #expect(Set(names).count == names.count)
        for t in Self.components {
            #expect(t.name.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "-" })
            #expect(t.summary.contains("higher score = member"), "\(t.name)")
            #expect(t.summary.contains(try Regex("(19|20)[0-9]{2}")), "\(t.name) names no paper")
            var defaults: [String: OptionValue] = [:]
            for o in t.options {
                #expect(o.name.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "_" }, "\(t.name).\(o.name)")
                #expect(!o.summary.isEmpty)
                let json = try #require(o.defaultJSON, "\(t.name).\(o.name) has no default")
                let value = try JSONDecoder().decode(OptionValue.self, from: Data(json.utf8))
                if let choices = o.choices, case .string(let s) = value { #expect(choices.contains(s)) }
                defaults[o.name] = value
            }
            // The schema's defaults are accepted, and give the attack its documented default behaviour.
            _ = try t.init(options: PluginOptions(defaults), host: .standalone)
        }
    }

    @Test func schemaDefaultsScoreLikeMissingOptions() throws {
        let s = SanityTests.signals
        for t in [LossThresholdAttack.self, LiRAAttack.self, RMIAAttack.self, ReferenceThresholdAttack.self]
            as [any AttackStrategy.Type]
        {
            var defaults: [String: OptionValue] = [:]
            for o in t.options {
                defaults[o.name] = try JSONDecoder().decode(OptionValue.self, from: Data(o.defaultJSON!.utf8))
            }
            let a = try s.score(with: t.init(options: PluginOptions(defaults), host: .standalone)).scores
            let b = try s.score(with: t.init(options: opts(), host: .standalone)).scores
            #expect(a == b, "\(t.name)")
        }
    }
}

@Suite struct MissingInputTests {
    /// Labels and target logits only: every attack that needs more refuses with an error
    /// (never a crash), and every attack that needs nothing more scores.
    @Test func attacksRefuseWhatTheyLack() throws {
        let full = SanityTests.signals
        let bare = TestSignals(classCount: full.classCount, labels: full.labels, targetLogits: full.targetLogits)
        for (name, make) in everyAttack {
            let attack = try make()
            if attack.requirements.isEmpty {
                #expect(throws: Never.self, "\(name)") { try bare.score(with: attack) }
            } else {
                #expect(throws: PluginError.self, "\(name)") { try bare.score(with: attack) }
            }
        }
        for attack in [
            try ShokriAttack(options: opts(), host: .standalone) as any AttackStrategy,
            try MLLeaksAttack(options: opts(), host: .standalone),
        ] {
            #expect(throws: PluginError.self) { try full.score(with: attack) }
        }
    }

    @Test func labelsOutsideTheClassesAreRefused() throws {
        let s = TestSignals(classCount: 2, labels: [0, 2], targetLogits: [0, 1, 1, 0])
        for (_, make) in everyAttack.prefix(10) {
            #expect(throws: PluginError.self) { try s.score(with: try make()) }
        }
    }
}
