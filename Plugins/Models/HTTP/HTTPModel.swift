import Foundation
import PluginKit

/// A deployed model behind an HTTP prediction API, audited as the target.
///
/// `predict` POSTs `{"inputs": [[f, ...], ...]}` (each record's features, flattened) to `url`
/// in batches of `batch_size`, and reads `{"outputs": [...]}`: one entry per record, whose shape
/// `response` names (see `ResponseShape`). Every answer is cached on disk (`cache_folder`), so a
/// rerun, or a second attack asking about the same records, spends no queries. `query_budget`
/// caps the records the API answers for this model instance: a `predict` that would need more
/// than what remains is refused before it sends anything, so the budget is never exceeded.
///
/// It cannot train: reference models are trained locally by another backend (native or python).
final class HTTPModel: ModelBackend {
    static let name = "http"
    static let summary =
        "a deployed model behind an HTTP prediction API (probabilities, top-k or labels), queries cached on disk"
    static let options: [OptionSpec] = [
        OptionSpec("url", .string, required: true, "the prediction endpoint (POST)"),
        OptionSpec(
            "response", .string, default: "\"probabilities\"", choices: ResponseShape.allCases.map(\.rawValue),
            "what the API returns per record: probabilities, top_k ([class, probability] pairs) or label"),
        OptionSpec("batch_size", .int, default: "64", "records per request").within(1...1_048_576),
        OptionSpec("concurrency", .int, default: "1", "requests in flight at once").within(1...1024),
        OptionSpec("rate_limit_per_second", .float, default: "0", "most requests started per second; 0: no limit")
            .atLeast(0),
        OptionSpec("timeout_seconds", .float, default: "30", "the longest one request may take").above(0),
        OptionSpec(
            "retries", .int, default: "3", "retries of a request that failed, timed out or was rate-limited (429, 5xx)"
        ).within(0...100),
        OptionSpec(
            "backoff_seconds", .float, default: "0.5",
            "wait before the first retry, doubled at each next one (a Retry-After header wins)"
        ).atLeast(0),
        OptionSpec("query_budget", .int, default: "0", "most records the API may answer for this model; 0: no limit")
            .atLeast(0),
        OptionSpec(
            "cache_folder", .string, default: "\"~/.cache/mia-audit/http\"",
            "folder of the on-disk query cache; empty: no cache"),
        OptionSpec(
            "headers", .stringList, default: "[]",
            "extra request headers, `Name: value` (for example an Authorization header)"),
    ]

    let spec: ModelSpec
    let host: HostServices
    let url: String
    let shape: ResponseShape
    let batchSize: Int
    let concurrency: Int
    let budget: Int
    let client: PredictionClient
    let cache: QueryCache?

    private let lock = NSLock()
    /// Records the API answered for this instance.
    private(set) var queriesSpent = 0

