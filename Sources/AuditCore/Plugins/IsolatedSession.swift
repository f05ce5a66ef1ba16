import CPluginGuard
import Foundation
import Kernels
import PluginABI
import PluginKit

/// One dataset or model instance living in a child process (`plugins.isolation: process`):
/// `mia-audit isolated-serve` (`IsolatedServer`) loads the same library and keeps the instance
/// for the session's whole life; every call on it is a request over a socket pair
/// (Sources/CPluginGuard/include/isolated_session.h) whose arrays travel in a shared-memory block
/// sized for that call (`IsolatedCallBlock`).
///
/// Owns the child: a crash, `exit`, or a call past `plugins.timeout_seconds` ends it and becomes
/// the error `IsolatedChildEnd` words (library path, component, call, signal); every later call
/// then fails at once. Used by one thread at a time (the owner of its `DynamicModel` or
/// `DynamicDataset`).
final class IsolatedSession {
    /// The hidden subcommand of `mia-audit` that runs the child's side.
    static let subcommand = "isolated-serve"

    let component: ComponentInfo
    let origin: String
    private let bridge: HostBridge
    private let timeout: Double?
    private var pid: pid_t
    private var channel: Int32
    /// Why the child is gone, once it is.
    private var failure: PluginError?

    /// A child serving `component` when its library is isolated; nil when it runs in process.
    static func start(_ component: ComponentInfo, bridge: HostBridge) throws -> IsolatedSession? {
        let settings = PluginGuard.settings(for: component.plugin)
        guard settings.isolation == .process else { return nil }
        return try IsolatedSession(component, bridge: bridge, timeout: settings.timeoutSeconds)
    }

    private init(_ component: ComponentInfo, bridge: HostBridge, timeout: Double?) throws {
        self.component = component
        self.bridge = bridge
        self.timeout = timeout
        origin = IsolatedChildEnd.origin(component)
        let arguments = [
            "/proc/self/exe", Self.subcommand, component.plugin.path, "\(component.kind)", component.name,
            "--label", bridge.label, "--log-level", IsolatedChildEnd.logLevel(bridge),
        ]
        let environment = IsolatedChildEnd.environment.map { "\($0.key)=\($0.value)" }
        var channel: Int32 = -1
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        pid = mia_isolated_spawn("/proc/self/exe", argv, envp, &channel)
        guard pid > 0 else {
            throw PluginError(
                .io, "cannot start the child process: \(String(cString: strerror(errno)))", origin: origin)
        }
        self.channel = channel
    }

    deinit { close() }

    /// Sends `request` (its arrays in `block`) and waits for its reply; `onEvent` receives what
    /// the call reports on the way (epochs, checkpoints). A plugin error comes back as the
    /// `PluginError` it would be in process, with this session's origin.
    @discardableResult
    func call(
        _ name: String, _ request: mia_isolated_message_t, block: IsolatedCallBlock? = nil,
        onEvent: ((mia_isolated_message_t) throws -> Void)? = nil
    ) throws -> mia_isolated_message_t {
        if let failure {
            throw PluginError(failure.status, "the child process ended earlier (\(failure.message))", origin: origin)
        }
        var request = request
        // The host sets BLAS threading per stage (side-by-side trainings share `run.threads`);
        // the model's bits depend on it, so the child follows.
        request.blas_threads = Int32(BLAS.threadCount)
        if let block { Self.setText(&request.block, block.childPath) }
        let reply = try PluginGuard.inFlight(component, "\(name) (child process)", timed: false) {
            () throws -> mia_isolated_message_t in
            try send(request, name)
            return try awaitReply(name, onEvent: onEvent)
        }
        guard reply.status == MIA_OK else {
            var message = Self.text(reply.text)
            if message.isEmpty { message = "(the plugin gave no message)" }
            throw PluginError(
                PluginStatus(rawValue: reply.status) ?? .internal, message, origin: "\(origin) failed in \(name)")
        }
        return reply
    }

    /// Sends one message that gets no reply of its own (a checkpoint's answer).
    func send(_ message: mia_isolated_message_t, _ name: String) throws {
        var message = message
        if mia_isolated_send(channel, &message) != 0 { throw end(name) }
    }

    private func awaitReply(_ name: String, onEvent: ((mia_isolated_message_t) throws -> Void)?) throws
        -> mia_isolated_message_t
    {
        var reply = mia_isolated_message_t()
        var started = Date()
        while true {
            switch mia_isolated_receive(channel, &reply, 50) {
            case 0:
                if bridge.cancellation.isCancelled { throw stop(IsolatedChildEnd.cancelled(name, origin: origin)) }
                if let timeout, Date().timeIntervalSince(started) > timeout {
                    throw stop(IsolatedChildEnd.timedOut(name, limit: timeout, origin: origin))
                }
                continue
            case 1: break
            default: throw end(name)
            }
            switch Int(reply.kind) {
            case Int(MIA_SESSION_DONE): return reply
            case Int(MIA_SESSION_PROGRESS):
                bridge.progressSink?.report(
                    task: Self.text(reply.text), done: Int(reply.values.0), total: Int(reply.values.1))
            default:
                try onEvent?(reply)
            }
            // The limit is per report: a training that reports each epoch may run for many limits.
            started = Date()
        }
    }

    /// Kills the child for `error` and keeps `error` as the session's end.
    private func stop(_ error: PluginError) -> PluginError {
        kill(pid, SIGKILL)
        reap()
        failure = error
        return error
    }

    /// The child's end of file during `name`: reaps it and words how it ended.
    private func end(_ name: String) -> PluginError {
        let status = reap()
        let error: PluginError =
            status & 0x7f != 0
            ? IsolatedChildEnd.killed(by: status & 0x7f, name, origin: origin)
            : IsolatedChildEnd.exited((status >> 8) & 0xff, name, origin: origin)
        failure = error
        return error
    }

    @discardableResult
    private func reap() -> Int32 {
        var status: Int32 = 0
        guard pid > 0 else { return 0 }
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        pid = -1
        Glibc.close(channel)
        channel = -1
        return status
    }

    /// Destroys the instance and lets the child end (killed if it does not within 10 s).
    func close() {
        guard pid > 0 else { return }
        if failure == nil {
            var request = mia_isolated_message_t()
            request.kind = Int32(MIA_SESSION_CLOSE)
            var reply = mia_isolated_message_t()
            if mia_isolated_send(channel, &request) != 0 || mia_isolated_receive(channel, &reply, 10_000) != 1 {
                kill(pid, SIGKILL)
            }
        } else {
            kill(pid, SIGKILL)
        }
        reap()
    }

    // MARK: the message's fixed text fields

    static func setText<T>(_ field: inout T, _ value: String) {
        withUnsafeMutableBytes(of: &field) { m in
            let bytes = Array(value.utf8.prefix(m.count - 1))
            m.copyBytes(from: bytes)
            m[bytes.count] = 0
        }
    }

    static func text<T>(_ field: T) -> String {
        withUnsafeBytes(of: field) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
    }

    /// A request of `kind`.
    static func request(_ kind: Int32) -> mia_isolated_message_t {
        var m = mia_isolated_message_t()
        m.kind = kind
        return m
    }
}
