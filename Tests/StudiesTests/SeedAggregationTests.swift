import Foundation
import Testing

@testable import AuditCore

/// A run summary with one attack `loss` whose AUC, advantage and confusion matrix at the chosen
/// threshold are given; balanced accuracy and PPV follow from the matrix as the metrics define them.
func summary(auc: Double, advantage: Double, matrix m: ConfusionMatrix, train: Double, test: Double) -> RunSummary {
    var s = RunSummary(
        toolVersion: "t", runName: "r", createdAt: "now", dataset: DatasetSummary(name: "d", records: 20, classes: 2),
        target: TargetSummary(trainAccuracy: train, testAccuracy: test), fprs: [0.1])
    let tpr = Double(m.truePositives) / Double(m.truePositives + m.falseNegatives)
    let tnr = Double(m.trueNegatives) / Double(m.trueNegatives + m.falsePositives)
    let metrics = MembershipMetrics(
        auc: auc, aucCI: ConfidenceInterval(lower: auc - 0.01, upper: auc + 0.01), tprAtFPR: ["0.1": 0.2],
        tprAtFPRCI: ["0.1": ConfidenceInterval(lower: 0.1, upper: 0.3)], attackerAdvantage: advantage,
        balancedAccuracy: (tpr + tnr) / 2, ppv: Double(m.truePositives) / Double(m.truePositives + m.falsePositives),
        threshold: 0, confusionMatrix: m, recordCount: 20, memberCount: 10)
    s.add(
        AttackEvaluation(
            attack: "loss", metrics: metrics, fprs: [0.1], bootstrapSamples: 10, confidenceLevel: 0.95, slices: []))
    return s
}

@Suite struct SeedAggregationTests {
    /// Two settings of `model.options.weight_decay` by three seeds (grid order: decay slowest);
    /// the last point (decay 0.005, seed 13) has not run.
    func seededStudy() -> StudyComparison {
        let figures:
            [(decay: String, seed: String, auc: Double, adv: Double, m: ConfusionMatrix, train: Double, test: Double)?] =
                [
                    (
                        "0", "11", 0.6, 0.1,
                        ConfusionMatrix(truePositives: 8, falsePositives: 2, trueNegatives: 8, falseNegatives: 2), 1.0,
                        0.8
                    ),
                    (
                        "0", "12", 0.7, 0.2,
                        ConfusionMatrix(truePositives: 6, falsePositives: 1, trueNegatives: 9, falseNegatives: 4), 0.9,
                        0.8
                    ),
                    (
                        "0", "13", 0.8, 0.6,
                        ConfusionMatrix(truePositives: 10, falsePositives: 3, trueNegatives: 7, falseNegatives: 0), 0.8,
                        0.5
                    ),
                    (
                        "0.005", "11", 0.5, 0.0,
                        ConfusionMatrix(truePositives: 5, falsePositives: 5, trueNegatives: 5, falseNegatives: 5), 0.9,
                        0.85
                    ),
                    (
                        "0.005", "12", 0.6, 0.1,
                        ConfusionMatrix(truePositives: 4, falsePositives: 2, trueNegatives: 8, falseNegatives: 6), 0.9,
                        0.85
                    ),
                    nil,
                ]
        let points = figures.enumerated().map { k, f -> PointComparison in
            let values = [
                SweptValue(
                    key: "model.options.weight_decay", value: f?.decay ?? "0.005", number: Double(f?.decay ?? "0.005")),
                SweptValue(key: "run.seed", value: f?.seed ?? "13", number: Double(f?.seed ?? "13")),
            ]
            guard let f else {
                return PointComparison(
                    index: k, name: "\(k)-x", folder: "points/\(k)-x", values: values, finished: false)
            }
            return PointComparison(
                index: k, name: "\(k)-x", folder: "points/\(k)-x", values: values,
                summary: summary(auc: f.auc, advantage: f.adv, matrix: f.m, train: f.train, test: f.test))
        }
        return StudyComparison(
            toolVersion: "t", studyName: "s", configFile: "s.yaml", createdAt: "now", mode: "grid",
            parameters: ["model.options.weight_decay", "run.seed"], points: points, configYAML: "")
    }

