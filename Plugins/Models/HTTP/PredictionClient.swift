import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Sends batches of records to a prediction API: retries with backoff, a shared rate limit,
/// and a hard deadline on every request.
final class PredictionClient: @unchecked Sendable {
    struct Settings {
        var url: URL
        var headers: [(String, String)]
        var timeout: Double
        var retries: Int
        var backoff: Double
        /// Requests per second across all concurrent requests; 0: no limit.
        var ratePerSecond: Double
    }

    let settings: Settings
    private let session: URLSession
    private let lock = NSLock()
    private var nextStart = Date.distantPast

    init(_ settings: Settings) {
        self.settings = settings
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = settings.timeout
        configuration.timeoutIntervalForResource = settings.timeout
        configuration.urlCache = nil
        session = URLSession(configuration: configuration)
    }

    deinit { session.invalidateAndCancel() }

    /// Waits for this request's turn under the rate limit.
    private func awaitTurn() {
        guard settings.ratePerSecond > 0 else { return }
        lock.lock()
        let start = max(Date(), nextStart)
        nextStart = start.addingTimeInterval(1 / settings.ratePerSecond)
        lock.unlock()
        let wait = start.timeIntervalSinceNow
        if wait > 0 { Thread.sleep(forTimeInterval: wait) }
    }

    /// POSTs `body` and returns the parsed JSON answer; retries transport errors, timeouts, 429
    /// and 5xx answers up to `retries` times, waiting `backoff * 2^attempt` seconds (or the
    /// answer's Retry-After, at most 60 s) between attempts.
    func post(_ body: Data, isCancelled: () -> Bool) throws -> Any {
        var attempt = 0
        while true {
            if isCancelled() { throw ClientError.cancelled }
            awaitTurn()
            let (data, response, error) = send(body)
            var retryAfter: Double?
            let failure: String
            if let response, response.statusCode == 200, let data {
                do {
                    return try JSONSerialization.jsonObject(with: data)
                } catch {
                    throw ClientError.permanent(
                        "the answer is not JSON: \(short(String(decoding: data.prefix(200), as: UTF8.self)))")
                }
            } else if let response {
                let text = data.map { String(decoding: $0.prefix(200), as: UTF8.self) } ?? ""
                failure = "HTTP \(response.statusCode) \(short(text))"
                if response.statusCode == 429 || response.statusCode >= 500 {
                    retryAfter = (response.value(forHTTPHeaderField: "Retry-After")).flatMap(Double.init)
                } else {
                    throw ClientError.permanent(failure)
                }
            } else {
                failure =
                    error.map {
                        ($0 as NSError).code == NSURLErrorTimedOut
                            ? "no answer within \(settings.timeout) s" : $0.localizedDescription
                    }
                    ?? "no answer"
            }
            if attempt >= settings.retries {
                throw ClientError.gaveUp("\(failure) (after \(attempt + 1) attempt\(attempt == 0 ? "" : "s"))")
            }
            let wait = min(60, retryAfter ?? settings.backoff * pow(2, Double(attempt)))
            attempt += 1
            let until = Date().addingTimeInterval(wait)
            while Date() < until {
                if isCancelled() { throw ClientError.cancelled }
                Thread.sleep(forTimeInterval: min(0.05, max(0, until.timeIntervalSinceNow)))
            }
        }
    }

    /// One request, waiting at most `timeout` + 5 s whatever the transport does.
    private func send(_ body: Data) -> (Data?, HTTPURLResponse?, Error?) {
        var request = URLRequest(url: settings.url, timeoutInterval: settings.timeout)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        for (name, value) in settings.headers { request.setValue(value, forHTTPHeaderField: name) }
        request.httpBody = body
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox()
        let task = session.dataTask(with: request) { data, response, error in
            box.set(data, response as? HTTPURLResponse, error)
            done.signal()
        }
        task.resume()
        if done.wait(timeout: .now() + settings.timeout + 5) == .timedOut {
            task.cancel()
            return (nil, nil, NSError(domain: NSURLErrorDomain, code: NSURLErrorTimedOut))
        }
        return box.get()
    }

    private final class ResultBox: @unchecked Sendable {
        private let lock = NSLock()
        private var value: (Data?, HTTPURLResponse?, Error?) = (nil, nil, nil)
        func set(_ d: Data?, _ r: HTTPURLResponse?, _ e: Error?) {
            lock.lock()
            value = (d, r, e)
            lock.unlock()
        }
        func get() -> (Data?, HTTPURLResponse?, Error?) {
            lock.lock()
            defer { lock.unlock() }
            return value
        }
    }
}

enum ClientError: Error {
    case cancelled
    /// An answer retrying cannot fix (4xx other than 429, not JSON).
    case permanent(String)
    /// Retries exhausted.
    case gaveUp(String)
}
