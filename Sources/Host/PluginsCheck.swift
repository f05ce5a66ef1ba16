import ArgumentParser
import AuditCore
import Foundation

extension Plugins {
    /// `mia-audit plugins check LIB`: the conformance check a plugin author runs (AuditCore's
    /// `ConformanceCheck`); exit code 1 when any call broke the contract.
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Drive every component of a plugin library through its contract; report each violation with the call.")
        @Argument(help: "The plugin library (.so) to check.") var library: String
        @Option(
            name: .customLong("options"),
            help: "Options for a component, as NAME='{JSON}' (repeatable), over its defaults.")
        var options: [String] = []
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let logger = global.makeLogger()
            var given: [String: String] = [:]
            for o in options {
                guard let eq = o.firstIndex(of: "=") else {
                    printError("--options takes NAME='{JSON}', not `\(o)`")
                    throw ExitStatus.invalidConfig
                }
                given[String(o[..<eq])] = String(o[o.index(after: eq)...])
            }
            guard FileManager.default.fileExists(atPath: library) else {
                printError("no file at \(library)")
                throw ExitStatus.notFound
            }
            installCrashReport()
            var component = ""
            let findings = ConformanceCheck(library: library, options: given, logger: logger).run { f in
                if f.component != component {
                    component = f.component
                    print(component)
                }
                print("  \(f)")
            }
            let violations = findings.filter { $0.outcome == .violation }.count
            print(
                violations == 0
                    ? "\(library): conforms (\(findings.count) checks)"
                    : "\(library): \(violations) violation\(violations == 1 ? "" : "s")")
            if violations > 0 { throw ExitStatus.failed }
        }
    }
}

/// A crash inside a plugin cannot be caught: print the call in progress and die with the signal.
private func installCrashReport() {
    for s in [SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT] {
        signal(s) { number in
            let prefix = "\nVIOLATION crashed (signal \(number)) in "
            _ = prefix.withCString { write(2, $0, strlen($0)) }
            _ = write(2, ConformanceCheck.currentCall, strlen(ConformanceCheck.currentCall))
            _ = write(2, "\n", 1)
            signal(number, SIG_DFL)
            raise(number)
        }
    }
}
