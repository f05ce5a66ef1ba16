import Foundation
import Kernels
import Logging
import PluginKit

/// What every stage of one audit shares: the plan, the logger, the progress line, the user's
/// interrupt, the run folder and the model store, and the clock of the stages run so far.
///
/// One context per audit (per study point): `Audit.run` makes it and hands it to each stage in
/// turn. The stages own the work; the context owns nothing but these shared services.
public final class StageContext {
    let plan: AuditPlan
    let logger: Logger
    let progress: ProgressReporter
    let cancellation: CancellationFlag
    /// Each stage's name and wall-clock seconds, in run order.
    var stageSeconds: [(String, Double)] = []
    /// Recompute every model, logits file and score instead of reusing stored ones (`--fresh`).
    var fresh = false
    /// Numbers each attack recorded while scoring (`MIA_HOST_RESULTS_V1`), by attack name.
    var reportedValues: [String: [String: Double]] = [:]

    public init(
        plan: AuditPlan, logger: Logger, progress: ProgressReporter, cancellation: CancellationFlag = CancellationFlag()
    ) {
        self.plan = plan
        self.logger = logger
        self.progress = progress
        self.cancellation = cancellation
        PluginGuard.policy = plan.config.pluginPolicy
    }

    var config: AuditConfig { plan.config }
    var output: String { config.output }
    var store: ModelStore { ModelStore(root: config.modelStore) }
    var signalsFolder: String { (output as NSString).appendingPathComponent("signals") }
    var scoresFolder: String { (output as NSString).appendingPathComponent("scores") }

    /// Runs `body` as the stage `name`: logs its start and end, and keeps its time.
    func stage<T>(_ name: String, _ body: () throws -> T) throws -> T {
        let start = Date()
        logger.info("stage: \(name)")
        RunFolder.enter(stage: name, output)
        let result = try body()
        let seconds = Date().timeIntervalSince(start)
        stageSeconds.append((name, seconds))
        progress.finishLine()
        logger.info("stage: \(name) done in \(String(format: "%.2f", seconds)) s")
        return result
    }

    /// Makes the run folder, keeps the config text in it, and sets the BLAS threads (`run.threads`).
    func prepareRunFolder() throws {
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        try AtomicFile.write(config.text, to: (output as NSString).appendingPathComponent("config.yaml"))
        try BLASSummary.logChoice(logger)
        BLAS.setThreadCount(config.threads)
    }

    /// The host services of one component instance, labelled in logs and progress.
    func bridge(_ label: String) -> HostBridge {
        HostBridge(label: label, logger: logger, cancellation: cancellation, progress: progress)
    }
}

/// A stage of the audit: a type with a `run` from the previous stage's output to its own,
/// working through the shared `StageContext`.
protocol AuditStage {
    var context: StageContext { get }
}

extension AuditStage {
    var plan: AuditPlan { context.plan }
    var config: AuditConfig { context.config }
    var output: String { context.output }
    var logger: Logger { context.logger }
    var progress: ProgressReporter { context.progress }
    var cancellation: CancellationFlag { context.cancellation }
    var store: ModelStore { context.store }
    var signalsFolder: String { context.signalsFolder }
    var scoresFolder: String { context.scoresFolder }
    var fresh: Bool { context.fresh }
    func bridge(_ label: String) -> HostBridge { context.bridge(label) }
}
