import COpenBLAS
import Foundation
import Kernels
import Logging
import PluginABI
import PluginKit

/// The population the audit draws on: audit records [0, N) then population records [N, N+P).
public struct Population {
    public var info: DatasetInfo
    public var features: [Float]
    public var labels: [Int32]
    public var auditCount: Int
    public var populationCount: Int
}

/// What one trained (or cached) model contributes: its record and its logits on all records.
public struct TrainedModel {
    public var role: String
    public var key: String
    public var record: ModelRecord
    /// [N + P, C] logits on the audit records then the population records.
    public var logits: [Float]
    public var cached: Bool
}

/// Everything a run produced before evaluation: the input of metrics and report.
public struct AuditOutcome {
    public var plan: AuditPlan
    public var population: Population
    public var memberships: Memberships
    public var target: TrainedModel
    public var references: [TrainedModel]
    /// Per attack, in config order: scores [N] and evaluation mask [N].
    public var scores: [(name: String, scores: [Double], mask: [UInt8])]
    public var stageSeconds: [(String, Double)]
    public var queryCount: Int
}

/// Runs an audit, stage by stage: load dataset, train or load models, compute signals, run
/// attacks. Evaluation and report follow in `AuditResults`.
public final class AuditRunner {
    public let plan: AuditPlan
    let logger: Logger
    let progress: ProgressReporter
    let cancellation: CancellationFlag
    var stageSeconds: [(String, Double)] = []

    public init(plan: AuditPlan, logger: Logger, progress: ProgressReporter, cancellation: CancellationFlag = CancellationFlag()) {
        self.plan = plan
        self.logger = logger
        self.progress = progress
        self.cancellation = cancellation
    }

    var config: AuditConfig { plan.config }
    var output: String { config.output }

    func stage<T>(_ name: String, _ body: () throws -> T) throws -> T {
        let start = Date()
        logger.info("stage: \(name)")
        let result = try body()
        let seconds = Date().timeIntervalSince(start)
        stageSeconds.append((name, seconds))
        progress.finishLine()
        logger.info("stage: \(name) done in \(String(format: "%.2f", seconds)) s")
        return result
    }

    /// Runs every stage up to the attacks' scores, writing `signals/` and `scores/`.
    public func run() throws -> AuditOutcome {
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        try AtomicFile.write(config.text, to: (output as NSString).appendingPathComponent("config.yaml"))
        openblas_set_num_threads(Int32(config.threads))

        let population = try stage("load dataset") { try loadPopulation() }
        let memberships = Memberships(recordCount: population.auditCount, referenceCount: config.referenceCount, seed: config.seed)
        let spec = ModelSpec(featureShape: population.info.featureShape, classCount: population.info.classCount)
        let models = try stage("train models") { try trainModels(population, memberships, spec) }
        let target = models[0]
        let references = Array(models.dropFirst())
        let signals = try stage("signals") { try writeSignals(population, memberships, target, references) }
        var queries = 0
        let scores = try stage("attacks") { () -> [(String, [Double], [UInt8])] in
            let (s, q) = try runAttacks(signals, population, spec, targetKey: target.key)
            queries = q
            return s
        }
        return AuditOutcome(
            plan: plan, population: population, memberships: memberships, target: target, references: references,
            scores: scores.map { (name: $0.0, scores: $0.1, mask: $0.2) }, stageSeconds: stageSeconds, queryCount: queries)
    }

    func bridge(_ label: String) -> HostBridge {
        HostBridge(label: label, logger: logger, cancellation: cancellation, progress: progress)
    }

    // MARK: Dataset

    func loadPopulation() throws -> Population {
        let d = plan.dataset
        let dataset = try DynamicDataset(d.info, optionsJSON: d.optionsJSON, bridge: bridge(d.info.name))
        let info = try dataset.info()
        let total = config.auditRecords + config.populationRecords
        let (features, labels) = try dataset.read(start: 0, count: total, featureShape: info.featureShape)
        if let bad = labels.firstIndex(where: { $0 < 0 || Int($0) >= info.classCount }) {
            throw PluginError(.invalidArgument, "record \(bad) has label \(labels[bad]), outside [0, \(info.classCount))",
                              origin: "dataset `\(d.info.name)` (\(d.info.plugin.path))")
        }
        logger.info("dataset: \(total) records of shape \(info.featureShape), \(info.classCount) classes")
        return Population(info: info, features: features, labels: labels, auditCount: config.auditRecords,
                          populationCount: config.populationRecords)
    }

    // MARK: Models

    struct Job {
        var index: Int
        var role: String
        var members: [Int]
        var seed: UInt64
        var key: String
    }

