import Foundation

/// A Slurm command that failed: which, and what it said.
struct SlurmError: Error, CustomStringConvertible {
    var command: String
    var message: String
    var description: String { "`\(command)` failed: \(message)" }
}

/// The Slurm client commands the host runs (`sbatch`, `squeue`, `scontrol`), found on `PATH`.
/// There is no `sacct` without an accounting database, so states come from the controller,
/// which remembers finished jobs for `MinJobAge` seconds.
enum SlurmClient {
    /// One job or array task as the controller reports it.
    struct Entry: Equatable, Sendable {
        /// `123` for a job, `123_4` for an array task.
        var id: String
        var state: String
        var reason: String
    }

    /// Submits a script; returns the job id (`sbatch --parsable` prints `id` or `id;cluster`).
    static func submit(_ arguments: [String]) throws -> String {
        let (status, out, err) = try run("sbatch", arguments)
        if status == 127 {
            throw SlurmError(
                command: "sbatch",
                message:
                    "not found on PATH: submit from a machine with the Slurm client commands (or start one with scripts/slurm/start-local.sh)"
            )
        }
        guard status == 0 else {
            throw SlurmError(
                command: "sbatch " + arguments.joined(separator: " "),
                message: err.isEmpty ? "exit status \(status)" : err)
        }
        let id = out.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        guard !id.isEmpty, id.allSatisfy(\.isNumber) else {
            throw SlurmError(command: "sbatch", message: "unexpected output `\(out)`")
        }
        return id
    }

    /// The states of `jobIDs` (array ids expand to their tasks), by `squeue -r -t all`, then
    /// `scontrol show job` for what squeue no longer lists. Jobs the controller forgot are absent.
    static func states(_ jobIDs: [String]) -> [String: Entry] {
        var found: [String: Entry] = [:]
        var unknown: [String] = []
        for id in jobIDs {
            if let (status, out, _) = try? run("squeue", ["-r", "-t", "all", "-h", "-j", id, "-o", "%i|%T|%r"]),
                status == 0,
                !out.isEmpty
            {
                for e in parseQueue(out) { found[e.id] = e }
            } else {
                unknown.append(id)
            }
        }
        for id in unknown {
            guard let (status, out, _) = try? run("scontrol", ["show", "job", "-o", id]), status == 0 else { continue }
            for e in parseShowJob(out) { found[e.id] = e }
        }
        return found
    }

    /// Parses `squeue -o '%i|%T|%r'` lines.
    static func parseQueue(_ text: String) -> [Entry] {
        text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: "|", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard f.count >= 3, !f[0].isEmpty else { return nil }
            return Entry(id: f[0], state: f[1], reason: f[2])
        }
    }

    /// Parses `scontrol show job -o` (one job per line of `Key=Value` fields).
    static func parseShowJob(_ text: String) -> [Entry] {
        text.split(separator: "\n").compactMap { line in
            var fields: [String: String] = [:]
            for token in line.split(separator: " ") {
                let kv = token.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                if kv.count == 2 { fields[String(kv[0])] = String(kv[1]) }
            }
            guard let job = fields["JobId"], let state = fields["JobState"] else { return nil }
            var id = job
            if let array = fields["ArrayJobId"], let task = fields["ArrayTaskId"], Int(task) != nil {
                id = "\(array)_\(task)"
            }
            return Entry(id: id, state: state, reason: fields["Reason"] ?? "")
        }
    }

    /// Runs a command found on `PATH`; returns its exit status, standard output and error.
    static func run(_ command: String, _ arguments: [String]) throws -> (Int32, String, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [command] + arguments
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        // Read both before waiting, so a full pipe cannot block the child.
        final class Box: @unchecked Sendable { var data = Data() }
        let errBox = Box()
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) { errBox.data = err.fileHandleForReading.readDataToEndOfFile() }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        let errData = errBox.data
        let text = { (d: Data) in String(decoding: d, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
        return (p.terminationStatus, text(outData), text(errData))
    }
}
