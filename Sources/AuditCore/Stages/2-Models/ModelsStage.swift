import Foundation
import Kernels
import PluginKit

/// One model of the audit: the target (index 0) or a reference model.
public struct ModelJob: Sendable {
    public var index: Int
    public var role: String
    var members: [Int]
    var seed: UInt64
    public var key: String
}

/// Which of the audit's models a process trains: all, or shard `index` of `count` (models
/// whose index ≡ shard index mod count), for job arrays.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    var index: Int
    var count: Int

    static let all = Shard(index: 0, count: 1)

    init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// Parses `I/N` with 0 ≤ I < N.
    public init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, i >= 0, i < n else { return nil }
        self.init(index: i, count: n)
    }

    func contains(_ job: ModelJob) -> Bool { job.index % count == index }
    public var description: String { "\(index)/\(count)" }
}

/// What one trained (or cached) model contributes: its record and its logits on all records.
///
/// The target's logits are held in memory; a reference model's stay in its `logitsFile` (the
/// store's per-model file) and are read one model at a time when the signals are written, so
/// that hundreds of reference models never sit in memory together.
public struct TrainedModel {
    var role: String
    var key: String
    var record: ModelRecord
    /// [N + P, C] logits on the audit records then the population records; empty when they are
    /// left in `logitsFile`.
    var logits: [Float]
    var cached: Bool
    /// The `.npy` file [N + P, C] f32 that holds the logits, when known.
    var logitsFile: String? = nil

    /// The logits: those in memory, else read from `logitsFile`.
    func loadLogits() throws -> [Float] {
        if !logits.isEmpty { return logits }
        guard let logitsFile else { return [] }
        return try Npy.read(Float.self, from: logitsFile).values
    }
}

/// What the models stage hands on: the membership of every model, the shape of a record, and
/// the models themselves (target first), each with its logits on every audit and population record.
struct AuditModels {
    var memberships: Memberships
    var spec: ModelSpec
    var target: TrainedModel
    var references: [TrainedModel]
    /// The target then the reference models.
    var all: [TrainedModel] { [target] + references }
}

/// Stage 2, models: trains the target and reference models the store lacks (each under a claim,
/// side by side within `run.threads`), keeps their checkpoints (`ModelsStage+Checkpoints`), and
/// gathers every model's logits. `mia-audit plan` measures its cost (`ModelsStage+Trial`),
/// `mia-audit train --shard` runs one shard of it.
public struct ModelsStage: AuditStage {
    let context: StageContext

    public init(_ context: StageContext) { self.context = context }

    /// The memberships of the audit's models (the target's given by `target.membership` when the
    /// target was trained elsewhere), then every model trained or read from the store.
    func run(_ population: Population) throws -> AuditModels {
        var memberships = Memberships.of(config, recordCount: population.auditCount)
        if let given = plan.targetMembership { memberships.target = given }
        let spec = ModelSpec(featureShape: population.info.featureShape, classCount: population.info.classCount)
        let models = try trainModels(population, memberships, spec)
        return AuditModels(
            memberships: memberships, spec: spec, target: models[0], references: Array(models.dropFirst()))
    }
}

extension ModelsStage {
    /// The models this audit trains, with their keys: the same for every process that reads the
    /// config. The target is model 0, unless it was trained elsewhere (`target:`).
    func modelJobs(_ memberships: Memberships, _ spec: ModelSpec) -> [ModelJob] {
        let masks = [memberships.target] + memberships.references
        return masks.enumerated().compactMap { i, mask in
            if i == 0 && plan.targetChoice != nil { return nil }
            let members = Memberships.indices(mask)
            var rng = SeededRandom.derive(seed: config.seed, 10_000 + UInt64(i))
            let seed = rng.next()
            let key = modelKey(spec, members: members, seed: seed)
            return ModelJob(
                index: i, role: i == 0 ? "target" : "reference \(i)", members: members, seed: seed, key: key)
        }
    }

    func logitsPath(_ job: ModelJob, _ population: Population) -> String {
        store.logitsPath(job.key, audit: population.auditCount, population: population.populationCount)
    }

