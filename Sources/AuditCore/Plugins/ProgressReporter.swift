import Foundation
import Logging

/// Prints progress of long steps: one rewritten line on a terminal, plain lines otherwise (CI
/// logs), nothing when quiet. Thread-safe.
public final class ProgressReporter: ProgressSink, @unchecked Sendable {
    public enum Mode: Sendable { case terminal, lines, quiet }

    let mode: Mode
    private let lock = NSLock()
    private var lastLine = Date.distantPast
    private var starts: [String: Date] = [:]
    private var dirty = false

    public init(mode: Mode) { self.mode = mode }

    /// Terminal when stderr is a TTY, lines otherwise.
    public static func automatic(quiet: Bool) -> ProgressReporter {
        if quiet { return ProgressReporter(mode: .quiet) }
        return ProgressReporter(mode: isatty(2) != 0 ? .terminal : .lines)
    }

    func report(task: String, done: Int, total: Int) {
        guard mode != .quiet else { return }
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        let start = starts[task] ?? now
        if starts[task] == nil { starts[task] = now }
        var text = total > 0 ? "\(task): \(done)/\(total)" : "\(task): \(done)"
        if total > 0 && done > 0 {
            let elapsed = now.timeIntervalSince(start)
            let rate = Double(done) / max(elapsed, 1e-9)
            let left = (Double(total) - Double(done)) / max(rate, 1e-9)
            text += String(format: " (%.2f/s, %@ left)", rate, Self.duration(left))
        }
        switch mode {
        case .terminal:
            FileHandle.standardError.write(Data(("\r\u{1B}[2K" + text).utf8))
            dirty = true
            if done >= total && total > 0 {
                FileHandle.standardError.write(Data("\n".utf8))
                dirty = false
            }
        case .lines:
            // At most one line every 2 s per reporter, plus the last one of each task.
            if done >= total || now.timeIntervalSince(lastLine) >= 2 {
                FileHandle.standardError.write(Data((text + "\n").utf8))
                lastLine = now
            }
        case .quiet: break
        }
        if done >= total && total > 0 { starts[task] = nil }
    }

    /// Ends a rewritten line before other output.
    public func finishLine() {
        lock.lock()
        defer { lock.unlock() }
        if dirty { FileHandle.standardError.write(Data("\n".utf8)); dirty = false }
    }

    /// `s` seconds as `42s`, `3m07s`, `5h02m`, `12d04h`; a year or more (a huge epoch count) is
    /// `over a year`, never a negative or overflowing number.
    static func duration(_ s: Double) -> String {
        guard s.isFinite, s >= 0 else { return "?" }
        if s < 60 { return String(format: "%.0fs", s) }
        if s >= 365 * 86400 { return "over a year" }
        let t = Int(s)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        if t < 3600 { return "\(t / 60)m\(two(t % 60))s" }
        if t < 86400 { return "\(t / 3600)h\(two((t % 3600) / 60))m" }
        return "\(t / 86400)d\(two((t % 86400) / 3600))h"
    }
}
