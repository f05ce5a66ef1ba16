import Foundation

/// `<run output>/slurm/jobs.json`: every submission of an audit to Slurm, oldest first, so that
/// `mia-audit slurm status` can find the jobs again. Written atomically.
public struct SlurmJobs: Codable, Sendable {
    /// One `mia-audit slurm --submit`.
    public struct Submission: Codable, Sendable {
        var submittedAt: String
        var config: String
        var modelStore: String
        var shardCount: Int
        /// Nil when no model was missing (only the audit was submitted).
        public var arrayJobID: String?
        var tasks: [ArrayPlan.Task]
        public var auditJobID: String
    }

    var submissions: [Submission] = []

    public static func path(folder: String) -> String { (folder as NSString).appendingPathComponent("jobs.json") }

    /// The submissions recorded in `folder` (`<run output>/slurm`); none when there is no file.
    static func load(folder: String) throws -> SlurmJobs {
        guard let data = FileManager.default.contents(atPath: path(folder: folder)) else { return SlurmJobs() }
        do {
            return try JSONDecoder().decode(SlurmJobs.self, from: data)
        } catch {
            throw NpyError(path: path(folder: folder), message: "not a jobs file: \(error)")
        }
    }

    func save(folder: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(self), to: SlurmJobs.path(folder: folder))
    }
}
