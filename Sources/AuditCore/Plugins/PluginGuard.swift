import CPluginGuard
import Foundation

/// The one place that records which plugin call is in flight, and applies the run's
/// `PluginPolicy` to it.
///
/// Every call into a plugin's C table goes through `inFlight` (Dynamic.swift's `callPlugin`, and
/// the few calls that return no status). The record lives in C (Sources/CPluginGuard) so that the
/// handlers reading it stay async-signal-safe:
/// - a fatal signal (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT) during a call prints which call of
///   which library was in flight, then ends the process with that signal (128 + signal);
/// - `exit()` while a call is in flight prints the call and ends the process with exit 1, so a
///   plugin can never end a run with success;
/// - a call past its time limit (`plugins.timeout_seconds`) is reported by a watchdog thread,
///   which ends the process with exit 1 (a thread cannot be killed; `plugins.isolation: process`
///   kills the child instead, see `IsolatedScore`);
/// - a call still in flight `interruptGrace` seconds after the user's Ctrl-C ends the process
///   with exit 130.
public enum PluginGuard {
    /// How long a plugin call may keep running after Ctrl-C before the host stops at once.
    static let interruptGrace = 5.0

    private static let lock = NSLock()
    nonisolated(unsafe) private static var current = PluginPolicy()
    private static let installed: Void = mia_guard_install()

    /// The policy of the run in progress (set by `StageContext` when an audit starts).
    static var policy: PluginPolicy {
        get { lock.withLock { current } }
        set { lock.withLock { current = newValue } }
    }

    /// The settings that apply to `plugin`'s library.
    static func settings(for plugin: PluginInfo) -> PluginPolicy.Settings {
        policy.settings(library: plugin.path, name: plugin.name)
    }

    /// Runs `body` (one call into `library`) recorded as in flight, under the library's time
    /// limit unless `timed` is false (an isolated call is timed by its own waiter).
    static func inFlight<T>(
        library: String, pluginName: String, what: String, call: String, timed: Bool = true, _ body: () throws -> T
    ) rethrows -> T {
        _ = installed
        let limit = timed ? policy.settings(library: library, name: pluginName).timeoutSeconds ?? 0 : 0
        let token = mia_guard_enter(library, what, call, limit)
        defer { mia_guard_leave(token) }
        return try body()
    }

    /// `inFlight` for a call into a component's table.
    static func inFlight<T>(_ component: ComponentInfo, _ call: String, timed: Bool = true, _ body: () throws -> T)
        rethrows -> T
    {
        try inFlight(
            library: component.plugin.path, pluginName: component.plugin.name,
            what: "\(component.kind) `\(component.name)`",
            call: call, timed: timed, body)
    }

    /// The user pressed Ctrl-C: a plugin call that has not returned `interruptGrace` seconds
    /// later ends the run (exit 130) instead of needing a second Ctrl-C.
    public static func interrupted() {
        _ = installed
        mia_guard_interrupted(interruptGrace)
    }

    /// The host is about to end the process itself (a second Ctrl-C): no plugin is to blame.
    public static func hostExiting() { mia_guard_host_exiting() }

    /// Plugin calls in flight now, on every thread.
    static var callsInFlight: Int { Int(mia_guard_in_flight()) }
}
