import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A worker process: the user's Python module behind `python -m mia_worker.serve`.
///
/// Its standard input and output are one end of a Unix socket pair (so the plugin writes with
/// `MSG_NOSIGNAL` and a dead worker never raises SIGPIPE in the host); its standard error is
/// another socket read by a `StderrTail`. The worker runs in a process group of its own, so stopping it
/// also stops whatever it started (data-loader processes, for instance).
final class WorkerProcess {
    let pid: pid_t
    /// The plugin's end of the socket pair, non-blocking.
    let channel: Int32
    let stderr: StderrTail
    private var status: Int32?

    /// Starts `arguments[0]` (looked up in PATH) with `arguments` and `environment`.
    init(arguments: [String], environment: [String: String]) throws {
        var sockets: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &sockets) == 0 else {
            throw SpawnError("cannot create a socket pair: \(String(cString: strerror(errno)))")
        }
        // Standard error is a socket pair too: it is the one way to get both ends close-on-exec
        // atomically here (pipe2 is not visible to Swift), so no other thread's child inherits it.
        var errPipe: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &errPipe) == 0 else {
            close(sockets[0])
            close(sockets[1])
            throw SpawnError("cannot create a pipe: \(String(cString: strerror(errno)))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, sockets[1], 0)
        posix_spawn_file_actions_adddup2(&actions, sockets[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, envp)
        close(sockets[1])
        close(errPipe[1])
        guard result == 0 else {
            close(sockets[0])
            close(errPipe[0])
            throw SpawnError("cannot start `\(arguments[0])`: \(String(cString: strerror(result)))")
        }
        self.pid = pid
        channel = sockets[0]
        _ = fcntl(channel, F_SETFL, fcntl(channel, F_GETFL) | O_NONBLOCK)
        stderr = StderrTail(reading: errPipe[0])
    }

    deinit {
        stop()
        close(channel)
    }

    /// Whether the process has been reaped.
    var hasExited: Bool { status != nil }

    /// Ends the worker's input: a worker reading its next request sees the end of the stream.
    func closeInput() { shutdown(channel, Int32(SHUT_WR)) }

    /// Kills the worker's process group and reaps it.
    func stop() {
        guard status == nil else { return }
        kill(-pid, SIGKILL)
        kill(pid, SIGKILL)
        reap(waitingSeconds: 5)
    }

    /// Reaps the process if it exits within `seconds`; returns its wait status, nil if it lives on.
    @discardableResult
    func reap(waitingSeconds seconds: Double) -> Int32? {
        if let status { return status }
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            var s: Int32 = 0
            let r = waitpid(pid, &s, WNOHANG)
            if r == pid || (r < 0 && errno == ECHILD) {
                status = r == pid ? s : -1
                return status
            }
            if Date() >= deadline { return nil }
            usleep(10_000)
        }
    }

    /// How the process ended, in words ("exited with status 3", "was killed by signal 11").
    var exitDescription: String {
        guard let status else { return "is still running" }
        if status == -1 { return "ended (status unknown)" }
        let signal = status & 0x7F
        if signal == 0 { return "exited with status \((status >> 8) & 0xFF)" }
        let name = [
            SIGSEGV: "SIGSEGV", SIGABRT: "SIGABRT", SIGKILL: "SIGKILL", SIGBUS: "SIGBUS", SIGTERM: "SIGTERM",
            SIGFPE: "SIGFPE",
        ][signal]
        return "was killed by signal \(signal)" + (name.map { " (\($0))" } ?? "")
    }
}

/// The worker could not be started.
struct SpawnError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
