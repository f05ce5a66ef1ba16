import ArgumentParser
import AuditCore
import Foundation
import Logging

/// `mia-audit isolated-score`: the child process of `plugins.isolation: process` (hidden; the
/// host starts it, see `DynamicAttack.scoreInChildProcess`). Its outcome is in the shared block.
struct IsolatedScore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: DynamicAttack.isolatedSubcommand,
        abstract: "Run one attack's score in this process (used by the host).",
        shouldDisplay: false)

    @Argument var block: String
    @Argument var library: String
    @Argument var component: String
    @Option var label: String = "attack"
    @Option(name: .customLong("log-level")) var logLevel: String = "warning"

    func run() throws {
        let logger = childLogger(level: logLevel)
        let status = IsolatedWorker.run(
            block: block, library: library, component: component, label: label, logger: logger)
        if status != 0 { throw ExitCode(status) }
    }
}

/// The logger of a child process of `plugins.isolation: process` (`isolated-score`,
/// `isolated-serve`): standard error at the level the host passed (`warning` when unknown).
func childLogger(level name: String) -> Logger {
    let level = Logger.Level(rawValue: name) ?? .warning
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = level
        return handler
    }
    var logger = Logger(label: "mia-audit")
    logger.logLevel = level
    return logger
}
