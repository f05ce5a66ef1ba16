import Foundation

extension ReportPage {
    // MARK: Leakage over training

    /// AUC and attacker advantage of every attack against the checkpoint epoch, beside the
    /// target's train and test accuracy at the same epochs; then the table of those figures.
    /// Drawn from `metrics.json`'s `checkpoints` alone, so `mia-audit report` rebuilds it.
    mutating func checkpointSection() {
        guard let checkpoints = summary.checkpoints else { return }
        html += "<section id=\"checkpoints\"><h2>Leakage over training</h2>"
        html +=
            "<p>Every model of the audit (target and reference models) was read at the end of each checkpoint epoch "
            + "of the same training, and the attacks ran on those signals as on the final models.</p>"
        for note in checkpoints.notes { html += "<p class=\"note\">\(escapeHTML(note))</p>" }
        let epochs = checkpoints.epochs
        guard !epochs.isEmpty else {
            html += "<p class=\"note\">No checkpoint epoch could be audited.</p></section>"
            return
        }
        let xs = epochs.map { Double($0.epoch) }
        let pad = max(0.5, ((xs.max() ?? 1) - (xs.min() ?? 0)) * 0.04)
        let xAxis = PlotAxis(label: "Epoch", lower: max(0, (xs.min() ?? 1) - pad), upper: (xs.max() ?? 1) + pad)
        let attacks = checkpoints.attackOrder
        func series(_ value: (CheckpointAttack) -> Double) -> [PlotLine] {
            attacks.enumerated().map { k, name in
                let (color, dash) = style(k)
                let points = epochs.compactMap { e in e.attacks[name].map { (x: Double(e.epoch), y: value($0)) } }
                return PlotLine(name: name, points: points, color: color, dash: dash, markers: true)
            }
        }
        func axis(_ label: String, _ values: [Double], floor: Double) -> PlotAxis {
            let finite = values.filter(\.isFinite)
            let top = min(1, max((finite.max() ?? floor) + 0.02, floor + 0.05))
            let bottom = max(0, min((finite.min() ?? floor) - 0.02, floor))
            return PlotAxis(label: label, lower: bottom, upper: top)
        }
        let all = epochs.flatMap { $0.attacks.values }
        var auc = SVGPlot(
            id: "checkpoints-auc", title: "AUC per epoch", x: xAxis, y: axis("AUC", all.map(\.auc), floor: 0.5))
        auc.lines = series(\.auc)
        auc.legend = .topLeft
        var advantage = SVGPlot(
            id: "checkpoints-advantage", title: "Attacker advantage per epoch", x: xAxis,
            y: axis("Attacker advantage (max TPR − FPR)", all.map(\.attackerAdvantage), floor: 0))
        advantage.lines = series(\.attackerAdvantage)
        advantage.legend = .topLeft
        let accuracies = epochs.flatMap { [$0.trainAccuracy, $0.testAccuracy] }
        var accuracy = SVGPlot(
            id: "checkpoints-accuracy", title: "Target accuracy per epoch", x: xAxis,
            y: axis("Accuracy", accuracies, floor: accuracies.min() ?? 0))
        accuracy.lines = [
            PlotLine(
                name: "train (members)", points: epochs.map { (Double($0.epoch), $0.trainAccuracy) },
                color: colorBlindPalette[0], markers: true),
            PlotLine(
                name: "test (non-members)", points: epochs.map { (Double($0.epoch), $0.testAccuracy) },
                color: colorBlindPalette[1],
                dash: "7 3", markers: true),
        ]
        accuracy.legend = .bottomRight
        html +=
            "<div class=\"plots\"><figure>\(auc.render())<figcaption>0.5 is chance.</figcaption></figure>"
            + "<figure>\(advantage.render())</figure>"
            + "<figure>\(accuracy.render())<figcaption>The target's checkpoint on its members and on the audit non-members; "
            + "the gap between the two is what the attacks feed on.</figcaption></figure></div>"

        let lowest = fprKey(checkpoints.lowestFPR)
        var rows: [[String]] = []
        for (k, e) in epochs.enumerated() {
            let p = ["checkpoints", "epochs", "\(k)"]
            let first = [
                metricSpan(Double(e.epoch), .count, path: p + ["epoch"]),
                metricSpan(e.trainAccuracy, .metric, path: p + ["train_accuracy"]),
                metricSpan(e.testAccuracy, .metric, path: p + ["test_accuracy"]),
            ]
            for (j, name) in e.attackOrder.enumerated() {
                guard let a = e.attacks[name] else { continue }
                let q = p + ["attacks", name]
                rows.append(
                    (j == 0 ? first : ["", "", ""]) + [
                        escapeHTML(name),
                        metricWithInterval(a.auc, a.aucCI, path: q + ["auc"], ciPath: q + ["auc_ci"]),
                        metricSpan(a.attackerAdvantage, .metric, path: q + ["attacker_advantage"]),
                        metricSpan(a.tprAtLowestFPR, .metric, path: q + ["tpr_at_lowest_fpr"]),
                    ])
            }
        }
        if let claimed = summary.privacy?.claimedEpsilonAccountants, let table = claimedEpsilonPerEpochTable(claimed) {
            html += table
        }
        html +=
            "<details open=\"open\"><summary>Checkpoints table</summary>"
            + htmlTable(
                header: [
                    "Epoch", "Train accuracy", "Test accuracy", "Attack", "AUC [95 % CI]", "Advantage",
                    "TPR at FPR \(lowest)",
                ],
                rows: rows, numericFrom: 0, className: "compact")
            + "</details></section>"
    }
}
