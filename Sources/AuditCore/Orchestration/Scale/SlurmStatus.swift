import Foundation

/// The state of an audit's latest Slurm submission: each array task, its models and its log,
/// and the audit job; read from `jobs.json`, the controller and the model store.
public struct SlurmStatus: Codable, Sendable {
    struct Task: Codable, Sendable {
        /// `<array>_<index>`.
        var id: String
        var index: Int
        var models: [ArrayPlan.Model]
        /// Slurm's state (`PENDING`, `RUNNING`, `COMPLETED`, `FAILED`, ...), or `UNKNOWN` when the
        /// controller no longer remembers the job.
        var state: String
        var reason: String
        var log: String
        /// Whether every model of the task is in the store now.
        var inStore: Bool
    }

    struct Job: Codable, Sendable {
        var id: String
        var state: String
        var reason: String
        var log: String
    }

    /// How many times this audit was submitted (the status is of the last one).
    var submissions: Int
    var submittedAt: String
    var shardCount: Int
    var tasks: [Task]
    var audit: Job

    static let activeStates: Set<String> = [
        "PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESIZING",
        "SUSPENDED", "STAGE_OUT", "SIGNALING", "STOPPED",
    ]

    /// Tasks that ended without success.
    var failedTasks: [Task] {
        tasks.filter {
            !SlurmStatus.activeStates.contains($0.state) && $0.state != "COMPLETED"
                && !($0.state == "UNKNOWN" && $0.inStore)
        }
    }

    /// Whether nothing of the submission is waiting or running any more.
    var isFinished: Bool {
        !tasks.contains { SlurmStatus.activeStates.contains($0.state) }
            && !SlurmStatus.activeStates.contains(audit.state)
    }

    /// The status of the latest submission recorded in `folder` (`<run output>/slurm`); nil when
    /// the audit was never submitted.
    public static func gather(folder: String) throws -> SlurmStatus? {
        let jobs = try SlurmJobs.load(folder: folder)
        guard let last = jobs.submissions.last else { return nil }
        let states = SlurmClient.states([last.arrayJobID, last.auditJobID].compactMap { $0 })
        let store = ModelStore(root: last.modelStore)
        let tasks = last.tasks.map { t -> Task in
            let id = "\(last.arrayJobID ?? "?")_\(t.index)"
            let entry = states[id]
            return Task(
                id: id, index: t.index, models: t.models, state: entry?.state ?? "UNKNOWN", reason: entry?.reason ?? "",
                log: SlurmBatch.taskLog(folder: folder, arrayJobID: last.arrayJobID ?? "?", task: t.index),
                inStore: t.models.allSatisfy { store.record($0.key) != nil })
        }
        let a = states[last.auditJobID]
        let audit = Job(
            id: last.auditJobID, state: a?.state ?? "UNKNOWN", reason: a?.reason ?? "",
            log: SlurmBatch.auditLog(folder: folder, jobID: last.auditJobID))
        return SlurmStatus(
            submissions: jobs.submissions.count, submittedAt: last.submittedAt, shardCount: last.shardCount,
            tasks: tasks, audit: audit)
    }

    /// The report `mia-audit slurm status` prints.
    public var text: String {
        var lines = [
            "submission \(submissions) (at \(submittedAt)): \(tasks.count) training tasks of --shard I/\(shardCount), audit job \(audit.id)"
        ]
        for t in tasks {
            let roles = t.models.map(\.role).joined(separator: ", ")
            var line =
                "  task \(t.id.padding(toLength: 10, withPad: " ", startingAt: 0)) \(t.state.padding(toLength: 11, withPad: " ", startingAt: 0)) \(roles)"
            if t.inStore { line += " (in the store)" }
            lines.append(line)
        }
        var auditLine = "  audit \(audit.id.padding(toLength: 9, withPad: " ", startingAt: 0)) \(audit.state)"
        if !audit.reason.isEmpty && audit.reason != "None" { auditLine += " (\(audit.reason))" }
        lines.append(auditLine)
        for t in failedTasks {
            lines.append("failed: task \(t.id) (\(t.state), \(t.reason)); log: \(t.log)")
        }
        if audit.state == "COMPLETED" {
            lines.append("done: the audit finished; log: \(audit.log)")
        } else if audit.state == "FAILED" || audit.state == "TIMEOUT" || audit.state == "OUT_OF_MEMORY" {
            lines.append("failed: the audit job (\(audit.state)); log: \(audit.log)")
        } else if !failedTasks.isEmpty {
            lines.append("submit again to train only the models still missing: mia-audit slurm CONFIG --submit")
        }
        return lines.joined(separator: "\n")
    }
}

extension SlurmBatch {
    /// Writes the scripts, submits the array (when a model is missing) and the audit after it,
    /// and appends the job ids to `jobs.json`.
    public func submit(modelStore: String) throws -> SlurmJobs.Submission {
        try write()
        let arrayID = trainScript == nil ? nil : try SlurmClient.submit(trainSubmitArguments)
        let auditID: String
        do {
            auditID = try SlurmClient.submit(auditSubmitArguments(arrayJobID: arrayID))
        } catch {
            if let arrayID {
                throw SlurmError(
                    command: "sbatch audit.sbatch",
                    message: "\(error); the training array \(arrayID) was submitted without it")
            }
            throw error
        }
        let stamp = ISO8601DateFormatter().string(from: Date())
        let submission = SlurmJobs.Submission(
            submittedAt: stamp, config: configPath, modelStore: modelStore, shardCount: array.shardCount,
            arrayJobID: arrayID,
            tasks: array.tasks, auditJobID: auditID)
        var jobs = try SlurmJobs.load(folder: folder)
        jobs.submissions.append(submission)
        try jobs.save(folder: folder)
        return submission
    }
}
