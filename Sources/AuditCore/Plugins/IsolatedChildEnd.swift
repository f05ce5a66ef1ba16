import Foundation
import PluginKit

/// How an isolated plugin call ended when it did not finish: the one wording of every
/// `plugins.isolation: process` failure, for attacks (`DynamicAttack.scoreInChildProcess`) and for
/// dataset and model instances (`IsolatedSession`) alike. `origin` names the component and its
/// library ("model `native` (/path/lib.so), run in a child process (plugins.isolation: process),").
enum IsolatedChildEnd {
    static func cancelled(_ call: String, origin: String) -> PluginError {
        PluginError(.cancelled, "the child process running `\(call)` was stopped", origin: origin)
    }

    static func timedOut(_ call: String, limit: Double?, origin: String) -> PluginError {
        PluginError(
            .internal,
            String(
                format: "`%@` ran past plugins.timeout_seconds = %g s; the child process was killed", call, limit ?? 0),
            origin: "\(origin) failed in \(call)")
    }

    /// The child ended by `signal` during `call`.
    static func killed(by signal: Int32, _ call: String, origin: String) -> PluginError {
        if signal == SIGINT {
            return PluginError(.cancelled, "the child process running `\(call)` was interrupted", origin: origin)
        }
        return PluginError(
            .internal, "the child process was killed by \(signalName(signal)) (signal \(signal))",
            origin: "\(origin) crashed in \(call)")
    }

    /// The child exited with `status` while `call` had not returned: the plugin called `exit`.
    static func exited(_ status: Int32, _ call: String, origin: String) -> PluginError {
        PluginError(
            .internal, "the plugin called exit(\(status)) during `\(call)`", origin: "\(origin) failed in \(call)")
    }

    /// The origin of every error of an isolated component.
    static func origin(_ component: ComponentInfo) -> String {
        "\(component.kind) `\(component.name)` (\(component.plugin.path)), run in a child process (plugins.isolation: process),"
    }

    /// The child's environment: the host reports the child's crash; the Swift runtime's backtrace
    /// of it would only be noise.
    static var environment: [String: String] {
        ProcessInfo.processInfo.environment.merging(["SWIFT_BACKTRACE": "enable=no"]) { _, new in new }
    }

    /// The child's `--log-level`, from the host's logger.
    static func logLevel(_ bridge: HostBridge) -> String {
        bridge.logger.logLevel <= .info ? "info" : (bridge.logger.logLevel <= .warning ? "warning" : "error")
    }
}

func signalName(_ signal: Int32) -> String {
    let names: [Int32: String] = [
        SIGSEGV: "SIGSEGV", SIGBUS: "SIGBUS", SIGILL: "SIGILL", SIGFPE: "SIGFPE", SIGABRT: "SIGABRT",
        SIGKILL: "SIGKILL",
        SIGTERM: "SIGTERM", SIGINT: "SIGINT", SIGPIPE: "SIGPIPE", SIGTRAP: "SIGTRAP",
    ]
    return names[signal] ?? "signal \(signal)"
}
