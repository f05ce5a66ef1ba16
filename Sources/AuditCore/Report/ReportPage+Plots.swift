import Foundation

extension ReportPage {
    // MARK: ROC

    mutating func rocSection() {
        var curves: [(name: String, curve: ROCCurve)] = []
        for e in summary.orderedAttacks {
            if let r = evaluated(e.attack) {
                curves.append((e.attack, rocCurve(scores: r.scores, isMember: r.isMember)))
            }
        }
        guard !curves.isEmpty else { return }
        html += "<section id=\"roc\"><h2>ROC curves</h2><div class=\"plots\">"
        var linear = SVGPlot(
            id: "roc-linear", title: "ROC, linear",
            x: PlotAxis(label: "False-positive rate", lower: 0, upper: 1),
            y: PlotAxis(label: "True-positive rate", lower: 0, upper: 1))
        let smallest = curves.map { 1 / Double(max($0.curve.nonMemberCount, 1)) }.min() ?? 1e-3
        let floorDecade = min(pow(10, log10(smallest).rounded(.down)), 1e-2)
        var logLog = SVGPlot(
            id: "roc-log", title: "ROC, log-log (the low-FPR regime)",
            x: PlotAxis(label: "False-positive rate", scale: .log, lower: floorDecade, upper: 1),
            y: PlotAxis(label: "True-positive rate", scale: .log, lower: floorDecade, upper: 1))
        linear.diagonal = true
        logLog.diagonal = true
        for (k, c) in curves.enumerated() {
            let (color, dash) = style(k)
            let auc = summary.attacks[c.name]?.auc ?? c.curve.auc
            let points = zip(c.curve.falsePositiveRates, c.curve.truePositiveRates).map { (x: $0, y: $1) }
            let line = PlotLine(
                name: "\(c.name) (AUC \(ReportFormat.metric.string(auc)))", points: points,
                color: color, dash: dash)
            linear.lines.append(line)
            logLog.lines.append(line)
        }
        html +=
            "<figure>\(linear.render())<figcaption>Dashed grey: chance (an attacker who guesses).</figcaption></figure>"
        html +=
            "<figure>\(logLog.render())<figcaption>Both axes logarithmic; FPR and TPR of 0 are drawn "
            + "at the lower edge (\(escapeHTML(PlotAxis(label: "", scale: .log, lower: floorDecade, upper: 1).majorTicks().first?.label ?? ""))).</figcaption></figure>"
        html += "</div></section>"
    }

    // MARK: Training history

    mutating func trainingSection() {
        let history = summary.target.history
        html += "<section id=\"training\"><h2>Target training</h2>"
        guard !history.isEmpty else {
            html +=
                "<p class=\"note\">No training history: the target was loaded, not trained, in this run.</p></section>"
            return
        }
        let epochs = history.map { Double($0.epoch) }
        let xAxis = PlotAxis(label: "Epoch", lower: max(0, (epochs.min() ?? 1) - 0.5), upper: (epochs.max() ?? 1) + 0.5)
        var accuracy = SVGPlot(
            id: "history-accuracy", title: "Accuracy per epoch", x: xAxis,
            y: PlotAxis(label: "Accuracy", lower: 0, upper: 1))
        accuracy.legend = .bottomRight
        accuracy.lines.append(
            PlotLine(
                name: "train", points: history.map { (Double($0.epoch), $0.trainAccuracy) },
                color: colorBlindPalette[0], markers: true))
        let heldAcc = history.compactMap { h in h.heldoutAccuracy.map { (x: Double(h.epoch), y: $0) } }
        if !heldAcc.isEmpty {
            accuracy.lines.append(
                PlotLine(name: "held-out", points: heldAcc, color: colorBlindPalette[1], dash: "7 3", markers: true))
        }
        let losses = history.map(\.trainLoss) + history.compactMap(\.heldoutLoss)
        let lossTop = (losses.filter(\.isFinite).max() ?? 1) * 1.08
        var loss = SVGPlot(
            id: "history-loss", title: "Loss per epoch", x: xAxis,
            y: PlotAxis(label: "Cross-entropy loss", lower: 0, upper: lossTop > 0 ? lossTop : 1))
        loss.legend = .topRight
        loss.lines.append(
            PlotLine(
                name: "train", points: history.map { (Double($0.epoch), $0.trainLoss) },
                color: colorBlindPalette[0], markers: true))
        let heldLoss = history.compactMap { h in h.heldoutLoss.map { (x: Double(h.epoch), y: $0) } }
        if !heldLoss.isEmpty {
            loss.lines.append(
                PlotLine(name: "held-out", points: heldLoss, color: colorBlindPalette[1], dash: "7 3", markers: true))
        }
        html += "<div class=\"plots\"><figure>\(accuracy.render())</figure><figure>\(loss.render())</figure></div>"
        let rows = history.enumerated().map { k, h -> [String] in
            let p = ["target", "history", "\(k)"]
            return [
                metricSpan(Double(h.epoch), .count, path: p + ["epoch"]),
                metricSpan(h.trainLoss, .metric, path: p + ["train_loss"]),
                metricSpan(h.trainAccuracy, .metric, path: p + ["train_accuracy"]),
                h.heldoutLoss.map { metricSpan($0, .metric, path: p + ["heldout_loss"]) } ?? "—",
                h.heldoutAccuracy.map { metricSpan($0, .metric, path: p + ["heldout_accuracy"]) } ?? "—",
                metricSpan(h.seconds, .seconds, path: p + ["seconds"]),
            ]
        }
        html +=
            "<details open=\"open\"><summary>Epochs table</summary>"
            + htmlTable(
                header: ["Epoch", "Train loss", "Train accuracy", "Held-out loss", "Held-out accuracy", "Seconds"],
                rows: rows, numericFrom: 0, className: "compact")
            + "</details></section>"
    }
}