    /// Trains the models of `shard` that the store lacks (and computes their logits), claiming each
    /// first. With `wait`, also waits for models that other workers are training, so that on return
    /// every model of the shard is in the store. Returns how many this process trained.
    @discardableResult
    func trainMissing(
        _ jobs: [ModelJob], _ population: Population, _ spec: ModelSpec, shard: Shard = .all, wait: Bool = true
    ) throws -> Int {
        rememberDigests()
        let mine = jobs.filter { shard.contains($0) }
        let missing = mine.filter { !reusable($0) }
        logger.info(
            "models: \(mine.count) in this shard, \(mine.count - missing.count) in the store, \(missing.count) to train"
        )
        guard !missing.isEmpty else { return 0 }

        let layout = TrainingLayout(
            missing: missing.count, threads: config.threads, parallelModels: config.parallelModels)
        let workers = layout.sideBySide
        logger.info("training \(layout)")
        // The host owns BLAS threading: side-by-side trainings share `run.threads`.
        BLAS.setThreadCount(layout.blasThreads)
        defer { BLAS.setThreadCount(config.threads) }
        let lock = NSLock()
        var queue = missing
        var failures: [Error] = []
        var trained = 0
        var running = workers
        let epochs = try? PluginOptions(plan.model.options).int("epochs")
        progress.report(task: "training models", done: 0, total: missing.count)
        Parallel.onOwnThreads(workers) { _ in  // shares `queue`, `failures`, `trained`, `running` under `lock`
            while true {
                let job: ModelJob? = lock.withLock {
                    guard failures.isEmpty, !queue.isEmpty, !cancellation.isCancelled else {
                        running -= 1
                        handOverThreads(layout, workersLeft: running)
                        return nil
                    }
                    return queue.removeFirst()
                }
                guard let job else { return }
                do {
                    if reusable(job) { continue }
                    // Trained here: true; finished by another worker while we claimed: false.
                    let attempt = try underClaimOnce(
                        job.key, job.role, reusable: { reusable(job) ? false : nil },
                        train: {
                            try train(job, population, spec) { epoch in
                                self.progress.report(
                                    task: "  \(job.role): epoch", done: epoch.epoch, total: epochs ?? 0)
                            }
                            return true
                        })
                    guard let trainedHere = attempt else {
                        if wait { lock.withLock { queue.append(job) }; Thread.sleep(forTimeInterval: 1) }
                        continue
                    }
                    guard trainedHere else { continue }
                    let done = lock.withLock {
                        trained += 1; return trained
                    }
                    progress.report(task: "training models", done: done, total: missing.count)
                } catch {
                    lock.withLock { failures.append(error) }
                }
            }
        }
        if cancellation.isCancelled {
            throw PluginError(
                .cancelled,
                "the run was interrupted; finished models are kept in \(config.modelStore), run again to resume")
        }
        if let first = failures.first { throw first }
        return trained
    }

    /// When a side-by-side worker finds the queue empty, the models still training share its
    /// threads: `run.threads` over the workers left (W1's five models on two cores ran the fifth
    /// on one core while the other idled). A model's bits do not depend on the thread count, even
    /// one that changes mid-training (`Network.shards` and `GEMMPieces` are fixed by the shape;
    /// `GroupTrainingFingerprintTests`), so this changes only the wall time. The count reaches the
    /// plugins' copies of Kernels through the environment (`BLASThreads`): replacing the value of
    /// a variable that exists swaps one pointer in glibc, and the string it replaces stays
    /// allocated, so the training threads' concurrent reads see the old count or the new one.
    private func handOverThreads(_ layout: TrainingLayout, workersLeft: Int) {
        guard layout.sideBySide > 1, workersLeft > 0 else { return }
        let share = max(layout.blasThreads, config.threads / workersLeft)
        guard share != BLAS.threadCount else { return }
        BLAS.setThreadCount(share)
        logger.info("queue empty: \(share) BLAS threads for each model still training")
    }

