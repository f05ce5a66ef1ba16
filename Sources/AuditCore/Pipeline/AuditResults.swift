import Foundation
import Kernels
import Logging
import PluginKit

/// The last stages of a run: evaluate every attack with the one shared metrics function, write
/// `metrics.json`, `roc/<attack>.csv` and `report.html`. Also rebuilds a report from a finished
/// run folder, and prints the final table.
public enum AuditResults {
    /// Evaluates `outcome` and writes the results; returns what `metrics.json` holds.
    public static func write(_ outcome: AuditOutcome, logger: Logger, progress: ProgressReporter, startedAt: Date) throws -> RunSummary {
        let plan = outcome.plan
        let config = plan.config
        var stages = outcome.stageSeconds
        let evaluateStart = Date()
        let n = outcome.population.auditCount
        let c = outcome.population.info.classCount
        let isMember = outcome.memberships.target
        let labels = Array(outcome.population.labels[0..<n])
        let correct = targetCorrect(logits: outcome.target.logits, labels: labels, classCount: c)
        let (trainAccuracy, testAccuracy) = accuracies(correct: correct, isMember: isMember)
        let memberCount = isMember.filter { $0 }.count

        var summary = RunSummary(
            toolVersion: toolVersion, runName: config.name, createdAt: ISO8601DateFormatter().string(from: startedAt),
            dataset: DatasetInfo(name: plan.datasetChoice?.info.name ?? "signals from \(plan.providedSignals?.folder ?? "?")", records: n + outcome.population.populationCount, classes: c),
            target: TargetSummary(
                trainAccuracy: trainAccuracy, testAccuracy: testAccuracy,
                history: outcome.target.record.history.map(EpochRecord.init)),
            referenceCount: outcome.references.count, fprs: config.fprs.sorted(), configYAML: config.text,
            plugins: plan.pluginsUsed.map {
                PluginUse(name: $0.plugin.name, version: $0.plugin.version, path: $0.plugin.path, component: "\($0.kind) \($0.component)")
            })
        summary.targetQueries = outcome.queries.isEmpty ? nil : outcome.queries
        summary.blas = try? BLASSummary.measure()
        let slices = SliceOptions(byClass: config.slices.contains("class"), byCorrectness: config.slices.contains("correctness"))
        let rocFolder = (config.output as NSString).appendingPathComponent("roc")
        let delta = dpDelta(plan) ?? 1e-5
        var epsilonBounds: [String: Double] = [:]
        for (i, attack) in outcome.scores.enumerated() {
            var attackSeed = SeededRandom.derive(seed: config.seed, 30_000 + UInt64(i))
            let evaluation = evaluate(
                attack: attack.name, scores: attack.scores, evaluationMask: attack.mask, isMember: isMember, labels: labels,
                targetCorrect: correct, fprs: config.fprs.sorted(), slices: slices, bootstrapSamples: config.bootstrapSamples,
                seed: attackSeed.next())
            let kept = attack.mask.indices.filter { attack.mask[$0] != 0 }
            let roc = rocCurve(scores: kept.map { attack.scores[$0] }, isMember: kept.map { isMember[$0] })
            try AtomicFile.write(roc.csv, to: (rocFolder as NSString).appendingPathComponent("\(attack.name).csv"))
            epsilonBounds[attack.name] = empiricalEpsilonLowerBound(roc, delta: delta)
            summary.add(evaluation, mostAtRisk: mostAtRisk(
                scores: attack.scores, isMember: isMember, evaluationMask: attack.mask, labels: labels, count: config.topRecords))
            progress.report(task: "evaluating", done: i + 1, total: outcome.scores.count)
        }
        summary.checkpoints = checkpointSummary(outcome)
        summary.privacy = PrivacyEvidence(delta: delta, claimedEpsilon: claimedEpsilon(plan, history: outcome.target.record.history, members: memberCount),
                                          empiricalEpsilonLowerBound: epsilonBounds)
        stages.append(("evaluate", Date().timeIntervalSince(evaluateStart)))

        let reportStart = Date()
        summary.stageSeconds = stages.map { StageTiming(stage: $0.0, seconds: $0.1) }
        summary.totalSeconds = Date().timeIntervalSince(startedAt)
        summary.peakMemoryBytes = peakResidentBytes()
        try AtomicFile.write(try summary.jsonData(), to: metricsPath(config.output))
        if config.html {
            let html = renderReport(
                summary: summary, scores: Dictionary(uniqueKeysWithValues: outcome.scores.map { ($0.name, $0.scores) }),
                isMember: isMember, evaluationMasks: Dictionary(uniqueKeysWithValues: outcome.scores.map { ($0.name, $0.mask) }))
            try AtomicFile.write(html, to: (config.output as NSString).appendingPathComponent("report.html"))
            summary.stageSeconds.append(StageTiming(stage: "report", seconds: Date().timeIntervalSince(reportStart)))
            summary.totalSeconds = Date().timeIntervalSince(startedAt)
            try AtomicFile.write(try summary.jsonData(), to: metricsPath(config.output))
        }
        logger.info("results written to \(config.output)")
        return summary
    }

