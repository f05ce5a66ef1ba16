import Foundation

extension ReportStage {
    /// The operating points of a real attacker, under the run's table: the PPV of each FPR row
    /// at each prior (oracle threshold), and the TPR / FPR on the target of the threshold chosen
    /// on reference models. Empty when the run computed neither.
    static func operatingPointsText(_ s: RunSummary) -> String {
        let attacks = s.orderedAttacks
        var out = ""
        let priors = attacks.compactMap(\.priorsUsed).first ?? []
        if !priors.isEmpty {
            var rows = [
                ["attack"] + priors.flatMap { pi in s.fprs.map { "PPV π=\(formatPercent(pi))@\(formatPercent($0))" } }
            ]
            for e in attacks {
                rows.append(
                    [e.attack]
                        + priors.flatMap { pi in
                            s.fprs.map { f in
                                e.ppvAtPrior?[fprKey(pi)]?[fprKey(f)].map { String(format: "%.3f", $0) } ?? "-"
                            }
                        })
            }
            out += "PPV at membership prior π, at each FPR row (oracle threshold):\n" + textTable(rows)
        }
        let chosen = attacks.filter { $0.referenceThreshold != nil }
        if !chosen.isEmpty {
            var rows = [["attack"] + s.fprs.map { "TPR/FPR@\(formatPercent($0))" }]
            for e in chosen {
                rows.append(
                    [e.attack]
                        + s.fprs.map { f in
                            e.referenceThreshold?[fprKey(f)].map {
                                "\(formatPercent($0.targetTPR))/\(formatPercent($0.targetFPR))"
                            } ?? "-"
                        })
            }
            out +=
                "threshold chosen on reference models (pseudo-targets), its TPR/FPR on the target:\n" + textTable(rows)
        }
        for e in attacks {
            guard let values = e.reportedValues, !values.isEmpty else { continue }
            out +=
                "\(e.attack) chose: "
                + values.keys.sorted().map { "\($0) = \(String(format: "%.4g", values[$0]!))" }.joined(separator: ", ")
                + "\n"
        }
        return out
    }

    /// Rows as aligned columns, a rule under the header.
    static func textTable(_ rows: [[String]]) -> String {
        let widths = (0..<rows[0].count).map { col in rows.map { $0[col].count }.max() ?? 0 }
        var out = ""
        for (r, row) in rows.enumerated() {
            out +=
                row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(
                    separator: "  ") + "\n"
            if r == 0 { out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n" }
        }
        return out
    }
}