    init(options: PluginOptions, spec: ModelSpec, host: HostServices) throws {
        self.spec = spec
        self.host = host
        url = try options.string("url")
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? "") else {
            throw PluginError(.invalidArgument, "option `url` must be an http:// or https:// address, got `\(url)`")
        }
        func int(_ key: String, _ fallback: Int) throws -> Int { options.has(key) ? try options.int(key) : fallback }
        func double(_ key: String, _ fallback: Double) throws -> Double {
            options.has(key) ? try options.double(key) : fallback
        }
        let shapeName = options.has("response") ? try options.string("response") : "probabilities"
        guard let shape = ResponseShape(rawValue: shapeName) else {
            throw PluginError(
                .invalidArgument, "option `response` must be probabilities, top_k or label, got `\(shapeName)`")
        }
        self.shape = shape
        batchSize = try int("batch_size", 64)
        concurrency = try int("concurrency", 1)
        budget = try int("query_budget", 0)
        let timeout = try double("timeout_seconds", 30)
        let retries = try int("retries", 3)
        let backoff = try double("backoff_seconds", 0.5)
        let rate = try double("rate_limit_per_second", 0)
        guard batchSize > 0, concurrency > 0, budget >= 0, timeout > 0, retries >= 0, backoff >= 0, rate >= 0 else {
            throw PluginError(
                .invalidArgument,
                "options `batch_size`, `concurrency` and `timeout_seconds` must be positive; `query_budget`, `retries`, `backoff_seconds` and `rate_limit_per_second` 0 or more"
            )
        }
        var headers: [(String, String)] = []
        for line in options.has("headers") ? try options.strings("headers") : [] {
            guard let colon = line.firstIndex(of: ":") else {
                throw PluginError(.invalidArgument, "option `headers`: `\(line)` is not `Name: value`")
            }
            headers.append(
                (
                    String(line[..<colon]).trimmingCharacters(in: .whitespaces),
                    String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
                ))
        }
        client = PredictionClient(
            .init(
                url: parsed, headers: headers, timeout: timeout, retries: retries, backoff: backoff, ratePerSecond: rate
            ))
        var folder = options.has("cache_folder") ? try options.string("cache_folder") : "~/.cache/mia-audit/http"
        if folder.hasPrefix("~/") {
            folder = FileManager.default.homeDirectoryForCurrentUser.path + folder.dropFirst(1)
        }
        do {
            cache =
                folder.isEmpty
                ? nil : try QueryCache(folder: folder, url: url, shape: shape, classCount: spec.classCount)
        } catch let e as ShapeError {
            throw PluginError(.io, e.description)
        }
    }

    func train(_ data: TrainingData, onEpoch: (EpochRecord) -> Void) throws {
        throw PluginError(
            .unsupported,
            "the http backend queries a deployed model and cannot train; train reference models locally with the native or python backend"
        )
    }

    func predict(features: UnsafeBufferPointer<Float>, count: Int, into logits: UnsafeMutableBufferPointer<Float>)
        throws
    {
        let d = spec.featureSize
        let k = spec.classCount
        guard features.count >= count * d, logits.count >= count * k else {
            throw PluginError(.invalidArgument, "predict: buffers too small for \(count) records")
        }
        // Answers already known, and the records still to ask about (duplicates asked once).
        var missing: [Int] = []
        var keys: [QueryCache.Key128] = []
        var firstWithKey: [QueryCache.Key128: Int] = [:]
        var copies: [(from: Int, to: Int)] = []
        for r in 0..<count {
            let key = QueryCache.key(UnsafeBufferPointer(rebasing: features[(r * d)..<((r + 1) * d)]))
            keys.append(key)
            if let known = cache?.lookup(key) {
                for c in 0..<k { logits[r * k + c] = known[c] }
            } else if let first = firstWithKey[key] {
                copies.append((first, r))
            } else {
                firstWithKey[key] = r
                missing.append(r)
            }
        }
        if budget > 0 {
            lock.lock()
            let remaining = budget - queriesSpent
            lock.unlock()
            guard missing.count <= remaining else {
                throw PluginError(
                    .invalidArgument,
                    "`\(url)`: this predict needs \(missing.count) records the cache does not hold, but only \(remaining) of the query budget of \(budget) remain; nothing was sent"
                )
            }
        }
        // Batches of the missing records, sent by `concurrency` workers.
        let batches = stride(from: 0, to: missing.count, by: batchSize).map {
            Array(missing[$0..<min($0 + batchSize, missing.count)])
        }
        // Safe: `failure`, `next` and `queriesSpent` are read and written only under `lock`; each
        // batch writes only its own rows of `out`; the buffers and `self` are used only until
        // concurrentPerform returns, and `ask` and the cache may be called from several threads.
        nonisolated(unsafe) var failure: Error?
        nonisolated(unsafe) var next = 0
        nonisolated(unsafe) let out = logits, features = features, model = self
        let batchKeys = keys, missingCount = missing.count
        DispatchQueue.concurrentPerform(iterations: min(concurrency, max(batches.count, 1))) { _ in
            while true {
                model.lock.lock()
                if failure != nil || next >= batches.count {
                    model.lock.unlock()
                    return
                }
                let batch = batches[next]
                next += 1
                model.lock.unlock()
                do {
                    let answers = try model.ask(batch, features: features, into: out)
                    model.cache?.store(batch.enumerated().map { (batchKeys[$0.element], answers[$0.offset]) })
                    model.lock.lock()
                    model.queriesSpent += batch.count
                    let spent = model.queriesSpent
                    model.lock.unlock()
                    model.host.progress(
                        "queries to \(model.url)", done: spent, total: model.budget > 0 ? model.budget : missingCount)
                } catch {
                    model.lock.lock()
                    if failure == nil { failure = error }
                    model.lock.unlock()
                }
            }
        }
        if let failure {
            switch failure {
            case ClientError.cancelled: throw PluginError(.cancelled, "the run was cancelled while querying `\(url)`")
            case ClientError.permanent(let why), ClientError.gaveUp(let why):
                throw PluginError(.io, "the prediction API `\(url)` failed: \(why)")
            case let e as ShapeError:
                throw PluginError(
                    .io,
                    "the prediction API `\(url)` answered out of shape (`response: \(shape.rawValue)`): \(e.description)"
                )
            default: throw failure
            }
        }
        for (from, to) in copies { for c in 0..<k { logits[to * k + c] = logits[from * k + c] } }
    }

    /// Sends one batch; writes its logits into `out` and returns them per record.
    private func ask(_ batch: [Int], features: UnsafeBufferPointer<Float>, into out: UnsafeMutableBufferPointer<Float>)
        throws
        -> [[Float]]
    {
        let d = spec.featureSize
        let k = spec.classCount
        var body = "{\"inputs\":["
        for (i, r) in batch.enumerated() {
            if i > 0 { body += "," }
            body += "[" + features[(r * d)..<((r + 1) * d)].map { "\($0)" }.joined(separator: ",") + "]"
        }
        body += "]}"
        let answer = try client.post(Data(body.utf8), isCancelled: { host.isCancelled })
        guard let outputs = (answer as? [String: Any])?["outputs"] as? [Any] else {
            throw ShapeError("the answer has no `outputs` list: \(short(answer))")
        }
        guard outputs.count == batch.count else {
            throw ShapeError("\(outputs.count) outputs for \(batch.count) records")
        }
        var rows: [[Float]] = []
        var row = [Float](repeating: 0, count: k)
        for (i, r) in batch.enumerated() {
            try row.withUnsafeMutableBufferPointer { try shape.logits(outputs[i], classCount: k, into: $0) }
            for c in 0..<k { out[r * k + c] = row[c] }
            rows.append(row)
        }
        return rows
    }

    /// Writes a small descriptor of the endpoint (there are no weights to save).
    func save(to path: String) throws {
        let text = "{\"format\":\"mia-http-target/1\",\"url\":\(jsonString(url)),\"response\":\"\(shape.rawValue)\"}\n"
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else {
            throw PluginError(.io, "cannot write `\(path)`")
        }
    }

    /// Checks that `path` describes this same endpoint.
    func load(from path: String) throws {
        guard let data = FileManager.default.contents(atPath: path),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            object["format"] as? String == "mia-http-target/1"
        else { throw PluginError(.invalidArgument, "`\(path)` is not an http target descriptor") }
        guard object["url"] as? String == url, object["response"] as? String == shape.rawValue else {
            throw PluginError(.invalidArgument, "`\(path)` describes another endpoint: \(object["url"] ?? "?")")
        }
    }
}

func jsonString(_ s: String) -> String {
    String(decoding: (try? JSONEncoder().encode(s)) ?? Data("\"\"".utf8), as: UTF8.self)
}