    /// Trains one model, saves it, and stores its logits on every audit and population record.
    func train(_ job: ModelJob, _ population: Population, _ spec: ModelSpec, onEpoch: @escaping (EpochRecord) -> Void)
        throws
    {
        let (f, l, hf, hl) = trainingData(job, population, spec)
        let model = try DynamicModel(
            plan.model.info, optionsJSON: plan.model.optionsJSON, spec: spec, bridge: bridge(job.role))
        let start = Date()
        let (af, al) = publicRecords(population)
        let canaries = gradientCanaries(for: job)
        let history = try model.train(
            features: f, labels: l, heldoutFeatures: hf, heldoutLabels: hl, auxiliaryFeatures: af, auxiliaryLabels: al,
            seed: job.seed, checkpointEpochs: config.checkpoints,
            onCheckpoint: { try self.saveCheckpoint(model, job, epoch: $0, population, spec) },
            gradientCanaries: canaries,
            onEpoch: onEpoch)
        try storeGradientCanaries(canaries, job)
        let seconds = Date().timeIntervalSince(start)
        let total = population.auditCount + population.populationCount
        let logits = try model.predict(features: population.features, count: total)
        try storeLogits(logits, shape: [total, spec.classCount], to: logitsPath(job, population))
        let record = ModelRecord(
            key: job.key, role: job.role, seed: job.seed, memberCount: job.members.count, backend: plan.model.info.name,
            backendVersion: plan.model.info.plugin.version, history: history, trainSeconds: seconds,
            checkpointEpochs: config.checkpoints.isEmpty ? nil : config.checkpoints)
        try store.save(model, record: record)
        logger.info("trained \(job.role) in \(String(format: "%.1f", seconds)) s")
    }

    /// The public records every model's training gets (`dataset.public_records`; target and
    /// references follow one recipe), or nil when the config gives none.
    func publicRecords(_ population: Population) -> ([Float]?, [Int32]?) {
        population.publicCount > 0 ? (population.publicFeatures, population.publicLabels) : (nil, nil)
    }

    /// A model's training data: its members' features and labels, and the audit records it does
    /// not train on (held out, evaluated after each epoch).
    func trainingData(_ job: ModelJob, _ population: Population, _ spec: ModelSpec)
        -> (features: [Float], labels: [Int32], heldoutFeatures: [Float], heldoutLabels: [Int32])
    {
        let size = spec.featureSize
        let n = population.auditCount
        var isMember = [Bool](repeating: false, count: n)
        for i in job.members { isMember[i] = true }
        let heldout = (0..<n).filter { !isMember[$0] }
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
        return (f, l, hf, hl)
    }

    /// Trains what is missing, then gathers every model's record and logits (computing logits of
    /// a stored model that lacks them for these record counts).
    func trainModels(_ population: Population, _ memberships: Memberships, _ spec: ModelSpec) throws -> [TrainedModel] {
        let jobs = modelJobs(memberships, spec)
        let external = try plan.targetChoice.map { try externalTarget($0, population, spec) }
        let trainedKeys = Set(jobs.filter { !reusable($0) }.map(\.key))
        try trainMissing(jobs, population, spec)
        var result: [TrainedModel] = []
        let total = population.auditCount + population.populationCount
        for job in jobs {
            guard let record = store.record(job.key) else {
                throw PluginError(.internal, "model \(job.key) is not in the store after training")
            }
            let path = logitsPath(job, population)
            let justWritten = trainedKeys.contains(job.key) && ArtifactChecksum.verify(path) == .intact
            if !justWritten && !reusableLogits(path, shape: [total, spec.classCount]) {
                let model = try DynamicModel(
                    plan.model.info, optionsJSON: plan.model.optionsJSON, spec: spec, bridge: bridge(job.role))
                try model.load(from: store.modelPath(job.key))
                let logits = try model.predict(features: population.features, count: total)
                try storeLogits(logits, shape: [total, spec.classCount], to: path)
            }
            // The target's logits are held in memory; a reference model's stay in its file, read
            // one model at a time when the signals are written.
            let logits = job.index == 0 ? try Npy.read(Float.self, from: path).values : []
            result.append(
                TrainedModel(
                    role: job.role, key: job.key, record: record, logits: logits,
                    cached: !trainedKeys.contains(job.key), logitsFile: path))
        }
        logReuse(result)
        if let external { result.insert(external, at: 0) }
        return result
    }

