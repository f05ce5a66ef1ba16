import ArgumentParser
import AuditCore
import Foundation
import Logging
import PluginKit

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a config against the plugins found, without running it.")

    @Argument(help: "The audit config (YAML).") var config: String
    @OptionGroup var global: GlobalOptions

    func run() throws {
        if isStudy(config) { return try runStudy(config, check: true, global: global) }
        let logger = global.makeLogger()
        let (plan, registry) = try loadPlan(config, global: global, logger: logger)
        reportProblems(registry, logger: logger)
        print("\(config): valid")
        for line in plan.inputSummary { print(line) }
        for a in plan.attacks {
            let needs = a.requirements.names
            print(
                "  attack \(a.name) (\(a.component.info.name))"
                    + (needs.isEmpty ? "" : ": needs " + needs.joined(separator: ", ")))
        }
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run an audit: train or load the models, attack, evaluate, report.")

    @Argument(help: "The audit config (YAML).") var config: String
    @Flag(help: "Reuse nothing stored: train every model, compute every logits file and score again (and store them).")
    var fresh = false
    @OptionGroup var global: GlobalOptions

    func run() throws {
        if isStudy(config) { return try runStudy(config, check: false, fresh: fresh, global: global) }
        let logger = global.makeLogger()
        let (plan, registry) = try loadPlan(config, global: global, logger: logger)
        reportProblems(registry, logger: logger)
        let start = Date()
        try runLongWork(quiet: global.quiet) { progress, cancellation in
            let summary = try Audit.run(
                plan, logger: logger, progress: progress, cancellation: cancellation, startedAt: start, fresh: fresh)
            progress.finishLine()
            print(ReportStage.table(summary))
            print("results: \(plan.config.output)")
            if plan.config.html {
                print("report:  \((plan.config.output as NSString).appendingPathComponent("report.html"))")
            }
        }
    }
}

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rebuild report.html of a finished run, without retraining.")

    @Argument(help: "The run folder (the config's `run.output`).") var folder: String
    @OptionGroup var global: GlobalOptions

    func run() throws {
        _ = global.makeLogger()
        do {
            let path = try ReportStage.rebuildReport(runFolder: folder)
            print("report: \(path)")
        } catch {
            printError("\(error)")
            throw ExitStatus.failed
        }
    }
}

struct Plugins: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the plugins found and their components.",
        subcommands: [List.self, Describe.self, Check.self], defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List every plugin found, and every file that is not one and why.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            _ = global.makeLogger()
            let registry = PluginRegistry.discover(folders: global.pluginPaths)
            for plugin in registry.plugins {
                print(
                    "\(plugin.name) \(plugin.version)  (ABI \(plugin.abiMajor).\(plugin.abiMinor), \(plugin.toolchain))"
                )
                print("  \(plugin.path)")
                for c in registry.components where c.plugin == plugin {
                    print(
                        "  \(String(describing: c.kind).padding(toLength: 8, withPad: " ", startingAt: 0)) \(c.name.padding(toLength: 22, withPad: " ", startingAt: 0)) \(c.summary)"
                    )
                }
            }
            if registry.plugins.isEmpty { print("no plugins found") }
            for p in registry.problems {
                print("\(p.libraryLoaded ? "component ignored" : "not loaded"): \(p.path)\n  \(p.reason)")
            }
        }
    }

    struct Describe: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a component's options, from the schema it declares.")
        @Argument(help: "The component's name (`lira`, `native`, `idx`).") var name: String
        @OptionGroup var global: GlobalOptions

        func run() throws {
            _ = global.makeLogger()
            let registry = PluginRegistry.discover(folders: global.pluginPaths)
            let found = registry.components(named: name)
            guard !found.isEmpty else {
                let names = registry.components.map(\.name).sorted()
                printError("no component named `\(name)`; found: \(names.joined(separator: ", "))")
                throw ExitStatus.notFound
            }
            for c in found {
                print("\(c.kind) \(c.name): \(c.summary)")
                print("  from \(c.plugin.name) \(c.plugin.version) at \(c.plugin.path)")
                if c.options.isEmpty { print("  (no options)") }
                for o in c.options {
                    var line = "  \(o.name) (\(o.type)"
                    if o.required { line += ", required" }
                    if let d = o.defaultJSON { line += ", default \(d)" }
                    line += ")"
                    print(line)
                    print("      \(o.summary)")
                    if let choices = o.choices { print("      one of: \(choices.joined(separator: ", "))") }
                    if let range = o.range.summary { print("      range: \(range)") }
                }
            }
        }
    }
}

/// Reads a config and checks it against the plugins found; a config error exits with code 2.
func loadPlan(_ file: String, global: GlobalOptions, logger: Logger) throws -> (AuditPlan, PluginRegistry) {
    do {
        let config = try AuditConfig.load(file)
        let registry = PluginRegistry.discover(folders: global.pluginPaths + config.pluginPaths)
        return (try AuditPlan.make(config, registry: registry, logger: logger), registry)
    } catch let e as ConfigError {
        printError(e.description)
        throw ExitStatus.invalidConfig
    } catch let e as ConfigErrors {
        for error in e.errors { printError(error.description) }
        throw ExitStatus.invalidConfig
    }
}

