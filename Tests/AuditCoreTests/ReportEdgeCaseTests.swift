import Foundation
import Testing

@testable import AuditCore

@Suite("HTML report edge cases")
struct ReportEdgeCaseTests {
    func bareSummary() -> RunSummary {
        RunSummary(
            toolVersion: "0.1.0", runName: "empty", createdAt: "2026-11-24T00:00:00Z",
            dataset: DatasetSummary(name: "none", records: 0, classes: 0),
            target: TargetSummary(trainAccuracy: 0, testAccuracy: 0), fprs: [0.01])
    }

    @Test("A run with nothing in it still renders a well-formed page")
    func emptyRun() {
        let page = renderReport(summary: bareSummary(), scores: [:], isMember: [], evaluationMasks: [:])
        #expect(tagBalanceProblem(page) == nil)
        #expect(page.contains("No attack was evaluated."))
        #expect(page.contains("No training history"))
        #expect(!page.contains("<svg"))
    }

    @Test("Slices without non-members show dashes; an attack without scores gets tables only")
    func degenerateSliceAndMissingScores() throws {
        // Class 1 holds members only.
        let scores: [Double] = [0.9, 0.1, 0.8, 0.3, 0.7, 0.6]
        let members = [true, false, true, false, true, true]
        let labels: [Int32] = [0, 0, 0, 0, 1, 1]
        let e = evaluate(
            attack: "a/b", scores: scores, evaluationMask: [1, 1, 1, 1, 1, 1], isMember: members,
            labels: labels, targetCorrect: [Bool](repeating: true, count: 6), fprs: [0.01],
            slices: SliceOptions(byClass: true), bootstrapSamples: 10, seed: 1)
        #expect(e.slices.map(\.metrics.isDefined) == [true, false])
        var summary = bareSummary()
        summary.add(e)
        let page = renderReport(summary: summary, scores: [:], isMember: members, evaluationMasks: [:])
        #expect(tagBalanceProblem(page) == nil)
        #expect(page.contains("Scores not available"))
        #expect(!page.contains("id=\"roc-linear\""))
        // The attack name's "/" is escaped in JSON pointers, and the pointer resolves.
        #expect(page.contains("data-metric=\"/attacks/a~1b/auc\""))
        let json = try JSONSerialization.jsonObject(with: try summary.jsonData())
        #expect((value(at: "/attacks/a~1b/auc", in: json) as? NSNumber)?.doubleValue == e.auc)
        let classOne = try #require(page.range(of: "<td>class 1</td>"))
        let row = page[classOne.upperBound...].prefix { $0 != "\n" }.components(separatedBy: "</tr>")[0]
        #expect(row.contains("—"))
    }
}
