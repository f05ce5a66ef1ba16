import Foundation
import PluginKit

/// A model backend whose model is the user's own Python code, run in a worker process.
///
/// The worker is `PYTHON -m mia_worker.serve --module MODULE` (the `mia_worker` package lives in
/// the repository's `python/` folder), spoken to with the protocol of python/PROTOCOL.md. It is
/// started at the first `train` or `load` and stopped when the model is destroyed. Every request
/// has a deadline (`timeout_seconds`); a worker that misses it, crashes, or answers out of
/// protocol is stopped, and the error names the module and quotes the last lines of its stderr.
/// After such an error the model has no weights until the next `train` or `load` (which start a
/// new worker).
final class PythonModel: ModelBackend {
    static let name = "python"
    static let summary =
        "your own Python model (PyTorch, scikit-learn, JAX...) in a worker process, via the mia_worker package"
    static let options: [OptionSpec] = [
        OptionSpec(
            "module", .string, required: true,
            "the worker: a module path (`my_package.worker`) or a `.py` file defining train, predict, save and load"),
        OptionSpec(
            "python", .string, default: "\"python3\"", "the Python interpreter (a name looked up in PATH, or a path)"),
        OptionSpec(
            "worker_options", .string, default: "\"{}\"", "a JSON object handed to the worker's code as `options`"),
        OptionSpec("timeout_seconds", .float, default: "600", "the longest the worker may take to answer one request")
            .above(0),
        OptionSpec(
            "output", .string, default: "\"logits\"", choices: ["logits", "probabilities"],
            "what the worker's predict returns; probabilities are turned into log-probabilities"),
        OptionSpec(
            "python_path", .stringList, default: "[]",
            "folders put in front of PYTHONPATH (for example the repository's `python` folder, instead of pip install)"),
    ]

    /// The protocol version this plugin speaks.
    static let protocolVersion = 1
    /// Lines of the worker's stderr quoted in an error message (all of them go to the host's log).
    static let quotedLines = 20

    let spec: ModelSpec
    let host: HostServices
    let module: String
    let python: String
    /// `worker_options` as compact JSON (one line).
    let workerOptions: String
    let timeout: Double
    let outputsProbabilities: Bool
    let pythonPath: [String]

    private(set) var worker: WorkerProcess?
    /// Whether the worker holds a trained or loaded model.
    private var hasModel = false