    @Test func aSpreadIsTheMeanAndTheSampleStandardDeviation() throws {
        let s = try #require(SeedSpread([0.6, 0.7, 0.8]))
        #expect(abs(s.mean - 0.7) < 1e-12)
        // sqrt((0.1^2 + 0 + 0.1^2) / 2) = 0.1
        #expect(abs(try #require(s.sd) - 0.1) < 1e-12)
        #expect(s.n == 3 && s.min == 0.6 && s.max == 0.8)
        let one = try #require(SeedSpread([0.3, .nan]))
        #expect(one.n == 1 && one.mean == 0.3 && one.sd == nil)
        #expect(SeedSpread([]) == nil)
    }

    @Test func pointsThatDifferOnlyInTheSeedAreAveraged() throws {
        let c = seededStudy()
        let settings = try #require(c.settings)
        #expect(settings.count == 2)
        let a = settings[0], b = settings[1]
        #expect(a.values == [SweptValue(key: "model.options.weight_decay", value: "0", number: 0)])
        #expect(a.points == [0, 1, 2] && a.seeds == ["11", "12", "13"])
        #expect(b.points == [3, 4] && b.seeds == ["11", "12"])

        let la = try #require(a.attack("loss"))
        #expect(abs(la.auc.mean - 0.7) < 1e-12 && abs(la.auc.sd! - 0.1) < 1e-12)
        // advantage 0.1, 0.2, 0.6: mean 0.3, sd sqrt((0.04 + 0.01 + 0.09) / 2) = sqrt(0.07)
        #expect(abs(la.attackerAdvantage.mean - 0.3) < 1e-12)
        #expect(abs(la.attackerAdvantage.sd! - 0.07.squareRoot()) < 1e-12)
        // Recall TP / (TP + FN) per seed: 0.8, 0.6, 1.0, mean 0.8, sd 0.2.
        let recall = try #require(la.recall)
        #expect(abs(recall.mean - 0.8) < 1e-12 && abs(recall.sd! - 0.2) < 1e-12)
        // Precision TP / (TP + FP): 8/10, 6/7, 10/13.
        #expect(abs(try #require(la.precision).mean - (0.8 + 6.0 / 7 + 10.0 / 13) / 3) < 1e-12)
        // Balanced accuracy (TPR + TNR) / 2: 0.8, 0.75, 0.85.
        #expect(abs(try #require(la.balancedAccuracy).mean - 0.8) < 1e-12)
        // The confusion matrix averaged cell by cell: TP (8+6+10)/3, FP (2+1+3)/3, TN (8+9+7)/3, FN (2+4+0)/3.
        let m = try #require(la.confusionMatrix)
        #expect(
            m.n == 3 && m.truePositives == 8 && m.falsePositives == 2 && m.trueNegatives == 8 && m.falseNegatives == 2)
        #expect(abs(try #require(a.testAccuracy).mean - 0.7) < 1e-12)

