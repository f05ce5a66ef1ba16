import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Why an exchange with the worker did not produce an answer.
enum ExchangeFailure: Error {
    /// No complete answer before the deadline.
    case timedOut
    /// The worker closed its end (it exited or crashed).
    case closed
    /// The worker sent bytes that are not an answer.
    case outOfProtocol(String)
    /// The host asked to stop.
    case cancelled
}

extension WorkerProcess {
    /// Sends `request` and returns the worker's answer, never waiting past `seconds`.
    ///
    /// One thread does both directions with `poll`: it writes the request while reading whatever
    /// the worker writes, so neither side can block the other on a full socket buffer, whatever
    /// the sizes of the arrays. `isCancelled` is asked every 100 ms. On any failure the caller
    /// must stop the worker: its state is unknown.
    func exchange(
        _ request: WorkerMessage, seconds: Double, isCancelled: () -> Bool
    ) throws -> (WorkerAnswer, [(name: String, npy: ArraySlice<UInt8>)]) {
        let segments = request.segments()
        var segment = 0
        var sent = 0  // bytes of `segments[segment]` already sent
        var done: Bool { segment == segments.count }
        var parser = AnswerParser()
        let deadline = Date().addingTimeInterval(seconds)
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { throw ExchangeFailure.timedOut }
            if isCancelled() { throw ExchangeFailure.cancelled }
            var fd = pollfd(fd: channel, events: Int16(POLLIN) | (done ? 0 : Int16(POLLOUT)), revents: 0)
            let ready = poll(&fd, 1, Int32(min(remaining, 0.1) * 1000) + 1)
            if ready < 0 {
                if errno == EINTR { continue }
                throw ExchangeFailure.closed
            }
            if ready == 0 { continue }
            if fd.revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
                let n = chunk.withUnsafeMutableBytes { recv(channel, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                if n == 0 { throw ExchangeFailure.closed }
                if n < 0 {
                    if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR { throw ExchangeFailure.closed }
                } else {
                    chunk.withUnsafeBytes { parser.append(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
                    do {
                        if let answer = try parser.complete() {
                            if !done {
                                throw ProtocolViolation("it answered before reading the whole request")
                            }
                            return answer
                        }
                    } catch let violation as ProtocolViolation {
                        throw ExchangeFailure.outOfProtocol(violation.description)
                    }
                }
            }
            if !done, fd.revents & Int16(POLLOUT) != 0 {
                let n = segments[segment].withUnsafeBytes { raw in
                    send(
                        channel, raw.baseAddress! + sent, min(raw.count - sent, 1 << 20),
                        Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
                }
                if n < 0 {
                    if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR { throw ExchangeFailure.closed }
                } else {
                    sent += n
                    while segment < segments.count && sent == segments[segment].count {
                        segment += 1
                        sent = 0
                    }
                }
            }
        }
    }
}
