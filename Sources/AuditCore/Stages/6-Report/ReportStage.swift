import Foundation
import PluginKit

/// Stage 6, report: `report.html` from the run's summary and scores (and `metrics.json` again
/// with the report's time). Also rebuilds a report from a finished run folder, and makes the
/// table printed at the end of a run.
public struct ReportStage: AuditStage {
    let context: StageContext

    init(_ context: StageContext) { self.context = context }

    /// Writes `report.html` unless the config turns HTML off; returns the summary with the
    /// report's time, as `metrics.json` then holds it.
    func run(_ summary: RunSummary, _ outcome: AuditOutcome, startedAt: Date) throws -> RunSummary {
        var summary = summary
        let config = outcome.plan.config
        let reportStart = Date()
        if config.html {
            let html = renderReport(
                summary: summary, scores: Dictionary(uniqueKeysWithValues: outcome.scores.map { ($0.name, $0.scores) }),
                isMember: outcome.memberships.target,
                evaluationMasks: Dictionary(uniqueKeysWithValues: outcome.scores.map { ($0.name, $0.mask) }))
            try AtomicFile.write(html, to: (config.output as NSString).appendingPathComponent("report.html"))
            summary.stageSeconds.append(StageTiming(stage: "report", seconds: Date().timeIntervalSince(reportStart)))
            summary.totalSeconds = Date().timeIntervalSince(startedAt)
            try AtomicFile.write(try summary.jsonData(), to: EvaluationStage.metricsPath(config.output))
        }
        logger.info("results written to \(config.output)")
        return summary
    }
}

extension ReportStage {
    /// Rebuilds `report.html` from a finished run's `metrics.json`, `scores/` and `signals/`.
    public static func rebuildReport(runFolder: String) throws -> String {
        try RunFolder.requireComplete(runFolder)
        guard let data = FileManager.default.contents(atPath: EvaluationStage.metricsPath(runFolder)) else {
            throw NpyError(
                path: EvaluationStage.metricsPath(runFolder), message: "no metrics.json: is this a finished run folder?"
            )
        }
        let summary = try RunSummary.decode(jsonData: data)
        let membership = try Npy.read(
            UInt8.self, from: (runFolder as NSString).appendingPathComponent("signals/target_membership.npy")
        ).values
        var scores: [String: [Double]] = [:]
        var masks: [String: [UInt8]] = [:]
        for name in summary.attackOrder {
            let base = (runFolder as NSString).appendingPathComponent("scores/\(name)")
            scores[name] = try Npy.read(Double.self, from: base + ".npy").values
            masks[name] =
                (try? Npy.read(UInt8.self, from: base + ".mask.npy").values)
                ?? [UInt8](repeating: 1, count: membership.count)
        }
        let html = renderReport(
            summary: summary, scores: scores, isMember: membership.map { $0 != 0 }, evaluationMasks: masks)
        let path = (runFolder as NSString).appendingPathComponent("report.html")
        try AtomicFile.write(html, to: path)
        return path
    }

    /// The table printed at the end of a run: attack, AUC, TPR at each FPR.
    public static func table(_ s: RunSummary) -> String {
        let fprs = s.fprs
        var rows: [[String]] = [["attack", "AUC"] + fprs.map { "TPR@\(formatPercent($0)) FPR" }]
        for e in s.orderedAttacks {
            var row = [e.attack, String(format: "%.4f", e.auc)]
            if e.bootstrapSamples > 0 { row[1] += String(format: " [%.3f, %.3f]", e.aucCI.lower, e.aucCI.upper) }
            for f in fprs { row.append(e.tpr(atFPR: f).map { formatPercent($0) } ?? "-") }
            rows.append(row)
        }
        let widths = (0..<rows[0].count).map { col in rows.map { $0[col].count }.max() ?? 0 }
        var out = String(
            format: "target: train accuracy %.4f, test accuracy %.4f\n", s.target.trainAccuracy, s.target.testAccuracy)
        for (r, row) in rows.enumerated() {
            out += row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(
                separator: "  ")
            out += "\n"
            if r == 0 { out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n" }
        }
        out += operatingPointsText(s)
        out += String(
            format: "total %.1f s, peak memory %.0f MiB", s.totalSeconds, Double(s.peakMemoryBytes) / 1_048_576)
        return out
    }

    static func formatPercent(_ x: Double) -> String {
        let p = x * 100
        if p == 0 { return "0%" }
        if p < 1 { return String(format: "%.2g%%", p) }
        return String(format: "%.1f%%", p)
    }
}
