import Foundation
import MIATestSupport
import Testing

@testable import AuditCore

/// A run killed with `kill -9` leaves `run.json` at `running`; `report` and a rerun tell it from a
/// live run by the folder's lock (`run.lock`). The run is held in stage `attacks` by the
/// fixture's `hang-attack`, so no training is needed; `Tests/ScaleTests/ResumeTests.swift`
/// kills a run mid-training and checks the resumed models.
extension PluginSafetyTests {
    @Test func aKilledRunIsToldFromALiveOneAndResumed() throws {
        let (path, output) = try config("liveness", attacks: ["plugin: hang-attack"])
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["run", path, "--quiet"]
        p.standardError = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        let pid = p.processIdentifier
        let deadline = Date().addingTimeInterval(60)
        while RunFolder.read(output)?.stage != "attacks" && p.isRunning && Date() < deadline { usleep(20_000) }
        try #require(RunFolder.read(output)?.stage == "attacks" && p.isRunning, "the run did not reach its attack")

        // Live: report says so, and a second run in the same folder is refused.
        let liveReport = try mia(["report", output])
        #expect(
            liveReport.status == 1 && liveReport.stderr.contains("process \(pid) is still running it"),
            "\(liveReport.stderr)")
        let second = try mia(["run", path, "--quiet"])
        #expect(second.status == 1, "\(second.stderr)")
        #expect(second.stderr.contains("another run is in progress in this folder (process \(pid)"), "\(second.stderr)")
        #expect(second.stderr.contains("in stage `attacks`"), "\(second.stderr)")
        #expect(RunFolder.read(output)?.pid == pid, "the refused run must not touch run.json")

        // kill -9: run.json stays `running`, and its process is known to be gone.
        kill(pid, SIGKILL)
        p.waitUntilExit()
        let stale = try #require(RunFolder.read(output))
        #expect(
            stale.state == .running && stale.pid == pid && stale.host == ProcessInfo.processInfo.hostName, "\(stale)")
        #expect(RunFolder.liveness(of: stale, in: output) == .interrupted(pid: pid))
        let report = try mia(["report", output])
        #expect(report.status == 1, "\(report.stderr)")
        #expect(
            report.stderr.contains("interrupted (process \(pid) is gone)") && report.stderr.contains("stage `attacks`"),
            "\(report.stderr)")

        // A rerun says what it resumes, completes, and sets the interrupted state aside as failed.
        let (fixed, _) = try config("liveness", attacks: ["plugin: loss-threshold"])
        let rerun = try mia(["run", fixed])
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(
            rerun.stderr.contains("interrupted (process \(pid) is gone)") && rerun.stderr.contains("resuming it"),
            "\(rerun.stderr)")
        let done = try #require(RunFolder.read(output))
        #expect(done.state == .complete && done.pid != pid, "\(done)")
        let previous = try #require(done.previousResults)
        let aside = try #require(RunFolder.read(previous))
        #expect(aside.state == .failed && aside.pid == pid && aside.stage == "attacks", "\(aside)")
        #expect(aside.error?.contains("interrupted (process \(pid) is gone)") == true, "\(aside)")
        #expect(try mia(["report", output]).status == 0)
    }
}
