import Foundation
import PluginKit
import Testing

@testable import ModelHTTP

/// A prediction API on loopback, run by Python's standard library: a fixed softmax model
/// `p = softmax(x W)` with `W[j][c] = 0.1 (j + 1)(c - 1)`, behind endpoints that answer well,
/// fail, stall or rate-limit. `GET /stats` reports what the server saw.
final class TestServer {
    static let script = """
        import json, math, os, sys, threading, time
        from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
        lock = threading.Lock()
        stats = {"records": 0, "requests": 0, "rejected": 0, "starts": []}
        last = [0.0]
        def probabilities(x, k):
            z = [sum(x[j] * 0.1 * (j + 1) * (c - 1) for j in range(len(x))) for c in range(k)]
            m = max(z); e = [math.exp(v - m) for v in z]; s = sum(e)
            return [v / s for v in e]
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args): pass
            def reply(self, code, body, headers={}):
                data = json.dumps(body).encode()
                self.send_response(code)
                for k, v in headers.items(): self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers(); self.wfile.write(data)
            def do_GET(self):
                with lock: self.reply(200, stats)
            def do_POST(self):
                inputs = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["inputs"]
                path = self.path
                with lock:
                    stats["requests"] += 1
                    now = time.monotonic()
                    stats["starts"].append(now)
                    reject = (path == "/flaky" and stats["requests"] % 2 == 1) or (path == "/ratelimit" and now - last[0] < 0.3)
                    if reject: stats["rejected"] += 1
                    else: last[0] = now
                if path == "/stall":
                    time.sleep(5)
                if reject:
                    return self.reply(429 if path == "/ratelimit" else 503, {"error": "try later"}, {"Retry-After": "0.3"} if path == "/ratelimit" else {})
                if path == "/auth" and self.headers.get("Authorization") != "Bearer s3cret":
                    return self.reply(401, {"error": "who are you"})
                k = 3
                ps = [probabilities(x, k) for x in inputs]
                if path == "/topk":
                    out = [sorted([[c, p[c]] for c in range(k)], key=lambda t: -t[1])[:2] for p in ps]
                elif path == "/label":
                    out = [max(range(k), key=lambda c: p[c]) for p in ps]
                else:
                    out = ps
                with lock: stats["records"] += len(inputs)
                self.reply(200, {"outputs": out})
        def watch_parent():
            sys.stdin.buffer.read()  # returns at the end of the pipe: the test is over
            os._exit(0)
        threading.Thread(target=watch_parent, daemon=True).start()
        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """

    let process = Process()
    /// The server exits when this pipe closes: when the test ends, or if the test process dies.
    let input = Pipe()
    let port: Int

    init() throws {
        let dir = FileManager.default.temporaryDirectory.path
        let path = "\(dir)/mia-test-server-\(getpid())-\(UUID().uuidString.prefix(8)).py"
        try Self.script.write(toFile: path, atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", path]
        let out = Pipe()
        process.standardOutput = out
        process.standardInput = input
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line += chunk
        }
        try? FileManager.default.removeItem(atPath: path)
        guard let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        else {
            throw PluginError(.io, "the test server did not start")
        }
        self.port = port
    }

    deinit {
        try? input.fileHandleForWriting.close()
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    struct Stats: Decodable {
        var records: Int
        var requests: Int
        var rejected: Int
        var starts: [Double]
    }

    func stats() throws -> Stats {
        let data = try Data(contentsOf: URL(string: url("/stats"))!)
        return try JSONDecoder().decode(Stats.self, from: data)
    }

    /// log softmax(x W), computed here independently of the server.
    static func expectedLogits(_ x: [Float]) -> [Double] {
        let z = (0..<3).map { c in
            x.enumerated().reduce(0.0) { $0 + Double($1.element) * 0.1 * Double($1.offset + 1) * Double(c - 1) }
        }
        let m = z.max()!
        let lse = m + log(z.map { exp($0 - m) }.reduce(0, +))
        return z.map { $0 - lse }
    }
}

@Suite struct HTTPModelTests {
    static let spec = ModelSpec(featureShape: [3], classCount: 3)

