import Foundation

extension ComparisonPage {
    /// Differential privacy at every point that has it (DP-SGD or `audit.canaries`): the claimed
    /// ε by the RDP and the PLD accountant beside each attack's audited one-run bounds, and with
    /// a seed axis the classical bound over the seeds. Nothing when no point has such figures.
    mutating func privacySection() {
        let rows = finished.flatMap { k, p, _ -> [[String]] in
            guard let pr = p.privacy else { return [] }
            let base = ["points", "\(k)", "privacy"]
            func value(_ v: Double?, _ key: String) -> String {
                v.map { metricSpan($0, .metric, path: base + [key]) } ?? "—"
            }
            let head = [
                "\(p.index)", escapeHTML(p.name), value(pr.claimedEpsilonRDP, "claimed_epsilon_rdp"),
                value(pr.claimedEpsilonPLD, "claimed_epsilon_pld"),
                pr.canaryKind.map { "\(pr.canaries ?? 0) " + escapeHTML($0) } ?? "—",
            ]
            guard !pr.audits.isEmpty else { return [head + ["—", "—", "—", "—"]] }
            return pr.audits.enumerated().map { j, a in
                let ap = base + ["audits", "\(j)"]
                func bound(_ v: Double?, _ key: String) -> String {
                    v.map { metricSpan($0, .metric, path: ap + [key]) } ?? "—"
                }
                return (j == 0 ? head : ["", "", "", "", ""])
                    + [
                        escapeHTML(a.attack), bound(a.epsilon, "epsilon"), bound(a.gaussianMu, "gaussian_dp_mu"),
                        bound(a.gaussianEpsilon, "gaussian_dp_epsilon"),
                    ]
            }
        }
        guard !rows.isEmpty else { return }
        html += "<section id=\"privacy\"><h2>Differential privacy: claimed and audited</h2>"
        html += htmlTable(
            header: [
                "#", "Point", "Claimed ε (RDP)", "Claimed ε (PLD)", "Canaries", "Attack",
                "Audited ε (Steinke)", "Audited μ (f-DP)", "ε of that μ",
            ],
            rows: rows, numericFrom: 2)
        html +=
            "<p class=\"note\">Claimed ε: the DP-SGD target's accountants at the run's δ (RDP and the tighter PLD; "
            + "“—” without DP-SGD). Audited: one-run lower bounds from the attack's scores on the canaries at 95 %: ε "
            + "of Steinke, Nasr and Jagielski 2023, and the Gaussian-DP μ of Mahloujifar, Melis and Chaudhuri 2024 with "
            + "the ε of the μ-GDP curve at δ (a lower bound only if the privacy curve is Gaussian). An audited figure "
            + "above the claim would refute it; one below proves nothing.</p>"
        multiRunTable()
        html += "</section>"
    }

    /// With a seed axis, the classical multi-run bound of each setting and attack.
    mutating func multiRunTable() {
        guard let settings = comparison.settings else { return }
        let others = comparison.parameters.filter { $0 != StudyComparison.seedKey }
        var rows: [[String]] = []
        for (k, s) in settings.enumerated() {
            for (j, b) in (s.multiRun ?? []).enumerated() {
                let p = ["settings", "\(k)", "multi_run_epsilon", "\(j)"]
                rows.append(
                    others.map { key in s.value(of: key).map { "<code>\(escapeHTML($0.value))</code>" } ?? "" }
                        + [
                            escapeHTML(b.attack), metricSpan(Double(b.trials), .count, path: p + ["trials"]),
                            metricSpan(Double(b.selectionTrials), .count, path: p + ["selection_trials"]),
                            metricSpan(b.bound.epsilon, .metric, path: p + ["bound", "epsilon"]),
                            metricSpan(Double(b.bound.falsePositives), .count, path: p + ["bound", "false_positives"])
                                + " / "
                                + metricSpan(Double(b.bound.nonMembers), .count, path: p + ["bound", "non_members"]),
                            metricSpan(Double(b.bound.falseNegatives), .count, path: p + ["bound", "false_negatives"])
                                + " / "
                                + metricSpan(Double(b.bound.members), .count, path: p + ["bound", "members"]),
                        ])
            }
        }
        guard !rows.isEmpty else { return }
        html += "<h3>Classical bound over the seeds</h3>"
        html += htmlTable(
            header: others.map { $0.replacingOccurrences(of: ".", with: ".\u{200B}") }
                + ["Attack", "Seeds (trials)", "Chose the threshold", "ε lower bound", "FP / out", "FN / in"],
            rows: rows, numericFrom: others.count + 1)
        html +=
            "<p class=\"note\">Jagielski et al. 2020, Nasr et al. 2021: each seed trained its own target and adds one "
            + "trial, its first canary (in or out by that seed's coin flip) and the attack's score on it. The threshold is "
            + "chosen on the first half of the seeds, the 95 % Clopper-Pearson bound on ε is taken on the rest. The trials "
            + "are independent trainings, so the bound is valid; it needs tens of seeds to rise above 0.</p>"
    }
}
