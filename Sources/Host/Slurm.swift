import ArgumentParser
import AuditCore
import Foundation

struct Slurm: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train the missing models as a Slurm job array, then audit in a dependent job.",
        discussion: """
            `mia-audit slurm CONFIG` writes <run output>/slurm/train.sbatch (one array task per \
            shard holding a missing model: `mia-audit train CONFIG --shard I/N`) and audit.sbatch \
            (`mia-audit run CONFIG`, after every task succeeded; cancelled when one fails). \
            `--submit` submits both and records the job ids in <run output>/slurm/jobs.json; \
            submitting again sends only the models still missing. `mia-audit slurm status` shows \
            each task's state and the log of a failed one.
            """,
        subcommands: [Script.self, Status.self], defaultSubcommand: Script.self)

    struct Script: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the sbatch scripts; with --submit, submit them.")

        @Argument(help: "The audit config (YAML).") var config: String
        @Flag(help: "Submit the scripts with sbatch and record the job ids.") var submit = false
        @Option(help: "Shards N of `--shard I/N` (default: one per model, so one model per task).") var tasks: Int?
        @Option(help: "CPUs of each job (default: slurm.cpus_per_task, else run.threads).") var cpusPerTask: Int?
        @Option(help: "Memory of each job (sbatch --mem, e.g. 4G; default: slurm.memory).") var mem: String?
        @Option(help: "Time limit of each job (sbatch --time, e.g. 1:00:00; default: slurm.time).") var time: String?
        @Option(help: "Slurm partition (default: slurm.partition).") var partition: String?
        @Option(help: "Slurm account (default: slurm.account).") var account: String?
        @Option(help: "At most this many training tasks at once (--array=...%K; default: slurm.max_parallel).")
        var maxParallel: Int?
        @Option(
            help:
                "One more #SBATCH option for both jobs, e.g. --qos=normal (repeatable; replaces slurm.sbatch_options).")
        var sbatchOption: [String] = []
        @OptionGroup var global: GlobalOptions

        func run() throws {
            if let tasks, tasks < 1 {
                printError("--tasks must be at least 1")
                throw ExitCode.validationFailure
            }
            let problems =
                [
                    cpusPerTask.flatMap { $0 < 1 ? "--cpus-per-task must be at least 1" : nil },
                    maxParallel.flatMap { $0 < 1 ? "--max-parallel must be at least 1" : nil },
                    mem.flatMap(SlurmConfig.memoryProblem).map { "--mem: \($0)" },
                    time.flatMap(SlurmConfig.timeProblem).map { "--time: \($0)" },
                ] + sbatchOption.map { SlurmConfig.sbatchOptionProblem($0).map { "--sbatch-option: \($0)" } }
            if let problem = problems.compactMap({ $0 }).first {
                printError(problem)
                throw ExitCode.validationFailure
            }
            let logger = global.makeLogger()
            let (plan, registry) = try loadPlan(config, global: global, logger: logger)
            reportProblems(registry, logger: logger)
            if plan.providedSignals != nil {
                printError(
                    "this audit reads its signals from \(plan.config.signals?.path ?? "a folder"): there is no model to train; run it with `mia-audit run`"
                )
                throw ExitStatus.failed
            }
            let status = ModelsStage(StageContext(plan: plan, logger: logger, progress: ProgressReporter(mode: .quiet)))
                .storeStatus()
            // Claimed models go in too: a task finds a live worker's claim and leaves the model to
            // it, but takes over the claim of a worker that died (a task killed at its time limit).
            let missing = (status.missing + status.claimed).map {
                ArrayPlan.Model(index: $0.index, role: $0.role, key: $0.key)
            }
            let array = ArrayPlan(total: status.jobs.count, missing: missing, tasks: tasks)
            let cwd = FileManager.default.currentDirectoryPath
            let slurm = plan.config.slurm
            let resources = slurm.resources(
                threads: plan.config.threads, cpusPerTask: cpusPerTask, memory: mem, time: time, partition: partition,
                account: account,
                sbatchOptions: sbatchOption.isEmpty ? nil : sbatchOption)
            let batch = SlurmBatch(
                executable: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
                    ?? CommandLine.arguments[0],
                configPath: absolute(config, cwd), workingDirectory: cwd, runName: plan.config.name,
                folder: (plan.config.output as NSString).appendingPathComponent("slurm"), array: array,
                trainResources: resources.train, auditResources: resources.audit,
                extraArguments: global.pluginPaths.flatMap { ["--plugin-path", absolute($0, cwd)] },
                maxParallel: maxParallel ?? slurm.maxParallel)

            print(
                "models: \(status.jobs.count); in the store \(status.finished.count), being trained \(status.claimed.count), missing \(status.missing.count)"
            )
            if !status.claimed.isEmpty {
                print(
                    "  claimed (in the array too, left to their worker while it lives): "
                        + status.claimed.map(\.role).joined(separator: ", "))
            }
            if array.tasks.isEmpty {
                print("nothing to train: only the audit job")
            } else {
                print("array: \(array.tasks.count) tasks of --shard I/\(array.shardCount), --array=\(batch.arraySpec)")
            }
            do {
                if submit {
                    let s = try batch.submit(modelStore: plan.config.modelStore)
                    if let id = s.arrayJobID { print("submitted training array \(id) (--array=\(batch.arraySpec))") }
                    print(
                        "submitted audit job \(s.auditJobID)" + (s.arrayJobID.map { " (after \($0) succeeds)" } ?? ""))
                    print("jobs: \(SlurmJobs.path(folder: batch.folder))")
                    print("status: mia-audit slurm status \(absolute(config, cwd))")
                } else {
                    try batch.write()
                    if batch.trainScript != nil { print("wrote \(batch.trainScriptPath)") }
                    print("wrote \(batch.auditScriptPath)")
                    print("submit with: mia-audit slurm \(absolute(config, cwd)) --submit")
                }
            } catch {
                printError("\(error)")
                throw ExitStatus.failed
            }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the state of each task of the latest submission.")

        @Argument(help: "The audit config, or its run folder (`run.output`).") var path: String
        @Flag(help: "Print the status as JSON.") var json = false
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let logger = global.makeLogger()
            var isFolder: ObjCBool = false
            let output: String
            if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
                output = path
            } else {
                output = try loadPlan(path, global: global, logger: logger).0.config.output
            }
            let folder = (output as NSString).appendingPathComponent("slurm")
            do {
                guard let status = try SlurmStatus.gather(folder: folder) else {
                    printError(
                        "no submission recorded in \(SlurmJobs.path(folder: folder)): submit with `mia-audit slurm CONFIG --submit`"
                    )
                    throw ExitStatus.notFound
                }
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                    print(String(decoding: try encoder.encode(status), as: UTF8.self))
                } else {
                    print(status.text)
                }
            } catch let e as ExitCode {
                throw e
            } catch {
                printError("\(error)")
                throw ExitStatus.failed
            }
        }
    }
}

private func absolute(_ path: String, _ cwd: String) -> String {
    let full = path.hasPrefix("/") ? path : (cwd as NSString).appendingPathComponent(path)
    return (full as NSString).standardizingPath
}
