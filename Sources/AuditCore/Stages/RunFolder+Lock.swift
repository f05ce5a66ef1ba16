import Foundation

/// Whether the process that wrote a `running` state still runs the folder's run.
///
/// A run holds an exclusive `flock` on its folder's `run.lock` from `RunFolder.begin` to
/// `RunFolder.finish`. The kernel drops the lock when the process ends, `kill -9` and crashes
/// included, so a `running` state whose lock is free was interrupted. Folders written before the
/// lock existed fall back on the recorded pid and host: a pid that no longer exists on the host
/// that recorded it is gone; on another host nothing can be told.
enum RunLiveness: Equatable, Sendable {
    /// The process still holds the folder (its lock is taken, or its pid is alive here).
    case live(pid: Int32)
    /// The process is gone: it crashed or was killed before the run finished.
    case interrupted(pid: Int32)
    /// No lock file and recorded on another host: cannot be told from here.
    case unknown(pid: Int32, host: String)
}

/// The run folder's lock, held by the process running it (see `RunLiveness`). Released by
/// `release()` or when the process ends; the descriptor is close-on-exec so a plugin's child
/// process never keeps a folder locked after the run.
final class RunLock {
    private var fd: Int32

    init(fd: Int32) { self.fd = fd }

    func release() {
        guard fd >= 0 else { return }
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    deinit { release() }
}

/// A run folder that another live process is running: a second run there is refused.
struct RunFolderBusy: Error, CustomStringConvertible {
    let folder: String
    let state: RunState?

    var description: String {
        let who = state.map {
            "process \($0.pid)" + ($0.host.map { " on \($0)" } ?? "") + ", started \($0.startedAt)"
                + ($0.stage.map { ", in stage `\($0)`" } ?? "")
        }
        return "\(folder): another run is in progress in this folder (\(who ?? "its state is not written yet")); "
            + "wait for it to end, or give this run another `run.name` or `run.output`"
    }
}

extension RunFolder {
    static let lockFile = "run.lock"

    /// Takes the folder's lock without waiting; nil when another process holds it.
    static func lock(_ folder: String) throws -> RunLock? {
        let file = path(folder, lockFile)
        let fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw NpyError(path: file, message: "cannot open the run's lock file: \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno
            close(fd)
            if reason == EWOULDBLOCK { return nil }
            throw NpyError(path: file, message: "cannot lock the run folder: \(String(cString: strerror(reason)))")
        }
        return RunLock(fd: fd)
    }

    /// Whether some process holds `folder`'s lock; nil when the folder has no lock file.
    static func lockIsHeld(_ folder: String) -> Bool? {
        let fd = open(path(folder, lockFile), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        guard flock(fd, LOCK_SH | LOCK_NB) == 0 else { return errno == EWOULDBLOCK }
        flock(fd, LOCK_UN)
        return false
    }

    /// Whether the process of a `running` state in `folder` still runs it (see `RunLiveness`).
    static func liveness(of state: RunState, in folder: String) -> RunLiveness {
        if let held = lockIsHeld(folder) { return held ? .live(pid: state.pid) : .interrupted(pid: state.pid) }
        if let host = state.host, host != ProcessInfo.processInfo.hostName {
            return .unknown(pid: state.pid, host: host)
        }
        let gone = state.pid <= 0 || (kill(state.pid, 0) != 0 && errno == ESRCH)
        return gone ? .interrupted(pid: state.pid) : .live(pid: state.pid)
    }

    /// The sentence for a `running` state that is not live: "interrupted (process N is gone)".
    static func interruptedSentence(_ state: RunState) -> String {
        "the run was interrupted (process \(state.pid) is gone): it started \(state.startedAt)"
            + (state.host.map { " on \($0)" } ?? "") + (state.stage.map { " and stopped in stage `\($0)`" } ?? "")
    }
}
