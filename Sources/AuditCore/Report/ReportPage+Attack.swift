import Foundation

extension ReportPage {
    /// One attack: score distributions, decisions at the threshold, slices, records most at risk.
    mutating func attackSection(_ e: AttackEvaluation, index: Int) {
        let name = e.attack, p = ["attacks", e.attack]
        let m = e.metrics
        html += "<section class=\"attack\" id=\"attack-\(index)\"><h2>Attack: \(escapeHTML(name))</h2>"
        html +=
            "<p>\(metricSpan(Double(m.recordCount), .count, path: p + ["record_count"])) records evaluated, "
            + "\(metricSpan(Double(m.memberCount), .count, path: p + ["member_count"])) of them members; "
            + "AUC \(metricWithInterval(m.auc, m.aucCI, path: p + ["auc"], ciPath: p + ["auc_ci"])).</p>"
        html += reportedValuesParagraph(e)
        html += "<div class=\"twocol\"><div class=\"wide\">"
        if let r = evaluated(name) {
            html += scorePlot(r.scores, r.isMember, attack: name, index: index)
        } else {
            html += "<p class=\"note\">Scores not available: no distribution plot.</p>"
        }
        html += "</div><div>"
        html += "<h3>At the chosen threshold</h3>"
        html += htmlTable(
            header: ["Quantity", "Value"],
            rows: [
                ["Threshold (score ≥ it means member)", metricSpan(m.threshold, .score, path: p + ["threshold"])],
                [
                    "Attacker advantage (max TPR − FPR)",
                    metricSpan(m.attackerAdvantage, .metric, path: p + ["attacker_advantage"]),
                ],
                ["Balanced accuracy", metricSpan(m.balancedAccuracy, .metric, path: p + ["balanced_accuracy"])],
                ["Positive predictive value", metricSpan(m.ppv, .metric, path: p + ["ppv"])],
            ])
        let c = p + ["confusion_matrix"]
        html +=
            "<table class=\"confusion\"><thead><tr><th></th><th>called member</th><th>called non-member</th></tr></thead><tbody>"
        html +=
            "<tr><th>member</th><td>TP \(metricSpan(Double(m.confusionMatrix.truePositives), .count, path: c + ["tp"]))</td>"
            + "<td>FN \(metricSpan(Double(m.confusionMatrix.falseNegatives), .count, path: c + ["fn"]))</td></tr>"
        html +=
            "<tr><th>non-member</th><td>FP \(metricSpan(Double(m.confusionMatrix.falsePositives), .count, path: c + ["fp"]))</td>"
            + "<td>TN \(metricSpan(Double(m.confusionMatrix.trueNegatives), .count, path: c + ["tn"]))</td></tr>"
        html += "</tbody></table></div></div>"
        html += operatingPointsTable(e)
        if !e.slices.isEmpty { html += sliceTable(e) }
        html += riskTable(name)
        html += "</section>"
    }

