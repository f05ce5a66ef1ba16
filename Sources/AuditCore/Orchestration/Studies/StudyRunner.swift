import Foundation
import Logging
import PluginKit

/// What happens to each point of a study, for the command line to show.
public enum StudyEvent {
    /// The point's run finished earlier with the same config: it is not run again.
    case skipped(SweepPoint)
    /// The point starts; the shared store already holds `modelsInStore` of its `modelsTotal` models.
    case starting(SweepPoint, modelsInStore: Int, modelsTotal: Int)
    /// The point's run finished and its results are written.
    case finished(SweepPoint, RunSummary)
}

/// Runs every point of a study as an ordinary audit, one after another, then compares them.
///
/// Each point goes through the same pipeline as `mia-audit run`: `Audit.run`. A point whose folder already holds a `metrics.json` made from the same
/// config text is skipped, so an interrupted study resumes at the first unfinished point (and a
/// point interrupted mid-way finds the models it had trained in the shared store).
/// `comparison.json` and `comparison.html` are rewritten after every point.
public final class StudyRunner {
    let study: Study
    let plans: [AuditPlan]
    let logger: Logger
    let progress: ProgressReporter
    let cancellation: CancellationFlag
    /// Models trained and loaded per point index, for points run by this runner.
    var modelCounts: [Int: (trained: Int, loaded: Int)] = [:]
    /// Run every point again, reusing nothing stored (`--fresh`).
    public var fresh = false

    /// - Parameter plans: the points' plans, from `study.plans(registry:logger:)`, in point order.
    public init(
        study: Study, plans: [AuditPlan], logger: Logger, progress: ProgressReporter,
        cancellation: CancellationFlag = CancellationFlag()
    ) {
        precondition(plans.count == study.points.count, "one plan per point")
        self.study = study
        self.plans = plans
        self.logger = logger
        self.progress = progress
        self.cancellation = cancellation
    }

    public var comparisonJSONPath: String { (study.output as NSString).appendingPathComponent("comparison.json") }
    public var comparisonHTMLPath: String { (study.output as NSString).appendingPathComponent("comparison.html") }

    /// Runs the points not yet finished, then writes and returns the comparison.
    public func run(onEvent: (StudyEvent) -> Void = { _ in }) throws -> StudyComparison {
        let earlier = previousComparison()
        for (point, plan) in zip(study.points, plans) {
            if !fresh, finishedSummary(point) != nil {
                onEvent(.skipped(point))
                continue
            }
            let context = StageContext(plan: plan, logger: logger, progress: progress, cancellation: cancellation)
            context.fresh = fresh
            let status = ModelsStage(context).storeStatus()
            onEvent(.starting(point, modelsInStore: status.finished.count, modelsTotal: status.jobs.count))
            let summary = try Audit.run(
                plan, logger: logger, progress: progress, cancellation: cancellation, fresh: fresh
            ) { models in
                modelCounts[point.index] = (models.filter { !$0.cached }.count, models.filter(\.cached).count)
            }
            onEvent(.finished(point, summary))
            try write(comparison(earlier: earlier))
        }
        let result = comparison(earlier: earlier)
        try write(result)
        return result
    }

    /// The point's `metrics.json`, when it exists and was made from the point's config text.
    func finishedSummary(_ point: SweepPoint) -> RunSummary? {
        let path = EvaluationStage.metricsPath(study.folder(of: point))
        guard let data = FileManager.default.contents(atPath: path),
            let summary = try? RunSummary.decode(jsonData: data), summary.configYAML == point.text
        else { return nil }
        return summary
    }

    /// The comparison of every point as the folders hold them now.
    ///
    /// - Parameter earlier: a comparison written before, whose model counts are kept for points
    ///   this runner did not run.
    func comparison(earlier: StudyComparison? = nil) -> StudyComparison {
        let points = study.points.map { point -> PointComparison in
            let folder = "points/\(point.name)"
            guard let summary = finishedSummary(point) else {
                return PointComparison(
                    index: point.index, name: point.name, folder: folder, values: point.values, finished: false)
            }
            var p = PointComparison(
                index: point.index, name: point.name, folder: folder, values: point.values, summary: summary)
            if let counts = modelCounts[point.index] {
                p.modelsTrained = counts.trained
                p.modelsLoaded = counts.loaded
            } else if let old = earlier?.points.first(where: { $0.name == point.name && $0.finished }) {
                p.modelsTrained = old.modelsTrained
                p.modelsLoaded = old.modelsLoaded
            }
            return p
        }
        return StudyComparison(
            toolVersion: toolVersion, studyName: study.base.name, configFile: study.file,
            createdAt: ISO8601DateFormatter().string(from: Date()), mode: study.sweep.mode.rawValue,
            parameters: study.sweep.parameters.map(\.path.description), points: points, configYAML: study.text)
    }