    static func records(_ n: Int, offset: Int = 0) -> [Float] {
        (0..<(n * 3)).map { Float(3 * sin(Double($0 + offset * 3) * 1.3)) }
    }

    func model(_ url: String, cache: String = "", _ extra: [String: OptionValue] = [:]) throws -> HTTPModel {
        try HTTPModel(
            options: PluginOptions(["url": .string(url), "cache_folder": .string(cache)].merging(extra) { $1 }),
            spec: Self.spec, host: .standalone)
    }

    func predict(_ m: HTTPModel, _ x: [Float]) throws -> [Float] {
        var out = [Float](repeating: .nan, count: x.count)
        try x.withUnsafeBufferPointer { f in
            try out.withUnsafeMutableBufferPointer { try m.predict(features: f, count: x.count / 3, into: $0) }
        }
        return out
    }

    @Test func probabilitiesBecomeLogProbabilitiesAndTheCacheSavesQueries() throws {
        let server = try TestServer()
        let dir = TemporaryDirectory("http")
        let x = Self.records(10)
        let first = try model(server.url("/ok"), cache: dir.path, ["batch_size": .int(4), "concurrency": .int(2)])
        let logits = try predict(first, x)
        for r in 0..<10 {
            let expected = TestServer.expectedLogits(Array(x[(r * 3)..<(r * 3 + 3)]))
            for c in 0..<3 { #expect(abs(Double(logits[r * 3 + c]) - expected[c]) < 1e-5) }
        }
        let seen = try server.stats()
        #expect(seen.records == 10 && seen.requests == 3, "\(seen)")

        // A rerun (a new instance on the same cache) asks only about records it never saw.
        let rerun = try model(server.url("/ok"), cache: dir.path)
        #expect(try predict(rerun, x) == logits)
        #expect(try server.stats().records == 10)
        let more = try predict(rerun, x + Self.records(2, offset: 50))
        #expect(Array(more[..<30]) == logits)
        #expect(try server.stats().records == 12)
    }

    @Test func budgetIsNeverExceeded() throws {
        let server = try TestServer()
        let budgeted = try model(server.url("/ok"), ["query_budget": .int(5), "batch_size": .int(2)])
        let refused = errorMessage { _ = try predict(budgeted, Self.records(6)) }
        #expect(
            refused?.contains("needs 6 records the cache does not hold, but only 5 of the query budget of 5 remain")
                == true,
            "\(refused ?? "no error")")
        #expect(try server.stats().records == 0)
        _ = try predict(budgeted, Self.records(5))
        #expect(try server.stats().records == 5)
        #expect(errorMessage { _ = try predict(budgeted, Self.records(1, offset: 90)) } != nil)
        // Duplicated records are asked once.
        let fresh = try model(server.url("/ok"), ["query_budget": .int(1)])
        let twice = try predict(fresh, Self.records(1, offset: 7) + Self.records(1, offset: 7))
        #expect(Array(twice[..<3]) == Array(twice[3...]))
        #expect(try server.stats().records == 6)
    }

    @Test func topKAndLabelAnswers() throws {
        let server = try TestServer()
        let x = Self.records(4)
        let labels = try predict(try model(server.url("/label"), ["response": .string("label")]), x)
        let topK = try predict(try model(server.url("/topk"), ["response": .string("top_k")]), x)
        for r in 0..<4 {
            let expected = TestServer.expectedLogits(Array(x[(r * 3)..<(r * 3 + 3)]))
            let order = (0..<3).sorted { expected[$0] > expected[$1] }
            // The two listed classes keep log p; the third gets the remaining mass.
            for c in order.prefix(2) { #expect(abs(Double(topK[r * 3 + c]) - expected[c]) < 1e-5) }
            let rest = 1 - exp(expected[order[0]]) - exp(expected[order[1]])
            #expect(abs(Double(topK[r * 3 + order[2]]) - log(rest)) < 1e-4)
            #expect(labels[r * 3 + order[0]] == 0)
            #expect(labels[r * 3 + order[1]] == log(Float.leastNonzeroMagnitude))
        }
    }

    @Test func wrongResponseShapeIsAClearError() throws {
        let server = try TestServer()
        // The endpoint answers top-k pairs; the config says probabilities.
        let message = errorMessage { _ = try predict(try model(server.url("/topk")), Self.records(1)) }
        #expect(
            message?.contains("answered out of shape (`response: probabilities`)") == true, "\(message ?? "no error")")
    }

