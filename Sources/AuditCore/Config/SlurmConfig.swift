import Foundation

/// The `slurm:` section of an audit config: what `mia-audit slurm` asks of the cluster for its
/// jobs. Every key is optional (nil leaves it to the cluster's defaults); each command-line
/// option of `mia-audit slurm` overrides its key.
///
/// ```yaml
/// slurm:
///   cpus_per_task: 2          # default: run.threads
///   memory: 4G                # sbatch --mem
///   time: "1:00:00"           # sbatch --time
///   partition: short
///   account: lab
///   max_parallel: 16          # at most 16 array tasks at once (--array=...%16)
///   sbatch_options: ["--qos=normal", "--constraint=avx2"]
///   audit: {memory: 16G, time: "2:00:00"}   # the audit job, when it needs other resources
/// ```
public struct SlurmConfig: Equatable, Sendable {
    var cpusPerTask: Int?
    var memory: String?
    var time: String?
    var partition: String?
    var account: String?
    /// The array throttle `%K`: at most K training tasks run at once.
    public var maxParallel: Int?
    /// More `#SBATCH` options, written as given into both scripts.
    var sbatchOptions: [String]
    /// `slurm.audit`: CPUs, memory and time of the audit job, when they differ from the training tasks'.
    var auditCPUsPerTask: Int?
    var auditMemory: String?
    var auditTime: String?

    init(
        cpusPerTask: Int? = nil, memory: String? = nil, time: String? = nil, partition: String? = nil,
        account: String? = nil,
        maxParallel: Int? = nil, sbatchOptions: [String] = [], auditCPUsPerTask: Int? = nil, auditMemory: String? = nil,
        auditTime: String? = nil
    ) {
        self.cpusPerTask = cpusPerTask
        self.memory = memory
        self.time = time
        self.partition = partition
        self.account = account
        self.maxParallel = maxParallel
        self.sbatchOptions = sbatchOptions
        self.auditCPUsPerTask = auditCPUsPerTask
        self.auditMemory = auditMemory
        self.auditTime = auditTime
    }

    static let keys = [
        "cpus_per_task", "memory", "time", "partition", "account", "max_parallel", "sbatch_options", "audit",
    ]
    static let auditKeys = ["cpus_per_task", "memory", "time"]

    /// Reads the section (absent: every key unset); every problem names its key and line.
    static func parse(_ node: ConfigNode?) throws -> SlurmConfig {
        guard let node else { return SlurmConfig() }
        try node.checkKeys(keys)
        func checked(_ key: String, in n: ConfigNode = node, _ check: (String) -> String?) throws -> String? {
            guard let v = n[key] else { return nil }
            let s = try v.string()
            if let problem = check(s) { throw v.error(problem) }
            return s
        }
        func positive(_ key: String, in n: ConfigNode = node) throws -> Int? {
            guard let v = n[key] else { return nil }
            let i = try v.int()
            guard i >= 1 else { throw v.error("must be at least 1") }
            return i
        }
        var c = SlurmConfig()
        c.cpusPerTask = try positive("cpus_per_task")
        c.memory = try checked("memory", Self.memoryProblem)
        c.time = try checked("time", Self.timeProblem)
        c.partition = try checked("partition") { Self.nameProblem($0, "a partition") }
        c.account = try checked("account") { Self.nameProblem($0, "an account") }
        c.maxParallel = try positive("max_parallel")
        c.sbatchOptions =
            try node["sbatch_options"]?.list().map { item in
                let s = try item.string()
                if let problem = Self.sbatchOptionProblem(s) { throw item.error(problem) }
                return s
            } ?? []
        if let audit = node["audit"] {
            try audit.checkKeys(auditKeys)
            c.auditCPUsPerTask = try positive("cpus_per_task", in: audit)
            c.auditMemory = try checked("memory", in: audit, Self.memoryProblem)
            c.auditTime = try checked("time", in: audit, Self.timeProblem)
        }
        return c
    }

    /// What `--mem` accepts: an integer of megabytes, or with a unit `K`, `M`, `G` or `T`.
    public static func memoryProblem(_ s: String) -> String? {
        s.range(of: "^[0-9]+[KMGT]?$", options: .regularExpression) != nil
            ? nil
            : "`\(s)` is not a Slurm memory size: an integer of megabytes, or with a unit K, M, G or T (`4G`, `500M`)"
    }

    /// What `--time` accepts: `M`, `M:S`, `H:M:S`, `D-H`, `D-H:M`, `D-H:M:S`, or `UNLIMITED`.
    public static func timeProblem(_ s: String) -> String? {
        let pattern = "^([0-9]+(:[0-9]+){0,2}|[0-9]+-[0-9]+(:[0-9]+){0,2}|UNLIMITED|INFINITE)$"
        return s.range(of: pattern, options: .regularExpression) != nil
            ? nil
            : "`\(s)` is not a Slurm time limit: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS (quote it in YAML: \"1:00:00\")"
    }

    static func nameProblem(_ s: String, _ what: String) -> String? {
        s.range(of: "^[A-Za-z0-9_.,:+-]+$", options: .regularExpression) != nil
            ? nil
            : "`\(s)` is not \(what) name Slurm accepts (letters, digits and `_ . , : + -`, no spaces)"
    }

    /// Options the scripts set themselves, or that have their own key.
    static let ownedOptions: [String: String] = [
        "--array": "the array is the missing models", "--output": "logs go to <run output>/slurm/logs",
        "--error": "logs go to <run output>/slurm/logs", "--chdir": "the scripts run where `mia-audit slurm` ran",
        "--job-name": "jobs are named after run.name", "--dependency": "the audit job waits for the array",
        "--parsable": "set when submitting", "--wait": "`mia-audit slurm status` follows the jobs",
        "--cpus-per-task": "use `slurm.cpus_per_task`", "--mem": "use `slurm.memory`", "--time": "use `slurm.time`",
        "--partition": "use `slurm.partition`", "--account": "use `slurm.account`",
    ]

    /// An extra `#SBATCH` option must be one long option (`--qos=normal`), not one the scripts own.
    public static func sbatchOptionProblem(_ s: String) -> String? {
        guard s.hasPrefix("-"), !s.contains("\n"), !s.contains("\r"), !s.contains(" ") else {
            return "`\(s)` is not one sbatch option (write `--qos=normal`: one option, no spaces)"
        }
        let name = String(s.prefix { $0 != "=" })
        if let why = ownedOptions[name] { return "`\(name)` is set by mia-audit (\(why))" }
        return nil
    }

    /// The training tasks' and the audit job's resources; a non-nil argument (a command-line
    /// option) overrides its key, and CPUs default to `threads`.
    public func resources(
        threads: Int, cpusPerTask: Int? = nil, memory: String? = nil, time: String? = nil, partition: String? = nil,
        account: String? = nil, sbatchOptions: [String]? = nil
    ) -> (train: SlurmResources, audit: SlurmResources) {
        let options = sbatchOptions ?? self.sbatchOptions
        let train = SlurmResources(
            cpusPerTask: cpusPerTask ?? self.cpusPerTask ?? threads, memory: memory ?? self.memory,
            time: time ?? self.time,
            partition: partition ?? self.partition, account: account ?? self.account, sbatchOptions: options)
        var audit = train
        // A command-line option sets both jobs; otherwise `slurm.audit` wins over the section's key.
        audit.cpusPerTask = cpusPerTask ?? auditCPUsPerTask ?? train.cpusPerTask
        audit.memory = memory ?? auditMemory ?? train.memory
        audit.time = time ?? auditTime ?? train.time
        return (train, audit)
    }
}
