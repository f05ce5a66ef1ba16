import Foundation

/// The last bytes a worker wrote to its standard error, collected by a background thread.
///
/// The thread reads the pipe until its end (the worker and everything it started have exited)
/// and keeps at most `capacity` bytes, so a chatty worker never blocks on a full pipe and never
/// grows the host's memory.
final class StderrTail: @unchecked Sendable {
    static let capacity = 64 * 1024

    private let lock = NSLock()
    private var bytes: [UInt8] = []
    private let finished = DispatchSemaphore(value: 0)

    /// Starts reading `fd`, which the tail now owns and closes at the end of the stream.
    init(reading fd: Int32) {
        let thread = Thread { [self] in
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                lock.lock()
                bytes += chunk[..<n]
                if bytes.count > 2 * Self.capacity { bytes.removeFirst(bytes.count - Self.capacity) }
                lock.unlock()
            }
            close(fd)
            finished.signal()
        }
        thread.name = "python worker stderr"
        thread.start()
    }

    /// Waits until the stream ended (or `seconds` passed), so a dead worker's last words are in.
    func waitForEnd(seconds: Double) {
        if finished.wait(timeout: .now() + seconds) == .success { finished.signal() }
    }

    /// The last `count` lines, each cut to `width` characters.
    func lines(last count: Int, width: Int = 200) -> [String] {
        lock.lock()
        let text = String(decoding: bytes.suffix(Self.capacity), as: UTF8.self)
        lock.unlock()
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map { String($0) }
        lines = Array(lines.suffix(count))
        return lines.map { $0.count > width ? String($0.prefix(width)) + "…" : $0 }
    }
}
