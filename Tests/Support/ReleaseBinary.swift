import Foundation

/// The package root, from this file's path.
public let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// The release binary that `scripts/test.sh` builds before the tests: audits run as a user runs
/// them, through the release plugins (a debug model backend would be ~50x slower).
public let binary = packageRoot + "/.build/release/mia-audit"

/// What a run of the binary printed and how it ended.
public struct CommandResult {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs `mia-audit` with `arguments` (and `environment` added to this process's) and waits for it.
public func mia(_ arguments: [String], environment: [String: String] = [:]) throws -> CommandResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: binary)
    p.arguments = arguments
    if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    // Read standard error on another thread, so that neither pipe can fill up and block the child.
    // Safe: written by the reader thread only, read here only after `stderrDone` is signalled.
    nonisolated(unsafe) var e = Data()
    let stderrDone = DispatchSemaphore(value: 0)
    DispatchQueue.global().async {
        e = err.fileHandleForReading.readDataToEndOfFile()
        stderrDone.signal()
    }
    let o = out.fileHandleForReading.readDataToEndOfFile()
    stderrDone.wait()
    p.waitUntilExit()
    return CommandResult(
        status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
        stderr: String(decoding: e, as: UTF8.self))
}