    init(options: PluginOptions, spec: ModelSpec, host: HostServices) throws {
        self.spec = spec
        self.host = host
        module = try options.string("module")
        guard !module.isEmpty else { throw PluginError(.invalidArgument, "option `module` is empty") }
        if module.hasSuffix(".py") && !FileManager.default.fileExists(atPath: module) {
            throw PluginError(
                .invalidArgument,
                "option `module`: no worker file `\(module)` (a relative path is taken from the folder the audit runs in, "
                    + "\(FileManager.default.currentDirectoryPath))")
        }
        python = options.has("python") ? try options.string("python") : "python3"
        timeout = options.has("timeout_seconds") ? try options.double("timeout_seconds") : 600
        guard timeout > 0 else { throw PluginError(.invalidArgument, "option `timeout_seconds` must be positive") }
        let output = options.has("output") ? try options.string("output") : "logits"
        guard output == "logits" || output == "probabilities" else {
            throw PluginError(.invalidArgument, "option `output` must be logits or probabilities, got `\(output)`")
        }
        outputsProbabilities = output == "probabilities"
        pythonPath = options.has("python_path") ? try options.strings("python_path") : []
        let text = options.has("worker_options") ? try options.string("worker_options") : "{}"
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)), object is [String: Any],
            let compact = try? JSONSerialization.data(withJSONObject: object)
        else {
            throw PluginError(.invalidArgument, "option `worker_options` must be a JSON object, got `\(text)`")
        }
        workerOptions = String(decoding: compact, as: UTF8.self)
    }

    deinit {
        guard let worker else { return }
        // A polite goodbye, then the end of its input; a worker still running 2 s later is stopped.
        _ = try? worker.exchange(.request("bye"), seconds: 5, isCancelled: { false })
        worker.closeInput()
        if worker.reap(waitingSeconds: 2) == nil { worker.stop() }
    }

    func train(_ data: TrainingData, onEpoch: (EpochRecord) -> Void) throws {
        hasModel = false
        let n = data.count
        guard data.features.count == n * spec.featureSize else {
            throw PluginError(
                .invalidArgument,
                "training features hold \(data.features.count) floats, expected \(n) x \(spec.featureSize)")
        }
        var arrays = [
            (
                name: "features",
                npy: Npy.encode(
                    UnsafeRawBufferPointer(data.features), descr: "<f4", shape: [n] + spec.featureShape)
            ),
            (name: "labels", npy: Npy.encode(UnsafeRawBufferPointer(data.labels), descr: "<i4", shape: [n])),
        ]
        if let hf = data.heldoutFeatures, let hl = data.heldoutLabels, hl.count > 0 {
            arrays.append(
                (
                    name: "heldout_features",
                    npy: Npy.encode(
                        UnsafeRawBufferPointer(hf), descr: "<f4", shape: [hl.count] + spec.featureShape)
                ))
            arrays.append(
                (
                    name: "heldout_labels",
                    npy: Npy.encode(UnsafeRawBufferPointer(hl), descr: "<i4", shape: [hl.count])
                ))
        }
        let request = WorkerMessage.request(
            "train", [("seed", String(data.seed)), ("options", workerOptions)], arrays: arrays)
        let (answer, _) = try ask(request, op: "train")
        for (i, e) in (answer.history ?? []).enumerated() {
            onEpoch(
                EpochRecord(
                    epoch: e.epoch ?? i + 1, trainLoss: e.trainLoss ?? .nan, trainAccuracy: e.trainAccuracy ?? .nan,
                    heldoutLoss: e.heldoutLoss ?? .nan, heldoutAccuracy: e.heldoutAccuracy ?? .nan,
                    seconds: e.seconds ?? .nan))
        }
        hasModel = true
    }

    func predict(features: UnsafeBufferPointer<Float>, count: Int, into logits: UnsafeMutableBufferPointer<Float>)
        throws
    {
        let k = spec.classCount
        guard features.count >= count * spec.featureSize, logits.count >= count * k else {
            throw PluginError(.invalidArgument, "predict: buffers too small for \(count) records")
        }
        guard count > 0 else { return }
        try requireModel("predict")
        let input = UnsafeBufferPointer(rebasing: features[..<(count * spec.featureSize)])
        let request = WorkerMessage.request(
            "predict",
            arrays: [
                (
                    name: "features",
                    npy: Npy.encode(
                        UnsafeRawBufferPointer(input), descr: "<f4", shape: [count] + spec.featureShape)
                )
            ])
        let (_, arrays) = try ask(request, op: "predict")
        guard let outputs = arrays.first(where: { $0.name == "outputs" })?.npy else {
            throw outOfProtocol("predict", "its answer has no `outputs` array")
        }
        do {
            let source = "the `outputs` array"
            try outputs.withUnsafeBytes { raw in
                let header = try Npy.parse(raw, source: source)
                guard header.shape == [count, k] else {
                    throw NpyError(path: source, message: "shape \(header.shape), expected [\(count), \(k)]")
                }
                try Npy.floats(raw, header, into: logits, source: source)
            }
        } catch let e as NpyError {
            throw outOfProtocol("predict", e.description)
        }
        for i in 0..<(count * k) {
            let v = logits[i]
            if outputsProbabilities {
                guard v >= 0, v <= 1.0001 else {
                    throw PluginError(
                        .internal,
                        "python worker `\(module)`: predict returned \(v) for record \(i / k), class \(i % k), which is not a probability (set `output: logits` if it returns logits)"
                    )
                }
                // log(p), with p = 0 clamped to the smallest positive float (log is about -103.3).
                logits[i] = log(max(v, Float.leastNonzeroMagnitude))
            } else if !v.isFinite {
                throw PluginError(
                    .internal, "python worker `\(module)`: predict returned \(v) for record \(i / k), class \(i % k)")
            }
        }
    }

    func save(to path: String) throws {
        try requireModel("save")
        do {
            _ = try ask(.request("save", [("path", jsonString(path))]), op: "save")
            guard FileManager.default.fileExists(atPath: path) else {
                throw PluginError(.io, "python worker `\(module)` reported saving to `\(path)` but no file is there")
            }
        } catch {
            // Never leave a partial model file behind.
            try? FileManager.default.removeItem(atPath: path)
            try? FileManager.default.removeItem(atPath: path + ".partial")
            throw error
        }
    }

    func load(from path: String) throws {
        hasModel = false
        guard FileManager.default.fileExists(atPath: path) else {
            throw PluginError(.invalidArgument, "no model file at `\(path)`")
        }
        _ = try ask(.request("load", [("path", jsonString(path))]), op: "load", failure: .invalidArgument)
        hasModel = true
    }

    // MARK: - Talking to the worker

    private func requireModel(_ op: String) throws {
        guard hasModel, worker != nil else {
            throw PluginError(
                .invalidArgument, "python worker `\(module)`: \(op) before train or load (or after the worker failed)")
        }
    }

    /// Starts the worker and greets it, unless it is running.
    private func startWorker() throws -> WorkerProcess {
        if let worker, !worker.hasExited { return worker }
        worker = nil
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONUNBUFFERED"] = "1"
        if !pythonPath.isEmpty {
            environment["PYTHONPATH"] =
                (pythonPath + [environment["PYTHONPATH"]].compactMap { $0 }.filter { !$0.isEmpty })
                .joined(separator: ":")
        }
        let process: WorkerProcess
        do {
            process = try WorkerProcess(
                arguments: [python, "-m", "mia_worker.serve", "--module", module], environment: environment)
        } catch let e as SpawnError {
            throw PluginError(.io, "python worker `\(module)`: \(e.description) (set option `python`)")
        }
        worker = process
        let spec =
            "{\"feature_shape\":[\(self.spec.featureShape.map(String.init).joined(separator: ","))],\"class_count\":\(self.spec.classCount)}"
        let answer: WorkerAnswer
        do {
            (answer, _) = try ask(
                .request(
                    "hello", [("protocol", String(Self.protocolVersion)), ("spec", spec), ("options", workerOptions)]),
                op: "hello")
        } catch {
            stopWorker()  // a worker whose module did not load is of no further use
            throw error
        }
        guard answer.protocol == Self.protocolVersion else {
            stopWorker()
            throw PluginError(
                .unsupported,
                "python worker `\(module)` speaks protocol \(answer.protocol.map(String.init) ?? "?"), this plugin \(Self.protocolVersion): install the mia_worker package of this repository (pip install ./python)"
            )
        }
        return process
    }

    private func stopWorker() {
        worker?.stop()
        worker = nil
        hasModel = false
    }

    /// Sends `request` (starting the worker first if needed) and returns a successful answer.
    private func ask(
        _ request: WorkerMessage, op: String, failure: PluginStatus = .internal
    ) throws -> (WorkerAnswer, [(name: String, npy: ArraySlice<UInt8>)]) {
        let process = op == "hello" ? worker! : try startWorker()
        let result: (WorkerAnswer, [(name: String, npy: ArraySlice<UInt8>)])
        do {
            result = try process.exchange(request, seconds: timeout, isCancelled: { host.isCancelled })
        } catch let failure as ExchangeFailure {
            process.stop()
            worker = nil
            hasModel = false
            switch failure {
            case .cancelled:
                throw PluginError(.cancelled, "the run was cancelled; stopped python worker `\(module)` during `\(op)`")
            case .timedOut:
                throw workerError(
                    process,
                    "did not answer `\(op)` within \(formatSeconds(timeout)) s and was stopped (raise `timeout_seconds` if it needs longer)"
                )
            case .closed:
                var what = "\(process.exitDescription) during `\(op)`"
                if process.stderr.lines(last: 50).contains(where: {
                    $0.contains("No module named mia_worker") || $0.contains("No module named 'mia_worker'")
                }) {
                    what +=
                        "; the mia_worker package is not importable: pip install the repository's `python` folder, or list it in `python_path`"
                }
                throw workerError(process, what)
            case .outOfProtocol(let detail):
                throw workerError(process, "answered `\(op)` out of protocol: \(detail)")
            }
        }
        let answer = result.0
        guard answer.ok else {
            let message = answer.error ?? "no reason given"
            if message.hasPrefix("protocol:") {
                stopWorker()
                throw PluginError(.internal, "python worker `\(module)` refused `\(op)`: \(message)")
            }
            let traceback = (answer.traceback ?? "").split(separator: "\n").map(String.init)
            if !traceback.isEmpty {
                host.log(.error, "python worker `\(module)` failed in `\(op)`:\n" + traceback.joined(separator: "\n"))
            }
            throw PluginError(
                failure,
                fitted(
                    "python worker `\(module)` failed in `\(op)`: \(message)", quoting: traceback, label: "traceback")
            )
        }
        return result
    }

    private func outOfProtocol(_ op: String, _ detail: String) -> PluginError {
        guard let worker else {
            return PluginError(.internal, "python worker `\(module)` answered `\(op)` out of protocol: \(detail)")
        }
        worker.stop()
        self.worker = nil
        hasModel = false
        return workerError(worker, "answered `\(op)` out of protocol: \(detail)")
    }

    /// An error about a stopped worker, quoting the end of its stderr (all of it to the log).
    private func workerError(_ process: WorkerProcess, _ what: String) -> PluginError {
        process.stderr.waitForEnd(seconds: 1)
        let lines = process.stderr.lines(last: Self.quotedLines)
        if !lines.isEmpty {
            host.log(.error, "python worker `\(module)` stderr (last lines):\n" + lines.joined(separator: "\n"))
        }
        return PluginError(
            .internal, fitted("python worker `\(module)` \(what)", quoting: lines, label: "its stderr ends with"))
    }

    /// `headline` and as many of the last `lines` as fit an error message (1 KiB in the C ABI).
    private func fitted(_ headline: String, quoting lines: [String], label: String) -> String {
        guard !lines.isEmpty else { return headline + " (it wrote nothing to stderr)" }
        let budget = 1000 - headline.utf8.count - label.utf8.count - 4
        var kept: [String] = []
        var used = 0
        for line in lines.reversed() {
            let cut = line.count > 160 ? String(line.prefix(160)) + "…" : line
            if used + cut.utf8.count + 1 > budget { break }
            kept.insert(cut, at: 0)
            used += cut.utf8.count + 1
        }
        return headline + "; \(label):\n" + kept.joined(separator: "\n")
    }
}

private func formatSeconds(_ s: Double) -> String {
    s == s.rounded() ? String(Int(s)) : String(format: "%.2f", s)
}