        let lb = try #require(b.attack("loss"))
        #expect(abs(lb.auc.mean - 0.55) < 1e-12 && abs(lb.auc.sd! - 0.005.squareRoot()) < 1e-12)
        let mb = try #require(lb.confusionMatrix)
        #expect(
            mb.n == 2 && mb.truePositives == 4.5 && mb.falsePositives == 3.5 && mb.trueNegatives == 6.5
                && mb.falseNegatives == 5.5)
    }

    @Test func aStudyWithoutASeedAxisHasNoSettings() {
        let p = PointComparison(
            index: 0, name: "0-x", folder: "points/0-x",
            values: [SweptValue(key: "model.options.epochs", value: "5", number: 5)],
            summary: summary(auc: 0.6, advantage: 0.2, tpr: [0.1: 0.3], train: 0.9, test: 0.7))
        let c = StudyComparison(
            toolVersion: "t", studyName: "s", configFile: "s.yaml", createdAt: "now", mode: "grid",
            parameters: ["model.options.epochs"], points: [p], configYAML: "")
        #expect(c.settings == nil)
        #expect(!renderComparison(c).contains("id=\"settings\""))
    }

    @Test func thePageAndTheTableShowTheMeansAndNoPlotAgainstTheSeed() throws {
        let c = seededStudy()
        let html = renderComparison(c)
        #expect(html.contains("id=\"settings\""))
        #expect(html.contains("data-metric=\"/settings/0/attacks/0/auc/mean\" data-format=\"metric\">0.7000<"))
        #expect(html.contains("data-metric=\"/settings/0/attacks/0/auc/sd\" data-format=\"metric\">0.1000<"))
        #expect(html.contains("data-metric=\"/settings/1/attacks/0/confusion_matrix/tp\" data-format=\"score\">4.500<"))
        #expect(html.contains("data-metric=\"/settings/0/attacks/0/recall/mean\" data-format=\"metric\">0.8000<"))
        // The per-point table has accuracy, precision and recall at the chosen threshold.
        #expect(html.contains("data-metric=\"/points/1/attacks/0/recall\" data-format=\"metric\">0.6000<"))
        #expect(
            html.contains(
                "data-metric=\"/points/1/attacks/0/precision\" data-format=\"metric\">\(String(format: "%.4f", 6.0 / 7))<"
            ))
        #expect(html.contains("data-metric=\"/points/1/attacks/0/balanced_accuracy\" data-format=\"metric\">0.7500<"))
        // Plotted against the decay (setting means), not against the seed.
        #expect(html.contains("id=\"auc-vs-model-options-weight-decay\""))
        #expect(!html.contains("auc-vs-run-seed"))
        let table = StudyRunner.table(c)
        #expect(table.contains("Averaged over seeds"))
        #expect(table.contains("0.7000 ±0.1000"))
        #expect(table.contains("8.0/2.0/2.0/8.0"))
        // The JSON twin round-trips, settings included.
        let back = try StudyComparison.decode(jsonData: c.jsonData())
        #expect(back == c && back.settings?.count == 2)
    }

    @Test func settingsThatShareTheirModelShareOneAccuracyLine() {
        // known fraction x loss; the loss (an attack option) leaves the target's accuracy alone.
        var points: [PointComparison] = []
        for (f, fraction) in [0.1, 0.5].enumerated() {
            for (l, loss) in ["a", "b"].enumerated() {
                let k = 2 * f + l
                points.append(
                    PointComparison(
                        index: k, name: "\(k)-x", folder: "points/\(k)-x",
                        values: [
                            SweptValue(
                                key: "audit.attacks[0].options.known_member_fraction", value: "\(fraction)",
                                number: fraction),
                            SweptValue(key: "audit.attacks[0].options.loss", value: loss, number: nil),
                        ],
                        summary: summary(
                            auc: 0.6 + 0.01 * Double(k), advantage: 0.1, tpr: [0.1: 0.2], train: 0.9, test: 0.7)))
            }
        }
        let html = renderComparison(
            StudyComparison(
                toolVersion: "t", studyName: "s", configFile: "s.yaml", createdAt: "now", mode: "grid",
                parameters: ["audit.attacks[0].options.known_member_fraction", "audit.attacks[0].options.loss"],
                points: points, configYAML: ""))
        // Two AUC lines (one per loss), one pair of accuracy lines with no loss in its name.
        #expect(html.contains(">loss (loss=a)<") && html.contains(">loss (loss=b)<"))
        #expect(html.contains(">train<") && html.contains(">test<"))
        #expect(!html.contains("train (loss="))
    }
}