    /// The target model, ready to answer: a target trained elsewhere from its backend (and its
    /// file, if any), otherwise the store's model under `storeKey`.
    func loadTarget(_ spec: ModelSpec, storeKey: String?) throws -> DynamicModel {
        if let target = plan.targetChoice {
            let model = try DynamicModel(
                target.info, optionsJSON: target.optionsJSON, spec: spec, bridge: bridge("target"))
            if let file = config.target?.modelFile { try model.load(from: file) }
            return model
        }
        guard let storeKey else {
            throw PluginError(.internal, "the target was trained here but no store key was given")
        }
        let model = try DynamicModel(
            plan.model.info, optionsJSON: plan.model.optionsJSON, spec: spec, bridge: bridge("target"))
        try model.load(from: store.modelPath(storeKey))
        return model
    }

    /// A target trained elsewhere: loaded from its file (or served by its backend) and asked for
    /// its logits on every audit and population record.
    func externalTarget(_ target: ResolvedComponent, _ population: Population, _ spec: ModelSpec) throws -> TrainedModel
    {
        let model = try loadTarget(spec, storeKey: nil)
        let total = population.auditCount + population.populationCount
        let logits = try model.predict(features: population.features, count: total)
        let key = provenance.externalTargetKey(
            target, modelFile: config.target?.modelFile, membershipHash: plan.targetMembershipHash)
        let record = ModelRecord(
            key: key, role: "target", seed: 0, memberCount: plan.targetMembership?.filter { $0 }.count ?? 0,
            backend: target.info.name, backendVersion: target.info.plugin.version, history: [], trainSeconds: 0)
        logger.info(
            "target: \(target.info.name), trained elsewhere; membership sha256 \(plan.targetMembershipHash ?? "?")")
        return TrainedModel(role: "target", key: key, record: record, logits: logits, cached: true)
    }
}

extension ModelsStage {
    /// What the store holds of this audit's models.
    public struct StoreStatus {
        public var jobs: [ModelJob]
        public var finished: [ModelJob]
        public var claimed: [ModelJob]
        public var missing: [ModelJob]
    }

    /// The audit's models and which the store already holds; reads no dataset, trains nothing.
    public func storeStatus() -> StoreStatus {
        let memberships = Memberships.of(config, recordCount: config.auditRecords)
        let spec = ModelSpec(featureShape: plan.datasetInfo.featureShape, classCount: plan.datasetInfo.classCount)
        let jobs = modelJobs(memberships, spec)
        let finished = jobs.filter { isComplete($0) }
        let claimed = jobs.filter { !isComplete($0) && Claim.isHeld(in: store.folder($0.key)) }
        let missing = jobs.filter { !isComplete($0) && !Claim.isHeld(in: store.folder($0.key)) }
        return StoreStatus(jobs: jobs, finished: finished, claimed: claimed, missing: missing)
    }

    /// What the models still to train should cost, measured on the models the store holds for
    /// this audit: their mean training time and the size of their files. Nil when the store
    /// holds none of them yet (nothing measured: train one, e.g. `train --shard 0/N`, and ask again).
    public struct CostEstimate {
        public var secondsPerModel: Double
        public var secondsPerEpoch: Double
        public var bytesPerModel: Int
        public var measuredOn: Int
    }

    public func costEstimate(_ status: StoreStatus) -> CostEstimate? {
        let records = status.finished.compactMap { store.record($0.key) }
        guard !records.isEmpty else { return nil }
        let seconds = records.map(\.trainSeconds).reduce(0, +) / Double(records.count)
        let epochs = records.flatMap(\.history).map(\.seconds)
        var bytes = 0
        for job in status.finished {
            let folder = store.folder(job.key)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
                let size =
                    (try? FileManager.default.attributesOfItem(
                        atPath: (folder as NSString).appendingPathComponent(name))[.size]) as? Int
                bytes += size ?? 0
            }
        }
        return CostEstimate(
            secondsPerModel: seconds,
            secondsPerEpoch: epochs.isEmpty ? .nan : epochs.reduce(0, +) / Double(epochs.count),
            bytesPerModel: bytes / max(1, status.finished.count), measuredOn: records.count)
    }

    /// Trains the models of `shard` that the store lacks, without waiting for those another
    /// worker holds (`mia-audit train --shard I/N`). Returns how many this process trained.
    func train(_ population: Population, shard: Shard) throws -> Int {
        let memberships = Memberships.of(config, recordCount: population.auditCount)
        let spec = ModelSpec(featureShape: population.info.featureShape, classCount: population.info.classCount)
        return try trainMissing(modelJobs(memberships, spec), population, spec, shard: shard, wait: false)
    }
}
