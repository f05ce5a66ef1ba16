import Foundation
import Testing

@testable import AuditCore

@Suite struct SlurmBatchTests {
    func batch(missing: [Int], total: Int = 8, folder: String = "/runs/a b/slurm") -> SlurmBatch {
        let models = missing.map { ArrayPlan.Model(index: $0, role: "reference \($0)", key: "k\($0)") }
        return SlurmBatch(
            executable: "/opt/mia/bin/mia-audit", configPath: "/cfg/it's.yaml", workingDirectory: "/work",
            runName: "my run",
            folder: folder, array: ArrayPlan(total: total, missing: models),
            trainResources: SlurmResources(
                cpusPerTask: 2, memory: "4G", time: "1:00:00", partition: "gpu", account: "lab"),
            auditResources: SlurmResources(cpusPerTask: 2),
            extraArguments: ["--plugin-path", "/p"])
    }

    func lines(_ s: String?, prefix: String) -> [String] {
        (s ?? "").split(separator: "\n").map(String.init).filter { $0.hasPrefix(prefix) }
    }

    @Test func arrayHoldsOnlyTheMissingModels() throws {
        let b = batch(missing: [1, 4, 7])
        let script = try #require(b.trainScript)
        #expect(lines(script, prefix: "#SBATCH --array") == ["#SBATCH --array=1,4,7"])
        #expect(script.contains("--shard \"${SLURM_ARRAY_TASK_ID}/8\""))
        #expect(lines(script, prefix: "#SBATCH --output") == ["#SBATCH --output=/runs/a b/slurm/logs/%A_%a.out"])
        for line in [
            "--cpus-per-task=2", "--mem=4G", "--time=1:00:00", "--partition=gpu", "--account=lab", "--chdir=/work",
        ] {
            #expect(script.contains("#SBATCH \(line)\n"))
        }
        #expect(script.contains("#   task 4: reference 4 model k4"))
        #expect(!script.contains("task 2:"))
    }

    @Test func auditDependsOnTheArrayAndDiesWithIt() {
        let b = batch(missing: [0, 3])
        #expect(
            b.auditSubmitArguments(arrayJobID: "123") == [
                "--parsable", "--dependency=afterok:123", "--kill-on-invalid-dep=yes", b.auditScriptPath,
            ])
        #expect(b.auditScript.contains("#SBATCH --kill-on-invalid-dep=yes\n"))
        #expect(b.auditScript.contains("#SBATCH --output=/runs/a b/slurm/logs/audit-%j.out\n"))
        #expect(!b.auditScript.contains("--mem"))
        #expect(b.trainSubmitArguments == ["--parsable", b.trainScriptPath])
    }

    @Test func nothingMissingSubmitsOnlyTheAudit() {
        let b = batch(missing: [])
        #expect(b.trainScript == nil)
        #expect(b.auditSubmitArguments(arrayJobID: nil) == ["--parsable", b.auditScriptPath])
    }

    /// The scripts run as written: with `/bin/echo` as the binary, bash prints the exact argument
    /// list each command would get, quoting included.
    @Test func scriptsRunUnderBashWithTheRightArguments() throws {
        var b = batch(missing: [1, 4, 7])
        b.executable = "/bin/echo"
        func runBash(_ script: String, task: String) throws -> String {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/bash")
            p.arguments = ["-c", script]
            p.environment = ["SLURM_ARRAY_TASK_ID": task, "PATH": "/usr/bin:/bin"]
            let out = Pipe()
            p.standardOutput = out
            try p.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            #expect(p.terminationStatus == 0)
            return String(decoding: data, as: UTF8.self)
        }
        #expect(
            try runBash(#require(b.trainScript), task: "4") == "train /cfg/it's.yaml --shard 4/8 --plugin-path /p\n")
        #expect(try runBash(b.auditScript, task: "") == "run /cfg/it's.yaml --plugin-path /p\n")
    }

    @Test func writesScriptsAndLogFolder() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mia-batch-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let b = batch(missing: [2], folder: folder + "/slurm")
        try b.write()
        #expect(
            FileManager.default.contents(atPath: b.trainScriptPath).map { String(decoding: $0, as: UTF8.self) }
                == b.trainScript)
        var isDir: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: b.logFolder, isDirectory: &isDir) && isDir.boolValue)
        // Nothing missing any more: the stale array script goes away.
        try batch(missing: [], folder: folder + "/slurm").write()
        #expect(!FileManager.default.fileExists(atPath: b.trainScriptPath))
    }

    @Test func jobsFileRoundTrips() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mia-jobs-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(try SlurmJobs.load(folder: folder).submissions.isEmpty)
        let task = ArrayPlan.Task(index: 3, models: [ArrayPlan.Model(index: 3, role: "reference 3", key: "abc")])
        let s = SlurmJobs.Submission(
            submittedAt: "t", config: "/c.yaml", modelStore: "/s", shardCount: 5, arrayJobID: "41", tasks: [task],
            auditJobID: "42")
        try SlurmJobs(submissions: [s, s]).save(folder: folder)
        let back = try SlurmJobs.load(folder: folder)
        #expect(back.submissions.count == 2)
        #expect(back.submissions[1].tasks == [task])
        #expect(back.submissions[1].auditJobID == "42")
    }
}