func reportProblems(_ registry: PluginRegistry, logger: Logger) {
    for p in registry.problems { logger.warning("\(p.heading): \(p.path): \(p.reason)") }
}

/// Runs the long work of a command: Ctrl-C asks every plugin to stop at its next check, and an
/// error becomes its documented exit code (1 failed, 130 interrupted) after a message.
func runLongWork(quiet: Bool, resumeHint: String = "", _ body: (ProgressReporter, CancellationFlag) throws -> Void)
    throws
{
    let cancellation = CancellationFlag()
    let interrupt = installInterruptHandler(cancellation)
    defer { interrupt.cancel() }
    let progress = ProgressReporter.automatic(quiet: quiet)
    do {
        try body(progress, cancellation)
    } catch let error as PluginError where error.status == .cancelled || cancellation.isCancelled {
        progress.finishLine()
        printError("interrupted: \(error.message)\(resumeHint)")
        throw ExitStatus.interrupted
    } catch let error as PluginError {
        progress.finishLine()
        printError(error.description)
        throw ExitStatus.failed
    } catch {
        progress.finishLine()
        printError("\(error)")
        throw ExitStatus.failed
    }
}

/// First Ctrl-C asks every plugin to stop at its next check; the second exits at once.
func installInterruptHandler(_ cancellation: CancellationFlag) -> DispatchSourceSignal {
    signal(SIGINT, SIG_IGN)
    let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
    source.setEventHandler {
        if cancellation.isCancelled {
            PluginGuard.hostExiting()
            exit(130)
        }
        FileHandle.standardError.write(Data("\ninterrupt: stopping at the next checkpoint (again to quit now)\n".utf8))
        cancellation.cancel()
        PluginGuard.interrupted()
    }
    source.resume()
    return source
}

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train the models of an audit that the store lacks, without attacking: one shard of a job array.",
        discussion: """
            `--shard I/N` trains the models whose index is I modulo N, so N processes (a Slurm job \
            array, a Kubernetes indexed job, a loop over machines sharing the store folder) train \
            everything once between them. Models claimed by a live worker are left to it.
            """)

    @Argument(help: "The audit config (YAML).") var config: String
    @Option(help: "Which share of the models to train, as I/N (0 ≤ I < N).") var shard: String = "0/1"
    @Flag(help: "Train this shard's models again even when the store holds them (and store them).") var fresh = false
    @OptionGroup var global: GlobalOptions

    func run() throws {
        guard let shard = Shard(shard) else {
            printError("--shard must be I/N with 0 ≤ I < N, not `\(self.shard)`")
            throw ExitCode.validationFailure
        }
        let logger = global.makeLogger()
        let (plan, registry) = try loadPlan(config, global: global, logger: logger)
        reportProblems(registry, logger: logger)
        try runLongWork(quiet: global.quiet) { progress, cancellation in
            let n = try Audit.train(
                plan, shard: shard, logger: logger, progress: progress, cancellation: cancellation, fresh: fresh)
            progress.finishLine()
            print("shard \(shard): trained \(n) models into \(plan.config.modelStore)")
        }
    }
}

