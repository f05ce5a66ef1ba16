import Foundation
import Testing

@testable import AuditCore

/// Issue 9: `kill -9` a run at any point and run it again: only unfinished models are trained,
/// and the scores are bit-identical to an uninterrupted run's.
@Suite(.serialized) struct ResumeTests {
    @Test(.timeLimit(.minutes(3))) func killedRunResumesToIdenticalScores() throws {
        let binary = try ReleaseBinary.path()
        let dir = try ReleaseBinary.scratch("resume")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Models that take a few tenths of a second each, so the kill lands mid-run.
        let shape = { (out: String) in
            ReleaseBinary.config(
                output: out, auditRecords: 2000, populationRecords: 200, hidden: 64, epochs: 4, references: 6)
        }
        try shape("killed/run").write(toFile: dir + "/killed.yaml", atomically: true, encoding: .utf8)
        try shape("whole/run").write(toFile: dir + "/whole.yaml", atomically: true, encoding: .utf8)
        let store = dir + "/killed/run/models"

        let started = Date()
        let (first, out, err) = try Command.start(binary, ["run", dir + "/killed.yaml", "-q"], cwd: dir)
        defer { unlink(out); unlink(err) }
        while first.isRunning && ReleaseBinary.finishedModels(store: store).isEmpty
            && Date().timeIntervalSince(started) < 60
        {
            usleep(5_000)
        }
        try #require(
            first.isRunning,
            "the run ended before a model was stored: \((try? String(contentsOfFile: err, encoding: .utf8)) ?? "")")
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        let killedAfter = Date().timeIntervalSince(started)
        let finishedAtKill = ReleaseBinary.finishedModels(store: store)
        #expect(first.terminationReason == .uncaughtSignal)
        #expect(
            !finishedAtKill.isEmpty && finishedAtKill.count < 7, "the kill should leave some models and miss others")
        #expect(!FileManager.default.fileExists(atPath: dir + "/killed/run/metrics.json"))
        // run.json stays `running` with the killed pid; `report` tells it was interrupted.
        let state = try #require(RunFolder.read(dir + "/killed/run"))
        #expect(
            state.state == .running && state.pid == first.processIdentifier && state.stage == "train models", "\(state)"
        )
        let report = try Command.run(binary, ["report", dir + "/killed/run"], cwd: dir, timeout: 30)
        #expect(
            report.status == 1 && report.stderr.contains("interrupted (process \(first.processIdentifier) is gone)"),
            "\(report.stderr)")

        let resumeStart = Date()
        let resumed = try Command.run(binary, ["run", dir + "/killed.yaml", "-v"], cwd: dir, timeout: 150)
        let resumeSeconds = Date().timeIntervalSince(resumeStart)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(
            resumed.stderr.contains("interrupted (process \(first.processIdentifier) is gone)"), "\(resumed.stderr)")
        #expect(RunFolder.read(dir + "/killed/run")?.state == .complete)
        // Only the unfinished models were trained again.
        #expect(
            resumed.stderr.contains("\(finishedAtKill.count) in the store, \(7 - finishedAtKill.count) to train"),
            "\(resumed.stderr)")

        let whole = try Command.run(binary, ["run", dir + "/whole.yaml", "-q"], cwd: dir, timeout: 120)
        #expect(whole.status == 0, "\(whole.stderr)")

        let names = try FileManager.default.contentsOfDirectory(atPath: dir + "/whole/run/scores").sorted()
        #expect(names.contains { $0.hasSuffix(".npy") })
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/killed/run/scores").sorted() == names)
        for name in names where name.hasSuffix(".npy") {
            let a = FileManager.default.contents(atPath: dir + "/killed/run/scores/" + name)
            let b = FileManager.default.contents(atPath: dir + "/whole/run/scores/" + name)
            #expect(a != nil && a == b, "scores/\(name) differ between the resumed and the uninterrupted run")
        }
        print(
            "resume: killed after \(String(format: "%.1f", killedAfter)) s with \(finishedAtKill.count)/7 models stored; resumed in \(String(format: "%.1f", resumeSeconds)) s"
        )
    }
}
