import Foundation
import Testing

@testable import AuditCore

@Suite struct OutputDefenceTests {
    let logits: [Float] = [log(0.5), log(0.3), log(0.2), log(0.1), log(0.2), log(0.7)]

    func probabilities(_ logProbabilities: [Float], row: Int) -> [Double] {
        let z = (0..<3).map { Double(logProbabilities[row * 3 + $0]) }
        let top = z.max()!
        let e = z.map { exp($0 - top) }
        return e.map { $0 / e.reduce(0, +) }
    }

    func close(_ a: [Double], _ b: [Double], _ tolerance: Double = 1e-6) -> Bool {
        zip(a, b).allSatisfy { abs($0 - $1) < tolerance }
    }

    @Test func topKKeepsTheLargestAndRenormalises() {
        let out = OutputDefence.topK(2).apply(logits, classCount: 3)
        #expect(close(probabilities(out, row: 0), [0.625, 0.375, 0]))
        #expect(close(probabilities(out, row: 1), [0, 0.2 / 0.9, 0.7 / 0.9]))
        let one = OutputDefence.topK(1).apply(logits, classCount: 3)
        #expect(close(probabilities(one, row: 0), [1, 0, 0]))
        #expect(one[1] == Float(log(OutputDefence.floor)))
    }

    @Test func roundingToDecimals() {
        let raw: [Float] = [log(0.47), log(0.33), log(0.2)]
        let out = OutputDefence.rounding(1).apply(raw, classCount: 3)
        #expect(close(probabilities(out, row: 0), [0.5, 0.3, 0.2]))
        // Every probability below 0.5 rounds to 0 at 0 decimals: the output says nothing.
        let zero = OutputDefence.rounding(0).apply(raw, classCount: 3)
        #expect(close(probabilities(zero, row: 0), [1.0 / 3, 1.0 / 3, 1.0 / 3], 1e-9))
    }

    @Test func temperatureFlattens() {
        // softmax(log p / 2) ∝ sqrt(p).
        let out = OutputDefence.temperature(2).apply(logits, classCount: 3)
        let s = [0.5, 0.3, 0.2].map { $0.squareRoot() }
        #expect(close(probabilities(out, row: 0), s.map { $0 / s.reduce(0, +) }))
    }

    @Test func labelOnlyIsOneHot() {
        let out = OutputDefence.labelOnly.apply(logits, classCount: 3)
        #expect(close(probabilities(out, row: 0), [1, 0, 0], 1e-9))
        #expect(close(probabilities(out, row: 1), [0, 0, 1], 1e-9))
    }

    @Test func configSpellings() throws {
        let text = goodConfig.replacingOccurrences(
            of: "  fprs: [0.01, 0.1]",
            with: "  fprs: [0.01, 0.1]\n  output_defences: [label_only, {top_k: 3}, {rounding: 2}, {temperature: 4}]")
        let c = try AuditConfig.parse(text, file: "t.yaml")
        #expect(c.defences == [.labelOnly, .topK(3), .rounding(2), .temperature(4)])
        let bad = goodConfig.replacingOccurrences(
            of: "  fprs: [0.01, 0.1]", with: "  fprs: [0.01, 0.1]\n  output_defences: [{top_kk: 3}]")
        #expect(throws: ConfigError.self) { try AuditConfig.parse(bad, file: "t.yaml") }
    }
}
