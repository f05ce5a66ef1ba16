import Foundation

/// How the host guards against a misbehaving plugin (`plugins.isolation`, `plugins.timeout_seconds`,
/// `plugins.on_failure`, `plugins.libraries`; documented in configs/README.md).
///
/// Owned by the config; the runner hands it to `PluginGuard` for the length of a run.
struct PluginPolicy: Sendable, Equatable {
    /// Where an attack's `score` runs.
    enum Isolation: String, Sendable, CaseIterable {
        /// In the host process (the default): fastest; a crash ends the run (with a message
        /// naming the plugin call in flight).
        case none
        /// In a child process that loads the same library: a crash, `exit` or time-out of the
        /// child becomes an error naming the library, the component and the call.
        case process
    }

    /// What a failed attack does to the run.
    enum OnFailure: String, Sendable, CaseIterable {
        /// The run stops with exit 1 (the default).
        case stop
        /// The attack is left out of the results, with an error line; the other attacks run.
        case `continue`
    }

    /// The settings of one library.
    struct Settings: Sendable, Equatable {
        var isolation: Isolation = .none
        /// Time limit of one plugin call, in seconds; nil for none.
        var timeoutSeconds: Double?
    }

    var global = Settings()
    var onFailure: OnFailure = .stop
    /// Per-library overrides, keyed as written in the config: a library's path (resolved against
    /// the config's folder), its file name (`libMIAAttacksReference.so`), or its plugin name.
    var libraries: [LibraryOverride] = []

    /// `plugins.libraries.<key>`: settings that replace the global ones for one library.
    struct LibraryOverride: Sendable, Equatable {
        var key: String
        var isolation: Isolation?
        var timeoutSeconds: Double?
        /// The key's line in the config, for errors.
        var line: Int? = nil
    }

    init() {}

    /// The settings for the library at `path` whose plugin is called `name`.
    func settings(library path: String, name: String) -> Settings {
        var s = global
        let file = (path as NSString).lastPathComponent
        for l in libraries where l.key == path || l.key == file || l.key == name {
            if let i = l.isolation { s.isolation = i }
            if let t = l.timeoutSeconds { s.timeoutSeconds = t }
        }
        return s
    }

    static let keys = ["paths", "isolation", "timeout_seconds", "on_failure", "libraries"]

    /// Reads the guard keys of the `plugins:` mapping (its other keys are read by `AuditConfig`).
    static func parse(_ plugins: ConfigNode?, baseDir: String) throws -> PluginPolicy {
        var policy = PluginPolicy()
        guard let plugins else { return policy }
        policy.global.isolation = try plugins["isolation"].map(isolation) ?? .none
        policy.global.timeoutSeconds = try plugins["timeout_seconds"].map(timeout)
        if let node = plugins["on_failure"] {
            let s = try node.string()
            guard let v = OnFailure(rawValue: s) else {
                throw node.error("must be `stop` or `continue`, not `\(s)`")
            }
            policy.onFailure = v
        }
        if let libraries = plugins["libraries"] {
            for (key, value, keyLine) in try libraries.entries() {
                try value.checkKeys(["isolation", "timeout_seconds"])
                let resolved = key.contains("/") ? AuditConfig.resolve(key, baseDir) : key
                policy.libraries.append(
                    LibraryOverride(
                        key: resolved, isolation: try value["isolation"].map(isolation),
                        timeoutSeconds: try value["timeout_seconds"].map(timeout),
                        line: keyLine ?? value.line))
            }
        }
        return policy
    }

    private static func isolation(_ node: ConfigNode) throws -> Isolation {
        let s = try node.string()
        guard let v = Isolation(rawValue: s) else { throw node.error("must be `none` or `process`, not `\(s)`") }
        return v
    }

    private static func timeout(_ node: ConfigNode) throws -> Double {
        let t = try node.double()
        guard t.isFinite, t > 0 else { throw node.error("must be a positive number of seconds, not `\(t)`") }
        return t
    }
}