    func trainModels(_ population: Population, _ memberships: Memberships, _ spec: ModelSpec) throws -> [TrainedModel] {
        let store = ModelStore(root: config.modelStore)
        let masks = [memberships.target] + memberships.references
        let jobs: [Job] = masks.enumerated().map { i, mask in
            let members = Memberships.indices(mask)
            var rng = SeededRandom.derive(seed: config.seed, 10_000 + UInt64(i))
            let seed = rng.next()
            let key = ModelStore.key(
                backend: plan.model.info, backendOptionsJSON: plan.model.optionsJSON, dataset: plan.dataset.info,
                datasetOptionsJSON: plan.dataset.optionsJSON, spec: spec, members: members, seed: seed)
            return Job(index: i, role: i == 0 ? "target" : "reference \(i)", members: members, seed: seed, key: key)
        }
        let missing = jobs.filter { store.record($0.key) == nil }
        logger.info("models: \(jobs.count) needed, \(jobs.count - missing.count) in the store, \(missing.count) to train")

        let workers = max(1, min(config.threads, missing.count))
        // The host owns BLAS threading: side-by-side trainings get one thread each.
        openblas_set_num_threads(Int32(workers > 1 ? 1 : config.threads))
        defer { openblas_set_num_threads(Int32(config.threads)) }
        let lock = NSLock()
        var next = 0
        var failures: [Error] = []
        var finished = 0
        let epochs = (plan.model.options["epochs"]).flatMap { if case .int(let e) = $0 { return e } else { return nil } }
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let job: Job? = lock.withLock {
                    guard failures.isEmpty, next < missing.count, !cancellation.isCancelled else { return nil }
                    defer { next += 1 }
                    return missing[next]
                }
                guard let job else { return }
                do {
                    try train(job, population, spec, store) { epoch in
                        let done = lock.withLock { finished }
                        self.progress.report(
                            task: "training models (\(done)/\(missing.count) done) \(job.role) epoch",
                            done: epoch.epoch, total: epochs ?? 0)
                    }
                    lock.withLock { finished += 1 }
                } catch {
                    lock.withLock { failures.append(error) }
                }
            }
        }
        if cancellation.isCancelled { throw PluginError(.cancelled, "the run was interrupted; trained models are kept, run again to resume") }
        if let first = failures.first { throw first }

        // Logits of every model on all audit + population records, cached beside the model.
        var result: [TrainedModel] = []
        for job in jobs {
            guard let record = store.record(job.key) else { throw PluginError(.internal, "model \(job.key) vanished from the store") }
            let path = store.logitsPath(job.key, audit: population.auditCount, population: population.populationCount)
            let total = population.auditCount + population.populationCount
            let cached = !missing.contains { $0.key == job.key }
            var logits: [Float]
            if let (values, shape) = try? Npy.read(Float.self, from: path), shape == [total, spec.classCount] {
                logits = values
            } else {
                let model = try DynamicModel(plan.model.info, optionsJSON: plan.model.optionsJSON, spec: spec, bridge: bridge(job.role))
                try model.load(from: store.modelPath(job.key))
                logits = try model.predict(features: population.features, count: total)
                try Npy.write(logits, shape: [total, spec.classCount], to: path)
            }
            progress.report(task: "model logits", done: job.index + 1, total: jobs.count)
            result.append(TrainedModel(role: job.role, key: job.key, record: record, logits: logits, cached: cached))
        }
        return result
    }

    func train(_ job: Job, _ population: Population, _ spec: ModelSpec, _ store: ModelStore, onEpoch: @escaping (EpochRecord) -> Void) throws {
        let size = spec.featureSize
        let n = population.auditCount
        let isMember = Set(job.members)
        let heldout = (0..<n).filter { !isMember.contains($0) }
        func gather(_ idx: [Int]) -> ([Float], [Int32]) {
            var f = [Float](repeating: 0, count: idx.count * size)
            var l = [Int32](repeating: 0, count: idx.count)
            population.features.withUnsafeBufferPointer { src in
                f.withUnsafeMutableBufferPointer { dst in
                    for (row, i) in idx.enumerated() {
                        (dst.baseAddress! + row * size).update(from: src.baseAddress! + i * size, count: size)
                        l[row] = population.labels[i]
                    }
                }
            }
            return (f, l)
        }
        let (f, l) = gather(job.members)
        let (hf, hl) = gather(heldout)
        let model = try DynamicModel(plan.model.info, optionsJSON: plan.model.optionsJSON, spec: spec, bridge: bridge(job.role))
        let start = Date()
        let history = try model.train(features: f, labels: l, heldoutFeatures: hf, heldoutLabels: hl, seed: job.seed, onEpoch: onEpoch)
        let record = ModelRecord(
            key: job.key, role: job.role, seed: job.seed, memberCount: job.members.count, backend: plan.model.info.name,
            backendVersion: plan.model.info.plugin.version, history: history, trainSeconds: Date().timeIntervalSince(start))
        try store.save(model, record: record)
        logger.info("trained \(job.role) in \(String(format: "%.1f", record.trainSeconds)) s")
    }
}
