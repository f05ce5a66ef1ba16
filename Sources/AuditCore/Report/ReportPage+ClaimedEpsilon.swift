import Foundation

extension ReportPage {
    /// The claimed-ε card: the RDP and the PLD accountant's ε side by side, labelled, with δ, q,
    /// σ and steps (metrics.json `privacy.claimed_epsilon_accountants`).
    func claimedEpsilonCard(_ c: ClaimedEpsilon) -> String {
        let path = ["privacy", "claimed_epsilon_accountants"]
        let value =
            metricSpan(c.rdp, .metric, path: path + ["rdp"]) + " <small>(RDP)</small> / "
            + metricSpan(c.pld, .metric, path: path + ["pld"]) + " <small>(PLD)</small>"
        let sub =
            "at δ = \(c.delta), q = \(ReportFormat.metric.string(c.samplingRate)), σ = \(c.noiseMultiplier), "
            + "\(c.steps) steps, add/remove-one neighbours; what the training promises. Both are upper bounds; "
            + "PLD (privacy loss distribution) is the tighter"
        return card("Claimed epsilon (DP-SGD accountant)", value, escapeHTML(sub))
    }

    /// The claimed ε per checkpoint epoch, as a small table (nil without checkpoints).
    func claimedEpsilonPerEpochTable(_ c: ClaimedEpsilon) -> String? {
        guard let epochs = c.perEpoch, !epochs.isEmpty else { return nil }
        let path = ["privacy", "claimed_epsilon_accountants", "per_epoch"]
        let rows = epochs.enumerated().map { i, e in
            [
                String(e.epoch), String(e.steps),
                metricSpan(e.rdp, .metric, path: path + [String(i), "rdp"]),
                metricSpan(e.pld, .metric, path: path + [String(i), "pld"]),
            ]
        }
        return "<p>Claimed ε by the end of each checkpoint epoch, at δ = \(c.delta) (both accountants, as above):</p>"
            + htmlTable(
                header: ["Epoch", "Steps", "Claimed ε (RDP)", "Claimed ε (PLD)"], rows: rows, numericFrom: 0,
                className: "compact")
    }
}