    /// The options of a model trained with DP-SGD, nil otherwise.
    static func dpOptions(_ model: ResolvedComponent?) -> PluginOptions? {
        guard let values = model?.options, values["dp_sgd"] == .bool(true) else { return nil }
        return PluginOptions(values)
    }

    /// δ of a DP-SGD target (`dp_delta` of its options), when it has one.
    static func dpDelta(_ plan: AuditPlan) -> Double? { try? dpOptions(plan.targetChoice ?? plan.modelChoice)?.double("dp_delta") }

    /// The ε the target claims: the last one its backend reported in the training history
    /// (`EpochRecord.dpEpsilon`, its own accountant's), else the RDP accountant run here on its
    /// DP-SGD options (`dp_sgd`, `dp_noise_multiplier`, `batch_size`, `epochs`, `dp_delta`), when
    /// it was trained with them.
    static func claimedEpsilon(_ plan: AuditPlan, history: [PluginKit.EpochRecord], members: Int) -> Double? {
        if let reported = history.last(where: { $0.dpEpsilon != nil })?.dpEpsilon { return reported }
        return claimedEpsilon(plan, members: members)
    }

    /// The RDP accountant's ε for the target's DP-SGD options, nil when it was not trained with them.
    static func claimedEpsilon(_ plan: AuditPlan, members: Int) -> Double? {
        guard plan.targetChoice == nil, let options = dpOptions(plan.modelChoice), members > 0, let delta = try? options.double("dp_delta"),
            let sigma = try? options.double("dp_noise_multiplier"), let batch = try? options.double("batch_size"),
            let epochs = try? options.double("epochs")
        else { return nil }
        let q = min(1, batch / Double(members))
        let steps = Int((epochs / q).rounded())
        return RDPAccountant.epsilon(q: q, sigma: sigma, steps: steps, delta: delta).epsilon
    }

    static func metricsPath(_ folder: String) -> String { (folder as NSString).appendingPathComponent("metrics.json") }

    /// Whether the target's top logit is the true label, per record.
    /// The target's accuracy on its members (train) and on the audit non-members (test).
    static func accuracies(correct: [Bool], isMember: [Bool]) -> (train: Double, test: Double) {
        func accuracy(_ members: Bool) -> Double {
            let idx = isMember.indices.filter { isMember[$0] == members }
            return Double(idx.filter { correct[$0] }.count) / Double(max(1, idx.count))
        }
        return (accuracy(true), accuracy(false))
    }

    static func targetCorrect(logits: [Float], labels: [Int32], classCount c: Int) -> [Bool] {
        labels.indices.map { i in
            var best = 0
            for k in 1..<c where logits[i * c + k] > logits[i * c + best] { best = k }
            return best == Int(labels[i])
        }
    }

    /// Peak resident memory of this process (`getrusage`), in bytes.
    public static func peakResidentBytes() -> UInt64 {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return UInt64(usage.ru_maxrss) * 1024
    }

    /// Rebuilds `report.html` from a finished run's `metrics.json`, `scores/` and `signals/`.
    public static func rebuildReport(runFolder: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: metricsPath(runFolder)) else {
            throw NpyError(path: metricsPath(runFolder), message: "no metrics.json: is this a finished run folder?")
        }
        let summary = try RunSummary.decode(jsonData: data)
        let membership = try Npy.read(UInt8.self, from: (runFolder as NSString).appendingPathComponent("signals/target_membership.npy")).values
        var scores: [String: [Double]] = [:]
        var masks: [String: [UInt8]] = [:]
        for name in summary.attackOrder {
            let base = (runFolder as NSString).appendingPathComponent("scores/\(name)")
            scores[name] = try Npy.read(Double.self, from: base + ".npy").values
            masks[name] = (try? Npy.read(UInt8.self, from: base + ".mask.npy").values) ?? [UInt8](repeating: 1, count: membership.count)
        }
        let html = renderReport(summary: summary, scores: scores, isMember: membership.map { $0 != 0 }, evaluationMasks: masks)
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
        var out = String(format: "target: train accuracy %.4f, test accuracy %.4f\n", s.target.trainAccuracy, s.target.testAccuracy)
        for (r, row) in rows.enumerated() {
            out += row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
            out += "\n"
            if r == 0 { out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n" }
        }
        out += String(format: "total %.1f s, peak memory %.0f MiB", s.totalSeconds, Double(s.peakMemoryBytes) / 1_048_576)
        return out
    }

    static func formatPercent(_ x: Double) -> String {
        let p = x * 100
        if p == 0 { return "0%" }
        if p < 1 { return String(format: "%.2g%%", p) }
        return String(format: "%.1f%%", p)
    }
}

extension EpochRecord {
    init(_ r: PluginKit.EpochRecord) {
        self.init(
            epoch: r.epoch, trainLoss: r.trainLoss, trainAccuracy: r.trainAccuracy,
            heldoutLoss: r.heldoutLoss.isNaN ? nil : r.heldoutLoss, heldoutAccuracy: r.heldoutAccuracy.isNaN ? nil : r.heldoutAccuracy,
            seconds: r.seconds)
    }
}
