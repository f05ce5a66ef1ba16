import Foundation
import Testing

@testable import AuditCore

/// Against a real single-node Slurm on localhost (scripts/slurm/start-local.sh): an array of
/// reference models with one failing task, the audit cancelled rather than left pending, a
/// resubmission of only the missing model, and the gathered audit equal to a local run's.
/// Runs only with MIA_TEST_SLURM=1 (it needs root, and installs Slurm when missing).
@Suite(.serialized) struct SlurmClusterTests {
    static let enabled = ProcessInfo.processInfo.environment["MIA_TEST_SLURM"] == "1"
    static let state = ProcessInfo.processInfo.environment["MIA_SLURM_STATE"] ?? "/tmp/mia-slurm"
    static let environment = ["SLURM_CONF": state + "/slurm.conf"]

    let binary: String
    let dir: String

    init() throws {
        binary = try ReleaseBinary.path()
        dir = try ReleaseBinary.scratch("slurm")
    }

    func mia(_ arguments: [String], timeout: Double = 60) throws -> Command {
        try Command.run(binary, arguments, cwd: dir, environment: Self.environment, timeout: timeout)
    }

    /// Polls `mia-audit slurm status --json` until nothing is waiting or running.
    func waitForSubmission(_ config: String, timeout: Double = 90) throws -> SlurmStatus {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let r = try mia(["slurm", "status", config, "--json", "-q"])
            try #require(r.status == 0, "slurm status failed: \(r.stderr)")
            let status = try JSONDecoder().decode(SlurmStatus.self, from: Data(r.stdout.utf8))
            if status.isFinished { return status }
            try #require(Date() < deadline, "the submission did not finish in \(timeout) s:\n\(status.text)")
            usleep(300_000)
        }
    }

    @Test(
        .enabled(if: enabled, "set MIA_TEST_SLURM=1 to run against a local Slurm (scripts/slurm/start-local.sh)"),
        .timeLimit(.minutes(4)))
    func arrayFailureResubmissionAndAuditEqualToALocalRun() throws {
        let started = Date()
        let scripts = ReleaseBinary.packageRoot + "/scripts/slurm"
        let start = try Command.run("/bin/bash", [scripts + "/start-local.sh"], cwd: dir, timeout: 300)
        try #require(start.status == 0, "start-local.sh failed: \(start.stdout)\(start.stderr)")
        let weStarted = !start.stdout.contains("already running")
        defer {
            if weStarted {
                let t = Date()
                let stop = try? Command.run("/bin/bash", [scripts + "/stop-local.sh"], cwd: dir, timeout: 60)
                print(
                    "\(stop?.stdout ?? "stop-local.sh did not run")(stopped in \(String(format: "%.1f", Date().timeIntervalSince(t))) s)"
                )
            }
            try? FileManager.default.removeItem(atPath: dir)
        }

        let attacks = ["loss-threshold", "lira"]
        let config = dir + "/cluster.yaml"
        try ReleaseBinary.config(output: "cluster/run", attacks: attacks).write(
            toFile: config, atomically: true, encoding: .utf8)
        try ReleaseBinary.config(output: "local/run", attacks: attacks).write(
            toFile: dir + "/local.yaml", atomically: true, encoding: .utf8)
        let run = dir + "/cluster/run"
        let store = ModelStore(root: run + "/models")

        // The scripts name every model with its key; break reference 2's folder so that its
        // task fails where it saves the model (model.bin is a folder, not a file).
        let written = try mia(["slurm", config, "--cpus-per-task", "1", "--time", "5"])
        try #require(written.status == 0, "\(written.stderr)")
        let script = try String(contentsOfFile: run + "/slurm/train.sbatch", encoding: .utf8)
        #expect(script.contains("#SBATCH --array=0-4\n"))
        let keys = Dictionary(
            uniqueKeysWithValues: script.split(separator: "\n").compactMap { line -> (Int, String)? in
                let f = line.split(separator: " ")
                guard f.count >= 6, f[0] == "#", f[1] == "task", f[f.count - 2] == "model", let i = Int(f[2].dropLast())
                else { return nil }
                return (i, String(f[f.count - 1]))
            })
        try #require(keys.count == 5)
        let broken = try #require(keys[2])
        try FileManager.default.createDirectory(atPath: store.modelPath(broken), withIntermediateDirectories: true)

        let submitted = try mia(["slurm", config, "--submit", "--cpus-per-task", "1", "--time", "5"])
        try #require(submitted.status == 0, "\(submitted.stdout)\(submitted.stderr)")
        var jobs = try SlurmJobs.load(folder: run + "/slurm")
        #expect(jobs.submissions.map { $0.tasks.map(\.index) } == [[0, 1, 2, 3, 4]])

        let first = try waitForSubmission(config)
        let arrayID = try #require(jobs.submissions[0].arrayJobID)
        #expect(first.failedTasks.map(\.id) == ["\(arrayID)_2"])
        #expect(first.tasks.filter { $0.state == "COMPLETED" }.count == 4)
        // The audit was cancelled, not left pending forever.
        #expect(first.audit.state == "CANCELLED", "audit job: \(first.audit.state) \(first.audit.reason)")
        let log = SlurmBatch.taskLog(folder: run + "/slurm", arrayJobID: arrayID, task: 2)
        let text = try mia(["slurm", "status", config, "-q"]).stdout
        #expect(text.contains("failed: task \(arrayID)_2 (FAILED, NonZeroExitCode); log: \(log)"), "\(text)")
        #expect(
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("error"),
            "the log should hold the task's error")
        #expect(keys.filter { store.record($0.value) != nil }.map(\.key).sorted() == [0, 1, 3, 4])
        #expect(!FileManager.default.fileExists(atPath: run + "/metrics.json"))

        // Repair and submit again: only reference 2 is sent.
        try FileManager.default.removeItem(atPath: store.modelPath(broken))
        let again = try mia(["slurm", config, "--submit", "--cpus-per-task", "1", "--time", "5"])
        try #require(again.status == 0, "\(again.stdout)\(again.stderr)")
        jobs = try SlurmJobs.load(folder: run + "/slurm")
        #expect(jobs.submissions.count == 2)
        #expect(jobs.submissions.last?.tasks.map(\.index) == [2])
        let second = try waitForSubmission(config)
        #expect(second.failedTasks.isEmpty, "\(second.text)")
        #expect(second.audit.state == "COMPLETED", "\(second.text)")
        #expect(keys.values.allSatisfy { store.record($0) != nil })

        // The same audit run locally, in a folder and store sharing nothing with the cluster's.
        let local = try mia(["run", dir + "/local.yaml", "-q"], timeout: 120)
        #expect(local.status == 0, "\(local.stderr)")
        let auc = { (path: String) throws -> [String: Double] in
            let json =
                try JSONSerialization.jsonObject(with: try Data(contentsOf: URL(fileURLWithPath: path)))
                as? [String: Any]
            let byAttack = json?["attacks"] as? [String: [String: Any]] ?? [:]
            return byAttack.compactMapValues { $0["auc"] as? Double }
        }
        let clusterAUC = try auc(run + "/metrics.json")
        #expect(Set(clusterAUC.keys) == Set(attacks))
        #expect(clusterAUC == (try auc(dir + "/local/run/metrics.json")))
        print(
            "slurm: array, failure, resubmission and audit in \(String(format: "%.1f", Date().timeIntervalSince(started))) s; AUC \(clusterAUC)"
        )
    }

    /// The config's `slurm:` section reaches the cluster: the array throttle (`max_parallel`)
    /// and an extra sbatch option are accepted, and the array runs to the audit.
    @Test(
        .enabled(if: enabled, "set MIA_TEST_SLURM=1 to run against a local Slurm (scripts/slurm/start-local.sh)"),
        .timeLimit(.minutes(3)))
    func configSectionReachesTheCluster() throws {
        let scripts = ReleaseBinary.packageRoot + "/scripts/slurm"
        let start = try Command.run("/bin/bash", [scripts + "/start-local.sh"], cwd: dir, timeout: 300)
        try #require(start.status == 0, "start-local.sh failed: \(start.stdout)\(start.stderr)")
        let weStarted = !start.stdout.contains("already running")
        defer {
            if weStarted { _ = try? Command.run("/bin/bash", [scripts + "/stop-local.sh"], cwd: dir, timeout: 60) }
            try? FileManager.default.removeItem(atPath: dir)
        }
        let config = dir + "/throttled.yaml"
        try
            (ReleaseBinary.config(output: "throttled/run", references: 2) + """
                slurm:
                  cpus_per_task: 1
                  time: "5"
                  max_parallel: 1
                  sbatch_options: ["--nice=10"]

                """).write(toFile: config, atomically: true, encoding: .utf8)
        let submitted = try mia(["slurm", config, "--submit"])
        try #require(submitted.status == 0, "\(submitted.stdout)\(submitted.stderr)")
        #expect(submitted.stdout.contains("--array=0-2%1"), "\(submitted.stdout)")
        let jobs = try SlurmJobs.load(folder: dir + "/throttled/run/slurm")
        let arrayID = try #require(jobs.submissions.last?.arrayJobID)
        // Slurm holds the throttle and the option as given.
        let shown = try Command.run(
            "/usr/bin/scontrol", ["show", "job", arrayID], cwd: dir, environment: Self.environment)
        #expect(shown.stdout.contains("ArrayTaskThrottle=1"), "\(shown.stdout)")
        #expect(shown.stdout.contains("Nice=10"), "\(shown.stdout)")
        var mostRunning = 0
        let deadline = Date().addingTimeInterval(90)
        while true {
            let r = try mia(["slurm", "status", config, "--json", "-q"])
            let status = try JSONDecoder().decode(SlurmStatus.self, from: Data(r.stdout.utf8))
            mostRunning = max(mostRunning, status.tasks.filter { $0.state == "RUNNING" }.count)
            if status.isFinished {
                #expect(status.failedTasks.isEmpty && status.audit.state == "COMPLETED", "\(status.text)")
                break
            }
            try #require(Date() < deadline, "the submission did not finish:\n\(status.text)")
            usleep(100_000)
        }
        #expect(mostRunning <= 1, "\(mostRunning) tasks ran at once under max_parallel: 1")
    }
}
