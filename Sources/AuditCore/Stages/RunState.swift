import Foundation
import Logging
import PluginKit

/// The state of a run, in its folder's `run.json`, written atomically at every change: a failed
/// or killed run never leaves results that look complete (issue 13, item 6).
///
/// - `running`: written when the run starts and at each stage (`stage`); a run still `running`
///   whose process is gone crashed or was killed (`RunFolder.liveness`: the run holds
///   `run.lock` while it runs). A rerun resumes it (the store keeps the finished models).
/// - `complete`: written after `metrics.json` and `report.html`.
/// - `failed`: the stage that failed, the plugin (its path, component and call) when a plugin
///   call failed, and the error.
///
/// At the start, the results of an earlier run in the same folder (`metrics.json`,
/// `report.html`, `roc/`, its `run.json`) are moved to `previous/<UTC date-time>/`, so that a
/// failing rerun leaves none of them beside the new `config.yaml`. The model store (`models/`),
/// `signals/` (rewritten by every run) and the keyed score cache (`scores/`, reused only when its
/// key matches) stay where they are; `mia-audit report` rebuilds only from a `complete` run.
struct RunState: Codable, Equatable, Sendable {
    enum Status: String, Codable, Sendable { case running, complete, failed }

    var state: Status
    var toolVersion: String
    var startedAt: String
    var finishedAt: String?
    /// The stage in progress (running) or that failed (failed).
    var stage: String?
    /// The plugin call that failed: "plugin at PATH, component NAME, call".
    var plugin: String?
    var error: String?
    /// Where the results of the previous run in this folder were moved, if there were any.
    var previousResults: String?
    /// The process that runs (ran) it, and its host.
    var pid: Int32
    var host: String? = ProcessInfo.processInfo.hostName

    enum CodingKeys: String, CodingKey {
        case state, stage, plugin, error, pid, host
        case toolVersion = "tool_version", startedAt = "started_at", finishedAt = "finished_at", previousResults =
            "previous_results"
    }
}

/// Reads and writes a run folder's `RunState`.
enum RunFolder {
    static let stateFile = "run.json"
    /// The results of a run, set aside when another run starts in the same folder.
    static let results = ["metrics.json", "report.html", "roc", stateFile]

    static func path(_ folder: String, _ name: String) -> String { (folder as NSString).appendingPathComponent(name) }
    static func now() -> String { ISO8601DateFormatter().string(from: Date()) }

    static func read(_ folder: String) -> RunState? {
        guard let data = FileManager.default.contents(atPath: path(folder, stateFile)) else { return nil }
        return try? JSONDecoder().decode(RunState.self, from: data)
    }

    static func write(_ state: RunState, _ folder: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(state), to: path(folder, stateFile))
    }

    /// Starts a run in `folder`: takes the folder's lock (refusing a folder another live process
    /// runs), sets the earlier run's results aside and records `running`. An earlier run left
    /// `running` by a process that is gone is set aside as `failed` with "interrupted" and
    /// logged: this run resumes it.
    static func begin(_ folder: String, logger: Logger? = nil) throws -> RunLock {
        let fm = FileManager.default
        try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
        guard let lock = try lock(folder) else { throw RunFolderBusy(folder: folder, state: read(folder)) }
        if var earlier = read(folder), earlier.state == .running {
            let sentence = interruptedSentence(earlier)
            logger?.notice(
                "\(path(folder, stateFile)): \(sentence); resuming it, with the finished models in the store")
            earlier.state = .failed
            earlier.finishedAt = now()
            earlier.error = sentence + "; found by the next run"
            try write(earlier, folder)
        }
        let present = results.filter { fm.fileExists(atPath: path(folder, $0)) }
        var previous: String?
        if !present.isEmpty {
            let stamp = now().replacingOccurrences(of: ":", with: "")
            var target = path(folder, "previous/\(stamp)")
            var k = 1
            while fm.fileExists(atPath: target) {
                k += 1
                target = path(folder, "previous/\(stamp)-\(k)")
            }
            try fm.createDirectory(atPath: target, withIntermediateDirectories: true)
            for name in present { try fm.moveItem(atPath: path(folder, name), toPath: path(target, name)) }
            previous = target
        }
        let state = RunState(
            state: .running, toolVersion: toolVersion, startedAt: now(), previousResults: previous, pid: getpid())
        try write(state, folder)
        return lock
    }

    /// Records the stage a running run is in.
    static func enter(stage: String, _ folder: String) {
        guard var s = read(folder), s.state == .running else { return }
        s.stage = stage
        try? write(s, folder)
    }

    /// Records the end of a run: complete, or failed with `error`.
    static func finish(_ folder: String, error: Error? = nil) {
        var s = read(folder) ?? RunState(state: .running, toolVersion: toolVersion, startedAt: now(), pid: getpid())
        s.finishedAt = now()
        if let error {
            s.state = .failed
            s.error = "\(error)"
            s.plugin = (error as? PluginError)?.origin
        } else {
            s.state = .complete
            s.stage = nil
        }
        try? write(s, folder)
    }

    /// Runs `body` as the run in `folder`: `begin`, then `complete` or `failed` with the error.
    static func recording<T>(_ folder: String, logger: Logger? = nil, _ body: () throws -> T) throws -> T {
        let lock = try begin(folder, logger: logger)
        defer { lock.release() }
        do {
            let result = try body()
            finish(folder)
            return result
        } catch {
            finish(folder, error: error)
            throw error
        }
    }

    /// Refuses a folder whose run is not complete, saying why. A folder without `run.json` (made
    /// before runs recorded their state) is accepted when it has `metrics.json`.
    static func requireComplete(_ folder: String) throws {
        let file = path(folder, stateFile)
        guard FileManager.default.fileExists(atPath: file) else { return }
        guard let s = read(folder) else { throw NpyError(path: file, message: "the run's state cannot be read") }
        switch s.state {
        case .complete: return
        case .failed:
            throw NpyError(
                path: file,
                message: "the run failed" + (s.stage.map { " in stage `\($0)`" } ?? "")
                    + (s.plugin.map { " (\($0))" } ?? "")
                    + ": \(s.error ?? "no error recorded"); it has no results to report. Fix the cause and run it again"
            )
        case .running:
            let started = "started \(s.startedAt)" + (s.stage.map { ", in stage `\($0)`" } ?? "")
            switch liveness(of: s, in: folder) {
            case .live(let pid):
                throw NpyError(
                    path: file, message: "the run has not finished (\(started)): process \(pid) is still running it")
            case .interrupted:
                throw NpyError(
                    path: file,
                    message: interruptedSentence(s)
                        + "; it crashed or was killed. Run it again to resume: finished models are kept in the store")
            case .unknown(let pid, let host):
                throw NpyError(
                    path: file,
                    message:
                        "the run has not finished (\(started)): process \(pid) on host \(host) recorded it; run `mia-audit report` there to tell whether it still runs"
                )
            }
        }
    }
}
