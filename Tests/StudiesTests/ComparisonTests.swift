import Foundation
import Testing

@testable import AuditCore

/// A run summary with one attack whose figures are given, as `metrics.json` would hold them.
func summary(auc: Double, advantage: Double, tpr: [Double: Double], train: Double, test: Double) -> RunSummary {
    let fprs = tpr.keys.sorted()
    var s = RunSummary(
        toolVersion: "t", runName: "r", createdAt: "now", dataset: DatasetSummary(name: "d", records: 10, classes: 2),
        target: TargetSummary(trainAccuracy: train, testAccuracy: test), fprs: fprs)
    let metrics = MembershipMetrics(
        auc: auc, aucCI: ConfidenceInterval(lower: auc - 0.01, upper: auc + 0.01),
        tprAtFPR: Dictionary(uniqueKeysWithValues: tpr.map { (fprKey($0.key), $0.value) }),
        tprAtFPRCI: Dictionary(
            uniqueKeysWithValues: tpr.map { (fprKey($0.key), ConfidenceInterval(lower: 0, upper: $0.value * 2)) }),
        attackerAdvantage: advantage, balancedAccuracy: 0.5, ppv: 0.5, threshold: 0,
        confusionMatrix: ConfusionMatrix(truePositives: 1, falsePositives: 1, trueNegatives: 1, falseNegatives: 1),
        recordCount: 4, memberCount: 2)
    s.add(
        AttackEvaluation(
            attack: "loss", metrics: metrics, fprs: fprs, bootstrapSamples: 10, confidenceLevel: 0.95, slices: []))
    return s
}

@Suite struct ComparisonTests {
    @Test func aPointTakesTheTPRAtTheLowestFPR() {
        let s = summary(auc: 0.6, advantage: 0.2, tpr: [0.1: 0.3, 0.01: 0.05], train: 0.9, test: 0.7)
        let p = PointComparison(index: 0, name: "0-a", folder: "points/0-a", values: [], summary: s)
        let a = p.attacks[0]
        #expect(a.lowestFPR == 0.01)
        #expect(a.tprAtLowestFPR == 0.05)
        #expect(a.tprAtLowestFPRCI == ConfidenceInterval(lower: 0, upper: 0.1))
        #expect(a.auc == 0.6 && a.attackerAdvantage == 0.2)
        #expect(abs(p.target!.accuracyGap - 0.2) < 1e-12)
    }

    func study(_ values: [(String, Double?)]) -> StudyComparison {
        let points = values.enumerated().map { k, v in
            PointComparison(
                index: k, name: "\(k)-x", folder: "points/\(k)-x",
                values: [SweptValue(key: "model.options.epochs", value: v.0, number: v.1)],
                summary: summary(
                    auc: 0.5 + 0.05 * Double(k), advantage: 0.1 * Double(k), tpr: [0.01: 0.02],
                    train: 0.8 + 0.05 * Double(k), test: 0.75))
        }
        return StudyComparison(
            toolVersion: "t", studyName: "s", configFile: "s.yaml", createdAt: "now", mode: "grid",
            parameters: ["model.options.epochs"], points: points, configYAML: "a: <b>")
    }

    @Test func thePageShowsTheJSONNumbersAndPlotsANumericKey() throws {
        let c = study([("5", 5), ("20", 20), ("60", 60)])
        let html = renderComparison(c)
        // Every number is tagged with its JSON pointer and spelled with the metric rule.
        #expect(html.contains("data-metric=\"/points/2/attacks/0/auc\" data-format=\"metric\">0.6000<"))
        #expect(html.contains("data-metric=\"/points/1/target/train_accuracy\" data-format=\"metric\">0.8500<"))
        #expect(html.contains("data-metric=\"/points/2/attacks/0/tpr_at_lowest_fpr\" data-format=\"metric\">0.0200<"))
        #expect(html.contains("id=\"auc-vs-accuracy\"") && html.contains("id=\"advantage-vs-accuracy\""))
        #expect(
            html.contains("id=\"auc-vs-model-options-epochs\"")
                && html.contains("id=\"accuracy-vs-model-options-epochs\""))
        #expect(html.contains("a: &lt;b&gt;"))
        #expect(!html.contains("<script"))
        // The JSON twin round-trips.
        #expect(try StudyComparison.decode(jsonData: c.jsonData()) == c)
    }

    @Test func aKeyThatIsNotNumericGetsNoPlotAgainstIt() {
        let html = renderComparison(study([("mlp", nil), ("lenet5", nil)]))
        #expect(!html.contains("auc-vs-model-options-epochs"))
        #expect(html.contains("id=\"auc-vs-accuracy\""))
    }
}