    /// Writes `comparison.json`, and `comparison.html` unless the config turns HTML off.
    func write(_ comparison: StudyComparison) throws {
        try AtomicFile.write(try comparison.jsonData(), to: comparisonJSONPath)
        if study.base.html { try AtomicFile.write(renderComparison(comparison), to: comparisonHTMLPath) }
    }

    func previousComparison() -> StudyComparison? {
        guard let data = FileManager.default.contents(atPath: comparisonJSONPath) else { return nil }
        return try? StudyComparison.decode(jsonData: data)
    }

    /// The table printed at the end of a study: one row per point and attack.
    public static func table(_ c: StudyComparison) -> String {
        let lowest = c.points.compactMap { $0.attacks.first?.lowestFPR }.min()
        var rows: [[String]] = [
            ["point"] + c.parameters.map { ConfigKeyPath($0)?.lastKey ?? $0 }
                + [
                    "train acc", "test acc", "attack", "AUC", "TPR@\(lowest.map(ReportStage.formatPercent) ?? "-") FPR",
                    "advantage",
                    "accuracy", "precision", "recall",
                ]
        ]
        for p in c.points {
            let head = [p.name] + c.parameters.map { p.value(of: $0)?.value ?? "" }
            guard p.finished, let t = p.target else {
                rows.append(head + ["-", "-", "(not run)", "", "", "", "", "", ""])
                continue
            }
            for (k, a) in p.attacks.enumerated() {
                let lead =
                    k == 0
                    ? head + [String(format: "%.4f", t.trainAccuracy), String(format: "%.4f", t.testAccuracy)]
                    : Array(repeating: "", count: head.count + 2)
                rows.append(
                    lead + [
                        a.attack, String(format: "%.4f", a.auc),
                        a.tprAtLowestFPR.map(ReportStage.formatPercent) ?? "-",
                        String(format: "%.4f", a.attackerAdvantage),
                    ]
                        + [a.balancedAccuracy, a.precision, a.recall].map {
                            $0.map { String(format: "%.4f", $0) } ?? "-"
                        })
            }
        }
        var out = aligned(rows)
        if let settings = c.settings, !settings.isEmpty {
            let others = c.parameters.filter { $0 != StudyComparison.seedKey }
            func spread(_ s: SeedSpread?) -> String {
                guard let s else { return "-" }
                return String(format: "%.4f", s.mean) + (s.sd.map { String(format: " ±%.4f", $0) } ?? "")
            }
            var rows: [[String]] = [
                others.map { ConfigKeyPath($0)?.lastKey ?? $0 }
                    + ["n", "test acc", "attack", "AUC", "advantage", "accuracy", "precision", "recall", "TP/FN/FP/TN"]
            ]
            for s in settings {
                let head = others.map { s.value(of: $0)?.value ?? "" } + ["\(s.points.count)", spread(s.testAccuracy)]
                for (k, a) in s.attacks.enumerated() {
                    let m = a.confusionMatrix.map {
                        [$0.truePositives, $0.falseNegatives, $0.falsePositives, $0.trueNegatives].map {
                            String(format: "%.1f", $0)
                        }
                        .joined(separator: "/")
                    }
                    rows.append(
                        (k == 0 ? head : Array(repeating: "", count: head.count))
                            + [
                                a.attack, spread(a.auc), spread(a.attackerAdvantage), spread(a.balancedAccuracy),
                                spread(a.precision),
                                spread(a.recall), m ?? "-",
                            ])
                }
            }
            out += "\nAveraged over seeds (\(StudyComparison.seedKey)): mean ±sd over n seeds\n" + aligned(rows)
        }
        return out + privacyTable(c)
    }

    /// `rows` as text columns padded to a common width, a rule under the first row.
    static func aligned(_ rows: [[String]]) -> String {
        let widths = (0..<rows[0].count).map { col in rows.map { $0[col].count }.max() ?? 0 }
        var out = ""
        for (r, row) in rows.enumerated() {
            out +=
                row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(
                    separator: "  "
                )
                .replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) + "\n"
            if r == 0 { out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n" }
        }
        return out
    }
}
