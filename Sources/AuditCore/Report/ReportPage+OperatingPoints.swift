import Foundation

extension ReportPage {
    /// An attack's operating points of a real attacker, one row per configured FPR: the oracle
    /// TPR (threshold picked on the target's own curve), its PPV at each prior, and the
    /// threshold chosen on reference models with the TPR, FPR and PPV it gives on the target.
    /// Empty when the run computed none of them.
    func operatingPointsTable(_ e: AttackEvaluation) -> String {
        let priors = e.priorsUsed ?? []
        let chosen = e.referenceThreshold
        guard !priors.isEmpty || chosen != nil else { return "" }
        let p = ["attacks", e.attack]
        func prior(_ x: Double) -> String { "π = \(fprKey(x))" }
        var header = ["FPR", "TPR (oracle threshold)"] + priors.map { "PPV at \(prior($0))" }
        if chosen != nil {
            header +=
                ["Reference-chosen threshold", "Target TPR", "Target FPR"] + priors.map { "Target PPV at \(prior($0))" }
        }
        let rows = e.fprs.map { fpr -> [String] in
            let key = fprKey(fpr)
            var row = [key, e.tpr(atFPR: fpr).map { metricSpan($0, .metric, path: p + ["tpr_at_fpr", key]) } ?? "—"]
            row += priors.map { pi in
                e.ppvAtPrior?[fprKey(pi)]?[key].map {
                    metricSpan($0, .metric, path: p + ["ppv_at_prior", fprKey(pi), key])
                } ?? "—"
            }
            if let chosen {
                guard let t = chosen[key] else { return row + Array(repeating: "—", count: 3 + priors.count) }
                let q = p + ["reference_threshold", key]
                row += [
                    metricSpan(t.threshold, .score, path: q + ["threshold"]),
                    metricSpan(t.targetTPR, .metric, path: q + ["target_tpr"]),
                    metricSpan(t.targetFPR, .metric, path: q + ["target_fpr"]),
                ]
                row += priors.map { pi in
                    t.targetPPV[fprKey(pi)].map {
                        metricSpan($0, .metric, path: q + ["target_ppv_at_prior", fprKey(pi)])
                    } ?? "—"
                }
            }
            return row
        }
        var note =
            "Oracle: the best point of the target's own ROC curve at each FPR, which only someone who knows the "
            + "target's members can pick (FPR 0: the TPR above every non-member's score). PPV at a prior π, the share of "
            + "members among the records queried: TPR·π / (TPR·π + FPR·(1 − π)), with the FPR the point really has."
        if let models = e.pseudoTargets {
            note +=
                " Reference-chosen: the threshold of each FPR on reference model(s) \(models.map(String.init).joined(separator: ", ")) "
                + "attacked as the target (the other reference models as references), applied to the target; what an attacker "
                + "without the target's membership gets."
        }
        return "<h3>Operating points of a real attacker</h3>" + htmlTable(header: header, rows: rows)
            + "<p class=\"note\">\(escapeHTML(note))</p>"
    }

    /// The numbers the attack reported while scoring (a tuned hyper-parameter), or "".
    func reportedValuesParagraph(_ e: AttackEvaluation) -> String {
        guard let values = e.reportedValues, !values.isEmpty else { return "" }
        let items = values.keys.sorted().map { key in
            "<code>\(escapeHTML(key))</code> = \(metricSpan(values[key]!, .score, path: ["attacks", e.attack, "reported_values", key]))"
        }
        return "<p>Chosen by the attack while scoring: \(items.joined(separator: ", ")).</p>"
    }
}
