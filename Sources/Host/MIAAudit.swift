import ArgumentParser
import AuditCore
import Foundation
import Logging

/// `mia-audit`: the command line. Commands and exit codes only; the work is in AuditCore.
@main
struct MIAAudit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mia-audit",
        abstract: "Audit a machine-learning model for membership inference: which training records it leaks.",
        discussion: """
            Exit codes: 0 success; 1 the run failed (a plugin error, an I/O error); 2 the config is \
            invalid; 3 a plugin named on the command line was not found; 130 interrupted.
            """,
        version: toolVersion,
        subcommands: [
            Run.self, Validate.self, Plugins.self, Report.self, Train.self, Plan.self, StudyCommand.self, Slurm.self,
            Doctor.self, IsolatedScore.self, IsolatedServe.self,
        ],
        defaultSubcommand: nil)

    /// Parses the arguments with the shared options accepted before the command too.
    static func main() {
        if let problem = vectorLevelSettingProblem() {
            FileHandle.standardError.write(Data("error: \(problem)\n".utf8))
            Foundation.exit(1)
        }
        main(GlobalArguments.hoisted(Array(CommandLine.arguments.dropFirst())))
    }
}

/// Options every command shares.
struct GlobalOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Print only errors and the final table.")
    var quiet = false

    @Flag(name: .shortAndLong, help: "Print every stage and every plugin's log lines.")
    var verbose = false

    @Option(name: .customLong("plugin-path"), help: "Another folder to look for plugins in (repeatable).")
    var pluginPaths: [String] = []

    func makeLogger() -> Logger {
        // The default shows warnings and notices (what a run reused from the store, and why).
        let level: Logger.Level = verbose ? .info : (quiet ? .error : .notice)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return RedactingLogHandler(handler)
        }
        var logger = Logger(label: "mia-audit")
        logger.logLevel = level
        return logger
    }
}

/// Exit codes documented in the README.
enum ExitStatus {
    static let failed = ExitCode(1)
    static let invalidConfig = ExitCode(2)
    static let notFound = ExitCode(3)
    static let interrupted = ExitCode(130)
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data(("error: " + Secrets.shared.redact(text) + "\n").utf8))
}