struct Plan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print what a run would train, what the model store already holds, and the time and disk it expects.",
        discussion: """
            The expected time is measured, never guessed: on the models of this audit that the store \
            holds, or, when it holds none, by a trial that trains the first missing models (as many \
            side by side as a run would) until each reports its first epoch, then stops them; \
            nothing is stored. `--no-trial` skips the trial and prints the time as unknown.
            """)

    @Argument(help: "The audit config (YAML).") var config: String
    @Flag(help: "Do not train a trial epoch when the store holds none of the audit's models.") var noTrial = false
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let logger = global.makeLogger()
        let (plan, _) = try loadPlan(config, global: global, logger: logger)
        if plan.providedSignals != nil {
            print("models: none to train: this audit reads its signals from \(plan.config.signals?.path ?? "a folder")")
            return
        }
        try runLongWork(quiet: global.quiet) { _, cancellation in
            let runner = ModelsStage(
                StageContext(
                    plan: plan, logger: logger, progress: ProgressReporter(mode: .quiet), cancellation: cancellation))
            let status = runner.storeStatus()
            print("models: \(status.jobs.count) to train for this audit (a target trained elsewhere is not counted)")
            print("  in the store:        \(status.finished.count)")
            print("  being trained now:   \(status.claimed.count)")
            print("  to train:            \(status.missing.count)")
            print("store: \(plan.config.modelStore)")
            for job in status.missing.prefix(10) { print("  missing: \(job.role) \(job.key.prefix(16))") }
            if let students = try runner.studentStatus(status) { printStudents(students) }
            guard !status.missing.isEmpty else { return }
            let layout = runner.trainingLayout(missing: status.missing.count)
            let setting = plan.config.parallelModels.map { "\($0)" } ?? "auto"
            print("training here: \(layout) (run.threads: \(plan.config.threads), run.parallel_models: \(setting))")
            let logits = status.missing.count * runner.logitsBytesPerModel
            let logitsText =
                "\(mib(logits)) of logits (computed: \(status.missing.count) models x "
                + "\(plan.config.auditRecords + plan.config.populationRecords) records x \(plan.datasetInfo.classCount) classes x 4 bytes)"
            if let cost = runner.costEstimate(status) {
                let seconds = TrialMeasurement.expectedSeconds(
                    perModel: cost.secondsPerModel, count: status.missing.count, layout: layout)
                print(
                    String(
                        format:
                            "measured on %d stored models of this audit: %.1f s of training per model (%.2f s per epoch), %@ per model in the store",
                        cost.measuredOn, cost.secondsPerModel, cost.secondsPerEpoch, mib(cost.bytesPerModel)))
                print(
                    "expected: \(duration(seconds)) of training here (\(rounds(status.missing.count, layout))), "
                        + "\(mib(status.missing.count * cost.bytesPerModel)) more in the store (model files and logits, as measured)"
                )
            } else if noTrial {
                print(
                    "expected time: unknown until one model is in the store (`mia-audit plan` without --no-trial measures one epoch; "
                        + "`mia-audit train CONFIG --shard 0/\(status.jobs.count)` trains one model)")
                print("disk: \(logitsText) + model files: measured after the first model is stored")
            } else {
                if !global.quiet {
                    FileHandle.standardError.write(
                        Data("plan: measuring a trial epoch (Ctrl-C to stop; --no-trial skips it)\n".utf8))
                }
                guard let trial = try runner.measureTrial(status) else { return }
                printTrial(trial, missing: status.missing.count, logitsText: logitsText)
            }
        }
    }

    func printTrial(_ trial: TrialMeasurement, missing: Int, logitsText: String) {
        let roles = trial.models.map(\.role).joined(separator: ", ")
        let together = trial.models.count > 1 ? " side by side" : ""
        print(
            "trial: trained \(roles)\(together) (\(trial.layout.blasThreads) BLAS thread\(trial.layout.blasThreads == 1 ? "" : "s")\(together.isEmpty ? "" : " each")) on "
                + "\(trial.models[0].memberCount) members\(together.isEmpty ? "" : " each") until \(together.isEmpty ? "it" : "each") reported its first epoch, "
                + "then cancelled \(together.isEmpty ? "it" : "them"); nothing was stored")
        print(String(format: "  measured: dataset load %.2f s", trial.datasetSeconds))
        for m in trial.models {
            if let whole = m.finishedSeconds {
                print(
                    String(
                        format: "  measured: %@ finished its whole training in %.2f s before it saw the cancellation",
                        m.role, whole))
            } else {
                print(
                    String(
                        format:
                            "  measured: %@ first epoch %.3f s by the backend's clock, %.3f s from the start of training",
                        m.role, m.epochSeconds, m.firstEpochWallSeconds))
            }
        }
        let fileBytes = trial.models.compactMap(\.fileBytes).first
        let modelFiles =
            fileBytes.map {
                "\(mib(missing * $0)) of model files (measured: \(mib($0)) saved by a trial model after its cancel)"
            }
            ?? "model files: measured after the first model is stored"
        defer { print("disk: \(logitsText) + \(modelFiles)") }
        guard let perModel = trial.secondsPerModel else {
            print(
                String(
                    format:
                        "expected time: %.3f s per epoch; the number of epochs is unknown (the backend has no `epochs` option)",
                    trial.meanEpochSeconds))
            return
        }
        if trial.models.allSatisfy({ $0.finishedSeconds == nil }), let epochs = trial.epochs {
            let first = trial.models.map(\.firstEpochWallSeconds).reduce(0, +) / Double(trial.models.count)
            print(
                String(
                    format:
                        "  per model: %.3f s to the first epoch + %d more epochs x %.3f s = %.2f s (every epoch costing the first one's; "
                        + "early stopping ends sooner)", first, epochs - 1, trial.meanEpochSeconds, perModel))
        }
        let seconds = TrialMeasurement.expectedSeconds(perModel: perModel, count: missing, layout: trial.layout)
        print(
            String(
                format:
                    "expected: %@ of training here: %.2f s per model x %@; not counted: loading the dataset, each model's logits",
                duration(seconds), perModel, rounds(missing, trial.layout)))
    }

    func rounds(_ count: Int, _ layout: TrainingLayout) -> String {
        let n = TrialMeasurement.rounds(count: count, layout: layout)
        return layout.sideBySide == 1
            ? "\(n) model\(n == 1 ? "" : "s") one at a time"
            : "\(n) round\(n == 1 ? "" : "s") of \(layout.sideBySide) side by side for \(count) models"
    }
}

private func duration(_ seconds: Double) -> String {
    seconds < 10
        ? String(format: "%.1f s", seconds)
        : seconds < 120
            ? String(format: "%.0f s", seconds)
            : seconds < 7200 ? String(format: "%.1f min", seconds / 60) : String(format: "%.1f h", seconds / 3600)
}

private func mib(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
