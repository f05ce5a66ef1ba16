import Foundation

extension ReportPage {
    /// The one-run DP audit (`audit.canaries`): the claimed ε beside each attack's one-run lower
    /// bound on the canaries, with the method, confidence, δ, canary count and kind. Nothing
    /// without canaries.
    /// Dirac gradient canaries are no records: what their scores are instead.
    private var diracNote: String {
        "Dirac gradient canaries (white-box): each canary is one parameter coordinate set to the clipping norm, added to the "
            + "DP-SGD steps it is sampled in; its score (noisy_gradients) is the sum over steps of the privatised gradient's "
            + "coordinate, as an observer of every released gradient sees it. No record is a canary."
    }

    mutating func canarySection() {
        guard let audit = summary.canaryAudit else { return }
        let root = ["canary_audit"]
        html += "<section id=\"canaries\"><h2>DP audit with canaries (one training run)</h2><div class=\"cards\">"
        if let (attack, best) = audit.strongest {
            html += card(
                "Audited epsilon lower bound",
                metricSpan(best.epsilon, .metric, path: root + ["bounds", attack, "epsilon"]),
                "from \(escapeHTML(attack)), \(Int((audit.confidence * 100).rounded())) % confidence, δ = \(audit.delta)",
                strong: true)
        }
        if let (attack, gdp) = audit.strongestGaussianDP {
            let p = root + ["bounds", attack, "gaussian_dp"]
            html += card(
                "Audited Gaussian-DP μ lower bound", metricSpan(gdp.mu, .metric, path: p + ["mu"]),
                "from \(escapeHTML(attack)); ε " + metricSpan(gdp.epsilon, .metric, path: p + ["epsilon"])
                    + " at δ = \(audit.delta) if the privacy curve is Gaussian (f-DP, Mahloujifar et al. 2024)")
        }
        if let claimed = audit.claimedEpsilon {
            html += card(
                "Claimed epsilon (DP-SGD accountant)", metricSpan(claimed, .metric, path: root + ["claimed_epsilon"]),
                "at δ = \(audit.delta)")
        }
        html += card(
            "Canaries", metricSpan(Double(audit.count), .count, path: root + ["count"]),
            "\(escapeHTML(audit.kind)); " + metricSpan(Double(audit.included), .count, path: root + ["included"])
                + " in the target's training set (canaries.json)")
        html += "</div>"
        let rows = audit.attackOrder.compactMap { name -> [String]? in
            guard let b = audit.bounds[name] else { return nil }
            let p = root + ["bounds", name]
            let gdp =
                b.gaussianDP.map {
                    [
                        metricSpan($0.mu, .metric, path: p + ["gaussian_dp", "mu"]),
                        metricSpan($0.epsilon, .metric, path: p + ["gaussian_dp", "epsilon"]),
                    ]
                } ?? ["–", "–"]
            return [escapeHTML(name), metricSpan(b.epsilon, .metric, path: p + ["epsilon"])] + gdp + [
                metricSpan(Double(b.k), .count, path: p + ["k"]),
                metricSpan(Double(b.guesses), .count, path: p + ["guesses"]),
                metricSpan(Double(b.correct), .count, path: p + ["correct"]),
                metricSpan(Double(b.scored), .count, path: p + ["scored"]),
            ]
        }
        html += htmlTable(
            header: [
                "Attack", "ε lower bound (Steinke)", "μ lower bound (f-DP)", "ε of that μ", "k (in = out)", "Guesses",
                "Correct", "Canaries scored",
            ], rows: rows)
        html += "<p class=\"note\">\(escapeHTML(audit.method)). It is \(escapeHTML(audit.assumptions)). "
        if let method = audit.gaussianDPMethod, let assumptions = audit.gaussianDPAssumptions {
            html +=
                "μ: \(escapeHTML(method)); \(escapeHTML(assumptions)); the k, guesses and correct shown are the ε bound's (μ's own are in metrics.json). "
        }
        html +=
            (audit.kind == "dirac" ? diracNote : "The canaries are left out of every other figure of this report.")
            + "</p></section>"
    }
}
