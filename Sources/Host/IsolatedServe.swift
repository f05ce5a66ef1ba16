import ArgumentParser
import AuditCore
import Foundation
import Logging

/// `mia-audit isolated-serve`: the child process that keeps one dataset or model instance of
/// `plugins.isolation: process` (hidden; the host starts it, see `IsolatedSession`). It talks to
/// the host on descriptor 3 only; the plugin's own output goes to the inherited streams.
struct IsolatedServe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "isolated-serve", abstract: "Serve one dataset or model instance to the host (used by the host).",
        shouldDisplay: false)

    @Argument var library: String
    @Argument var kind: String
    @Argument var component: String
    @Option var label: String = "model"
    @Option(name: .customLong("log-level")) var logLevel: String = "warning"

    func run() throws {
        let logger = childLogger(level: logLevel)
        let status = IsolatedServer.run(
            library: library, kind: kind, component: component, label: label, logger: logger)
        if status != 0 { throw ExitCode(status) }
    }
}