    func scorePlot(_ scores: [Double], _ isMember: [Bool], attack: String, index: Int) -> String {
        let range = scorePlotRange(scores)
        let members = scoreDensity(zip(scores, isMember).filter { $0.1 }.map(\.0), range: range)
        let nonMembers = scoreDensity(zip(scores, isMember).filter { !$0.1 }.map(\.0), range: range)
        let top =
            ([members.histogram, nonMembers.histogram, members.kde, nonMembers.kde].flatMap { $0 }.max() ?? 1) * 1.1
        var plot = SVGPlot(
            id: "scores-\(index)", title: "Score distribution: \(attack)",
            x: PlotAxis(label: "Score (higher means member)", lower: range.lower, upper: range.upper),
            y: PlotAxis(label: "Density", lower: 0, upper: top > 0 ? top : 1))
        // The legend goes in the upper corner where the bars are lower.
        let bins = members.histogram.count, third = max(bins / 3, 1)
        let peak = { (r: Range<Int>) in r.map { max(members.histogram[$0], nonMembers.histogram[$0]) }.max() ?? 0 }
        plot.legend = peak(0..<third) <= peak((bins - third)..<bins) ? .topLeft : .topRight
        plot.histograms = [
            PlotHistogram(
                name: "non-members", edges: nonMembers.edges, heights: nonMembers.histogram, color: nonMemberColor),
            PlotHistogram(name: "members", edges: members.edges, heights: members.histogram, color: memberColor),
        ]
        if !nonMembers.kde.isEmpty {
            plot.lines.append(
                PlotLine(
                    name: "non-members (KDE)", points: zip(nonMembers.grid, nonMembers.kde).map { (x: $0, y: $1) },
                    color: nonMemberColor, width: 2))
        }
        if !members.kde.isEmpty {
            plot.lines.append(
                PlotLine(
                    name: "members (KDE)", points: zip(members.grid, members.kde).map { (x: $0, y: $1) },
                    color: memberColor, dash: "7 3", width: 2))
        }
        var caption =
            "Histogram (40 bins) and Gaussian kernel density (Silverman bandwidth) of the evaluated records' scores."
        let outside = members.outside + nonMembers.outside
        if outside > 0 { caption += " \(outside) extreme scores lie outside the range shown (0.5 %–99.5 % quantiles)." }
        if members.kde.isEmpty || nonMembers.kde.isEmpty { caption += " Too few distinct scores for a density curve." }
        return "<figure>\(plot.render())<figcaption>\(escapeHTML(caption))</figcaption></figure>"
    }

    func sliceTable(_ e: AttackEvaluation) -> String {
        let header =
            ["Slice", "Records", "Members", "AUC [95 % CI]"] + e.fprs.map { "TPR at FPR \(fprKey($0))" }
            + ["Advantage", "Balanced accuracy", "PPV"]
        let rows = e.slices.enumerated().map { k, s -> [String] in
            let p = ["attacks", e.attack, "slices", "\(k)"]
            let m = s.metrics
            let counts = [
                escapeHTML(s.name), metricSpan(Double(m.recordCount), .count, path: p + ["record_count"]),
                metricSpan(Double(m.memberCount), .count, path: p + ["member_count"]),
            ]
            guard m.isDefined else {
                return counts + Array(repeating: "—", count: header.count - counts.count)
            }
            return counts
                + [metricWithInterval(m.auc, m.aucCI, path: p + ["auc"], ciPath: p + ["auc_ci"])]
                + e.fprs.map { fpr in
                    let key = fprKey(fpr)
                    guard let v = m.tprAtFPR[key] else { return "—" }
                    return metricWithInterval(
                        v, m.tprAtFPRCI[key], path: p + ["tpr_at_fpr", key], ciPath: p + ["tpr_at_fpr_ci", key])
                }
                + [
                    metricSpan(m.attackerAdvantage, .metric, path: p + ["attacker_advantage"]),
                    metricSpan(m.balancedAccuracy, .metric, path: p + ["balanced_accuracy"]),
                    metricSpan(m.ppv, .metric, path: p + ["ppv"]),
                ]
        }
        return "<h3>Slices</h3>" + htmlTable(header: header, rows: rows)
            + "<p class=\"note\">Each slice's AUC, TPR and advantage come from its own ROC curve; balanced accuracy "
            + "and PPV use the attack's one threshold. “—”: the slice lacks members or non-members.</p>"
    }

    func riskTable(_ attack: String) -> String {
        guard let risk = summary.mostAtRisk[attack], !risk.isEmpty else { return "" }
        let rows = risk.enumerated().map { k, r -> [String] in
            let p = ["most_at_risk", attack, "\(k)"]
            return [
                "\(k + 1)", metricSpan(Double(r.index), .count, path: p + ["index"]),
                metricSpan(Double(r.label), .count, path: p + ["label"]),
                metricSpan(r.score, .score, path: p + ["score"]),
            ]
        }
        return "<h3>Records most at risk</h3><p class=\"note\">The members this attack scores highest.</p>"
            + htmlTable(header: ["Rank", "Record", "Label", "Score"], rows: rows, className: "compact")
    }
}
