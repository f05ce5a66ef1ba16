import Foundation
import PluginKit
import Testing

@testable import AuditCore

/// `audit.canaries`: read and refused with the line; the canaries made from the config alone.
@Suite struct CanaryTests {
    /// `goodConfig` (100 audit records) with `audit.canaries` set to `value` (it lands on line 20).
    func config(_ value: String) -> String {
        goodConfig.replacingOccurrences(
            of: "  fprs: [0.01, 0.1]\n", with: "  fprs: [0.01, 0.1]\n  canaries: \(value)\n")
    }

    @Test func canariesAreRead() throws {
        let c = try #require(try AuditConfig.parse(config("{count: 40, kind: ood_noise}"), file: "t.yaml").canaries)
        #expect(c.count == 40 && c.kind == .oodNoise && c.seed == 3 && c.confidence == 0.95)
        #expect(c.guesses == [1, 2, 4, 10, 20])
        let d = try #require(
            try AuditConfig.parse(
                config("{count: 40, kind: natural, seed: 9, guesses: [5], confidence: 0.9}"),
                file: "t.yaml"
            ).canaries)
        #expect(d.seed == 9 && d.guesses == [5] && d.confidence == 0.9)
        #expect(try AuditConfig.parse(goodConfig, file: "t.yaml").canaries == nil)
    }

    @Test(arguments: [
        ("{count: 200, kind: natural}", "200 canaries but only 100 audit records"),
        ("{count: 10, kind: mislabeled}", "unknown canary kind `mislabeled`"),
        ("{count: 10}", "missing required key `kind`"),
        ("{count: 10, kind: natural, guesses: [6]}", "must be in [1, 5]"),
        ("{count: 10, kind: natural, guesses: [2, 2]}", "listed twice"),
        ("{count: 10, kind: natural, confidence: 1}", "between 0 and 1"),
        ("{count: 10, kind: natural, colour: red}", "colour"),
    ])
    func badCanariesNameTheLine(value: String, message: String) throws {
        let error = try #require(parseError(config(value)))
        #expect(error.description.contains(message), "\(error)")
        #expect(error.line == 20, "\(error)")
    }

    @Test func theCanariesFollowFromTheConfigAndFlipFairCoins() throws {
        let c = CanaryConfig(count: 400, kind: .mislabelled, seed: 5, guesses: [10], confidence: 0.95)
        let a = CanarySet(c, auditRecords: 1000), b = CanarySet(c, auditRecords: 1000)
        #expect(a == b)
        #expect(Set(a.indices).count == 400 && a.indices == a.indices.sorted() && a.indices.allSatisfy { $0 < 1000 })
        let inside = a.included.filter { $0 }.count
        #expect(inside > 150 && inside < 250)  // Binomial(400, 1/2): 200 ± 10 (sd)
        // The target's membership on the canaries is the coin flips; elsewhere the seeded split.
        var m = Memberships(recordCount: 1000, referenceCount: 2, seed: 1)
        let before = m
        a.place(in: &m)
        for (k, i) in a.indices.enumerated() { #expect(m.target[i] == a.included[k]) }
        let others = Set(0..<1000).subtracting(a.indices)
        #expect(others.allSatisfy { m.target[$0] == before.target[$0] } && m.references == before.references)
    }

    @Test(arguments: CanaryConfig.Kind.allCases)
    func eachKindChangesOnlyTheCanaries(kind: CanaryConfig.Kind) throws {
        let n = 50, size = 4
        let info = DatasetInfo(recordCount: n + 10, classCount: 3, featureShape: [size])
        let features = (0..<((n + 10) * size)).map { Float($0 % 7) / 7 }
        let labels = (0..<(n + 10)).map { Int32($0 % 3) }
        var p = Population(info: info, features: features, labels: labels, auditCount: n, populationCount: 10)
        let set = CanarySet(
            CanaryConfig(count: 20, kind: kind, seed: 2, guesses: [5], confidence: 0.95), auditRecords: n)
        set.insert(into: &p)
        let canary = Set(set.indices)
        for i in 0..<(n + 10) where !canary.contains(i) {
            #expect(
                p.labels[i] == labels[i]
                    && Array(p.features[(i * size)..<((i + 1) * size)])
                        == Array(features[(i * size)..<((i + 1) * size)])
            )
        }
        for i in set.indices {
            let row = Array(p.features[(i * size)..<((i + 1) * size)])
            switch kind {
            case .natural: #expect(p.labels[i] == labels[i] && row == Array(features[(i * size)..<((i + 1) * size)]))
            case .mislabelled:
                #expect(p.labels[i] != labels[i] && row == Array(features[(i * size)..<((i + 1) * size)]))
            case .oodBlank: #expect(row.allSatisfy { $0 == 0 })
            case .oodNoise: #expect(row.allSatisfy { $0 >= 0 && $0 <= 6.0 / 7 })
            case .dirac: Issue.record("Dirac canaries are no records")
            }
        }
    }

    @Test func aModelKeyDependsOnTheCanaries() throws {
        let c = CanaryConfig(count: 10, kind: .mislabelled, seed: 0, guesses: [2], confidence: 0.95)
        let d = CanaryConfig(count: 10, kind: .natural, seed: 0, guesses: [2], confidence: 0.95)
        #expect(c.provenanceLine(auditRecords: 100) != d.provenanceLine(auditRecords: 100))
        #expect(c.provenanceLine(auditRecords: 100) != c.provenanceLine(auditRecords: 200))
    }
}