    @Test func failuresAreRetriedWithBackoff() throws {
        let server = try TestServer()
        let x = Self.records(3)
        let logits = try predict(
            try model(
                server.url("/flaky"), ["retries": .int(2), "backoff_seconds": .double(0.01), "batch_size": .int(1)]), x)
        #expect(logits.allSatisfy { $0.isFinite })
        let stats = try server.stats()
        #expect(stats.rejected == 3 && stats.records == 3 && stats.requests == 6)

        let noRetry = errorMessage {
            _ = try predict(try model(server.url("/flaky"), ["retries": .int(0), "batch_size": .int(3)]), x)
        }
        #expect(noRetry?.contains("HTTP 503") == true, "\(noRetry ?? "no error")")
        let unauthorised = errorMessage { _ = try predict(try model(server.url("/auth")), x) }
        #expect(unauthorised?.contains("HTTP 401") == true)
        let authorised = try predict(
            try model(server.url("/auth"), ["headers": .list([.string("Authorization: Bearer s3cret")])]), x)
        #expect(authorised == logits)
    }

    @Test func rateLimitsAreHonoured() throws {
        let server = try TestServer()
        // The server refuses requests closer than 0.3 s with 429 + Retry-After: 0.3.
        let m = try model(
            server.url("/ratelimit"), ["retries": .int(10), "batch_size": .int(1), "concurrency": .int(2)])
        _ = try predict(m, Self.records(4))
        #expect(try server.stats().records == 4)
        // Client side: at most 5 requests per second, even with 2 in flight.
        let paced = try TestServer()
        let start = Date()
        _ = try predict(
            try model(
                paced.url("/ok"), ["rate_limit_per_second": .double(5), "batch_size": .int(1), "concurrency": .int(2)]),
            Self.records(6))
        #expect(Date().timeIntervalSince(start) >= 0.95)
        let starts = try paced.stats().starts.sorted()
        for (a, b) in zip(starts, starts.dropFirst()) { #expect(b - a > 0.15, "requests \(b - a) s apart") }
    }

    @Test func stallingServerTimesOut() throws {
        let server = try TestServer()
        let start = Date()
        let message = errorMessage {
            _ = try predict(
                try model(
                    server.url("/stall"),
                    ["timeout_seconds": .double(0.5), "retries": .int(1), "backoff_seconds": .double(0.01)]),
                Self.records(1))
        }
        #expect(
            message?.contains("failed") == true && message?.contains("2 attempts") == true, "\(message ?? "no error")")
        #expect(Date().timeIntervalSince(start) < 4)
    }

    @Test func cannotTrainAndSavesADescriptor() throws {
        let dir = TemporaryDirectory("http")
        let m = try model("http://127.0.0.1:9/predict")
        #expect(
            errorMessage {
                _ = try m.train(
                    TrainingData(
                        features: UnsafeBufferPointer(start: nil, count: 0),
                        labels: UnsafeBufferPointer(start: nil, count: 0),
                        seed: 0)
                ) { _ in }
            }?.contains("cannot train") == true)
        try m.save(to: dir.path + "/target")
        try m.load(from: dir.path + "/target")
        let other = try model("http://127.0.0.1:9/other")
        #expect(errorMessage { try other.load(from: dir.path + "/target") }?.contains("another endpoint") == true)
        #expect(errorMessage { _ = try model("ftp://x") }?.contains("http:// or https://") == true)
    }
}