@Suite struct SlurmOutputTests {
    /// Lines as `squeue -r -t all -h -o '%i|%T|%r'` printed them on the local Slurm 22.05.
    @Test func parsesSqueue() {
        let text = "2|CANCELLED|DependencyNeverSatisfied\n1_1|COMPLETED|None\n1_3|FAILED|NonZeroExitCode\n"
        #expect(
            SlurmClient.parseQueue(text) == [
                .init(id: "2", state: "CANCELLED", reason: "DependencyNeverSatisfied"),
                .init(id: "1_1", state: "COMPLETED", reason: "None"),
                .init(id: "1_3", state: "FAILED", reason: "NonZeroExitCode"),
            ])
    }

    @Test func parsesScontrolShowJob() {
        let text = """
            JobId=1 ArrayJobId=1 ArrayTaskId=3 JobName=wrap UserId=root(0) JobState=FAILED Reason=NonZeroExitCode Dependency=(null)
            JobId=2 JobName=wrap JobState=PENDING Reason=Dependency Dependency=afterok:1_*(unfulfilled)
            """
        #expect(
            SlurmClient.parseShowJob(text) == [
                .init(id: "1_3", state: "FAILED", reason: "NonZeroExitCode"),
                .init(id: "2", state: "PENDING", reason: "Dependency"),
            ])
    }

    @Test func statusNamesTheFailedTaskAndItsLog() {
        let m = { (i: Int) in [ArrayPlan.Model(index: i, role: "reference \(i)", key: "k\(i)")] }
        let status = SlurmStatus(
            submissions: 1, submittedAt: "t", shardCount: 5,
            tasks: [
                .init(
                    id: "7_1", index: 1, models: m(1), state: "COMPLETED", reason: "None", log: "/l/7_1.out",
                    inStore: true),
                .init(
                    id: "7_2", index: 2, models: m(2), state: "FAILED", reason: "NonZeroExitCode", log: "/l/7_2.out",
                    inStore: false),
                .init(
                    id: "7_3", index: 3, models: m(3), state: "UNKNOWN", reason: "", log: "/l/7_3.out", inStore: true),
            ],
            audit: .init(id: "8", state: "CANCELLED", reason: "DependencyNeverSatisfied", log: "/l/audit-8.out"))
        #expect(status.failedTasks.map(\.id) == ["7_2"])
        #expect(status.isFinished)
        #expect(status.text.contains("failed: task 7_2 (FAILED, NonZeroExitCode); log: /l/7_2.out"))
        var running = status
        running.audit.state = "PENDING"
        #expect(!running.isFinished)
    }
}
