import Foundation
import PluginKit
import Testing

@testable import AuditCore

/// `audit.canaries.kind: dirac`: read only for a DP-SGD model; no record changes; the scores
/// kept in the store are checksummed.
@Suite struct DiracCanaryConfigTests {
    /// `goodConfig` (100 audit records) with DP-SGD (when `dp`) and `audit.canaries` (line 20, or 21 with DP).
    func config(_ value: String, dp: Bool) -> String {
        var text = goodConfig.replacingOccurrences(
            of: "  fprs: [0.01, 0.1]\n", with: "  fprs: [0.01, 0.1]\n  canaries: \(value)\n")
        if dp { text = text.replacingOccurrences(of: "    epochs: 2\n", with: "    epochs: 2\n    dp_sgd: true\n") }
        return text
    }

    @Test func diracCanariesAreReadForADPSGDModelAndMayOutnumberTheAuditRecords() throws {
        let c = try #require(
            try AuditConfig.parse(config("{count: 1000, kind: dirac}", dp: true), file: "t.yaml").canaries)
        #expect(c.kind == .dirac && c.count == 1000)
    }

    @Test(arguments: [false, true])
    func diracCanariesWithoutDPSGDAreRefusedWithTheLine(dpFalse: Bool) throws {
        var text = config("{count: 10, kind: dirac}", dp: false)
        if dpFalse {
            text = text.replacingOccurrences(of: "    epochs: 2\n", with: "    epochs: 2\n    dp_sgd: false\n")
        }
        let error = try #require(parseError(text))
        #expect(error.description.contains("`model.options.dp_sgd: true`"), "\(error)")
        #expect(error.line == (dpFalse ? 21 : 20), "\(error)")
    }

    @Test func diracCanariesChangeNoRecordAndNoMembership() throws {
        let c = CanaryConfig(count: 300, kind: .dirac, seed: 5, guesses: [10], confidence: 0.95)
        let set = CanarySet(c, auditRecords: 100)
        #expect(set.indices.isEmpty && set.included.count == 300)
        let inside = set.included.filter { $0 }.count
        #expect(inside > 110 && inside < 190)  // Binomial(300, 1/2): 150 ± 8.7 (sd)
        // The same coins as record canaries of the same seed draw.
        #expect(
            set.included
                == CanarySet(
                    CanaryConfig(count: 300, kind: .natural, seed: 5, guesses: [10], confidence: 0.95),
                    auditRecords: 400
                ).included)
        var m = Memberships(recordCount: 100, referenceCount: 2, seed: 1)
        let before = m
        set.place(in: &m)
        #expect(m.target == before.target && m.references == before.references)
        let info = DatasetInfo(recordCount: 110, classCount: 3, featureShape: [4])
        let features = (0..<440).map { Float($0 % 7) }
        var p = Population(
            info: info, features: features, labels: (0..<110).map { Int32($0 % 3) }, auditCount: 100,
            populationCount: 10)
        set.insert(into: &p)
        #expect(p.features == features && p.labels == (0..<110).map { Int32($0 % 3) })
        #expect(
            c.provenanceLine(auditRecords: 100)
                != CanaryConfig(count: 300, kind: .natural, seed: 5, guesses: [10], confidence: 0.95).provenanceLine(
                    auditRecords: 100))
    }

    @Test func theStoredScoresAreReadOnlyWhenIntact() throws {
        let root = NSTemporaryDirectory() + "mia-dirac-store-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = ModelStore(root: root)
        try FileManager.default.createDirectory(atPath: store.folder("k"), withIntermediateDirectories: true)
        let file = GradientCanaryFile(included: [true, false], coordinates: [7, 3], scores: [1.5, -0.25], seed: 9)
        let path = GradientCanaryFile.path(store, key: "k")
        try file.write(to: path)
        #expect(GradientCanaryFile.read(store, key: "k", count: 2) == file)
        #expect(GradientCanaryFile.read(store, key: "k", count: 3) == nil)
        var text = try String(contentsOfFile: path, encoding: .utf8)
        text = text.replacingOccurrences(of: "1.5", with: "9.5")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(GradientCanaryFile.read(store, key: "k", count: 2) == nil, "a changed file does not match its checksum")
    }
}
