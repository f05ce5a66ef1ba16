import Foundation

/// What each Slurm job asks for; nil leaves it to the cluster's defaults.
public struct SlurmResources: Equatable, Sendable, Codable {
    var cpusPerTask: Int
    /// `--mem`, e.g. `4G`.
    var memory: String?
    /// `--time`, e.g. `1:00:00`.
    var time: String?
    var partition: String?
    var account: String?
    /// More options, each written as its own `#SBATCH` line (`--qos=normal`).
    var sbatchOptions: [String]

    init(
        cpusPerTask: Int, memory: String? = nil, time: String? = nil, partition: String? = nil, account: String? = nil,
        sbatchOptions: [String] = []
    ) {
        self.cpusPerTask = cpusPerTask
        self.memory = memory
        self.time = time
        self.partition = partition
        self.account = account
        self.sbatchOptions = sbatchOptions
    }

    /// The `#SBATCH` lines.
    var directives: [String] {
        var lines = ["--cpus-per-task=\(cpusPerTask)"]
        if let memory { lines.append("--mem=\(memory)") }
        if let time { lines.append("--time=\(time)") }
        if let partition { lines.append("--partition=\(partition)") }
        if let account { lines.append("--account=\(account)") }
        lines += sbatchOptions
        return lines.map { "#SBATCH \($0)" }
    }
}

/// The two batch scripts of an audit on Slurm: a job array that trains the missing models
/// (`train.sbatch`) and the audit that runs after every task succeeded (`audit.sbatch`), both
/// kept in `<run output>/slurm/` with their logs in `logs/`.
///
/// Every path in them is absolute (the binary, the config, the working directory the config's
/// relative paths were resolved against), so they run the same from any node sharing the folder.
public struct SlurmBatch: Sendable {
    var executable: String
    var configPath: String
    var workingDirectory: String
    var runName: String
    /// `<run output>/slurm`.
    public var folder: String
    var array: ArrayPlan
    var trainResources: SlurmResources
    var auditResources: SlurmResources
    /// Passed to both commands after the config (e.g. `--plugin-path X`).
    var extraArguments: [String]
    /// The array throttle: at most this many training tasks at once (`--array=...%K`).
    var maxParallel: Int?

    public init(
        executable: String, configPath: String, workingDirectory: String, runName: String, folder: String,
        array: ArrayPlan,
        trainResources: SlurmResources, auditResources: SlurmResources, extraArguments: [String] = [],
        maxParallel: Int? = nil
    ) {
        self.maxParallel = maxParallel
        self.executable = executable
        self.configPath = configPath
        self.workingDirectory = workingDirectory
        self.runName = runName
        self.folder = folder
        self.array = array
        self.trainResources = trainResources
        self.auditResources = auditResources
        self.extraArguments = extraArguments
    }

    var logFolder: String { (folder as NSString).appendingPathComponent("logs") }
    public var trainScriptPath: String { (folder as NSString).appendingPathComponent("train.sbatch") }
    public var auditScriptPath: String { (folder as NSString).appendingPathComponent("audit.sbatch") }

    /// The log of array task `task` of job `arrayJobID` (Slurm's `%A_%a`).
    static func taskLog(folder: String, arrayJobID: String, task: Int) -> String {
        (folder as NSString).appendingPathComponent("logs/\(arrayJobID)_\(task).out")
    }

    /// The log of the audit job (Slurm's `audit-%j`).
    static func auditLog(folder: String, jobID: String) -> String {
        (folder as NSString).appendingPathComponent("logs/audit-\(jobID).out")
    }

    /// The `--array` value: the tasks to submit, and the throttle `%K` when there is one.
    public var arraySpec: String { array.arraySpec + (maxParallel.map { "%\($0)" } ?? "") }

    /// The job array script; nil when no model is missing.
    public var trainScript: String? {
        guard !array.tasks.isEmpty else { return nil }
        var lines = [
            "#!/bin/bash",
            "#SBATCH --job-name=\(Self.jobName("mia-train", runName))",
            "#SBATCH --array=\(arraySpec)",
            "#SBATCH --chdir=\(workingDirectory)",
            "#SBATCH --output=\((logFolder as NSString).appendingPathComponent("%A_%a.out"))",
        ]
        lines += trainResources.directives
        lines += [
            "#",
            "# Written by `mia-audit slurm`: trains the models of this audit that the store lacked.",
            "# Task I runs `mia-audit train --shard I/\(array.shardCount)`: the models whose index is I",
            "# modulo \(array.shardCount). Only tasks with a missing model are in --array:",
        ]
        for t in array.tasks {
            lines += t.models.map { "#   task \(t.index): \($0.role) model \($0.key)" }
        }
        let command =
            [executable, "train", configPath, "--shard"].map(Self.quoted) + [
                "\"${SLURM_ARRAY_TASK_ID}/\(array.shardCount)\""
            ]
            + extraArguments.map(Self.quoted)
        lines += ["set -eu", "exec " + command.joined(separator: " "), ""]
        return lines.joined(separator: "\n")
    }

    /// The audit script: `mia-audit run`, which finds every model in the store and only attacks.
    /// Submitted with `--dependency=afterok:<array>` (see `auditSubmitArguments`); the script
    /// itself asks Slurm to cancel it when that can never be satisfied.
    var auditScript: String {
        var lines = [
            "#!/bin/bash",
            "#SBATCH --job-name=\(Self.jobName("mia-audit", runName))",
            "#SBATCH --chdir=\(workingDirectory)",
            "#SBATCH --output=\((logFolder as NSString).appendingPathComponent("audit-%j.out"))",
            "#SBATCH --kill-on-invalid-dep=yes",
        ]
        lines += auditResources.directives
        lines += [
            "#",
            "# Written by `mia-audit slurm`: the audit, after every training task succeeded. A failed",
            "# task makes the dependency impossible and Slurm cancels this job instead of keeping it.",
            "set -eu",
            "exec " + ([executable, "run", configPath] + extraArguments).map(Self.quoted).joined(separator: " "),
            "",
        ]
        return lines.joined(separator: "\n")
    }

    /// `sbatch` arguments for the array: the script holds every option.
    var trainSubmitArguments: [String] { ["--parsable", trainScriptPath] }

    /// `sbatch` arguments for the audit: after the array when there is one; cancelled (not left
    /// pending forever) when a task fails.
    func auditSubmitArguments(arrayJobID: String?) -> [String] {
        var args = ["--parsable"]
        if let arrayJobID { args += ["--dependency=afterok:\(arrayJobID)", "--kill-on-invalid-dep=yes"] }
        return args + [auditScriptPath]
    }

    /// Writes the scripts (and makes the log folder, which Slurm does not create).
    public func write() throws {
        try FileManager.default.createDirectory(atPath: logFolder, withIntermediateDirectories: true)
        if let trainScript {
            try AtomicFile.write(trainScript, to: trainScriptPath)
        } else {
            try? FileManager.default.removeItem(atPath: trainScriptPath)
        }
        try AtomicFile.write(auditScript, to: auditScriptPath)
    }

    /// Quotes for the shell when needed: `'it'\''s'`.
    static func quoted(_ s: String) -> String {
        let safe = s.unicodeScalars.allSatisfy {
            CharacterSet.alphanumerics.contains($0) || "/._-=:,+@%".unicodeScalars.contains($0)
        }
        if safe && !s.isEmpty { return s }
        return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    static func jobName(_ prefix: String, _ run: String) -> String {
        let clean = run.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }
        return prefix + "-" + String(clean.prefix(40))
    }
}
