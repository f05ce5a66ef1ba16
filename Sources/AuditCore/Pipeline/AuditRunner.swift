import COpenBLAS
import Foundation
import Kernels
import Logging
import PluginABI
import PluginKit

/// The population the audit draws on: audit records [0, N) then population records [N, N+P).
public struct Population {
    public var info: PluginKit.DatasetInfo
    public var features: [Float]
    public var labels: [Int32]
    public var auditCount: Int
    public var populationCount: Int
    /// Public records (`dataset.public_records`), after the audit and population records: given
    /// to every model's training as auxiliary records, never audited. [M, featureSize] and [M].
    public var publicFeatures: [Float] = []
    public var publicLabels: [Int32] = []
    public var publicCount: Int { publicLabels.count }
}

/// What one trained (or cached) model contributes: its record and its logits on all records.
///
/// The target's logits are held in memory; a reference model's stay in its `logitsFile` (the
/// store's per-model file) and are read one model at a time when the signals are written, so
/// that hundreds of reference models never sit in memory together.
public struct TrainedModel {
    public var role: String
    public var key: String
    public var record: ModelRecord
    /// [N + P, C] logits on the audit records then the population records; empty when they are
    /// left in `logitsFile`.
    public var logits: [Float]
    public var cached: Bool
    /// The `.npy` file [N + P, C] f32 that holds the logits, when known.
    public var logitsFile: String? = nil

    /// The logits: those in memory, else read from `logitsFile`.
    public func loadLogits() throws -> [Float] {
        if !logits.isEmpty { return logits }
        guard let logitsFile else { return [] }
        return try Npy.read(Float.self, from: logitsFile).values
    }
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
    /// Target queries per attack, for attacks that made any.
    public var queries: [String: Int] = [:]
    /// The attacks at checkpoint epochs (`audit.checkpoints`), nil when none were asked for.
    public var checkpoints: CheckpointRun? = nil
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
        PluginGuard.policy = plan.config.pluginPolicy
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
        if let provided = plan.providedSignals { return try runOnProvidedSignals(provided) }

        let population = try stage("load dataset") { try loadPopulation() }
        var memberships = Memberships(recordCount: population.auditCount, referenceCount: config.referenceCount, seed: config.seed)
        if let given = plan.targetMembership { memberships.target = given }
        let spec = ModelSpec(featureShape: population.info.featureShape, classCount: population.info.classCount)
        let models = try stage("train models") { try trainModels(population, memberships, spec) }
        let target = models[0]
        let references = Array(models.dropFirst())
        let signals = try stage("signals") { try writeSignals(population, memberships, target, references) }
        var queries: [String: Int] = [:]
        let scores = try stage("attacks") { () -> [(String, [Double], [UInt8])] in
            let (s, q) = try runAttacks(signals, population, spec, targetKey: target.key)
            queries = q
            return s
        }
        let checkpoints = config.checkpoints.isEmpty
            ? nil : try stage("checkpoints") { try runCheckpoints(population, memberships, spec, models) }
        return AuditOutcome(
            plan: plan, population: population, memberships: memberships, target: target, references: references,
            scores: scores.map { (name: $0.0, scores: $0.1, mask: $0.2) }, stageSeconds: stageSeconds,
            queryCount: queries.values.reduce(0, +), queries: queries, checkpoints: checkpoints)
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
        var population = Population(info: info, features: features, labels: labels, auditCount: config.auditRecords,
                                    populationCount: config.populationRecords)
        if config.publicRecords > 0 {
            let (pf, pl) = try dataset.read(start: total, count: config.publicRecords, featureShape: info.featureShape)
            if let bad = pl.firstIndex(where: { $0 < 0 || Int($0) >= info.classCount }) {
                throw PluginError(.invalidArgument, "record \(total + bad) has label \(pl[bad]), outside [0, \(info.classCount))",
                                  origin: "dataset `\(d.info.name)` (\(d.info.plugin.path))")
            }
            population.publicFeatures = pf
            population.publicLabels = pl
            logger.info("dataset: \(config.publicRecords) public records [\(total), \(total + config.publicRecords)) for the models' training")
        }
        return population
    }

    /// An audit of signals computed elsewhere: no dataset, no training; attacks and evaluation only.
    func runOnProvidedSignals(_ provided: ProvidedSignals) throws -> AuditOutcome {
        let s = provided.signals
        try stage("load signals") { try write(s) }
        let info = PluginKit.DatasetInfo(recordCount: s.recordCount + s.populationCount, classCount: s.classCount, featureShape: [])
        let population = Population(info: info, features: [], labels: s.labels + s.populationLabels, auditCount: s.recordCount,
                                    populationCount: s.populationCount)
        var memberships = Memberships(recordCount: s.recordCount, referenceCount: 0, seed: config.seed)
        memberships.target = provided.membership
        memberships.references = provided.referenceMembership
        func model(_ role: String, _ logits: [Float]) -> TrainedModel {
            let record = ModelRecord(key: s.key, role: role, seed: 0, memberCount: 0, backend: "provided", backendVersion: "",
                                     history: [], trainSeconds: 0)
            return TrainedModel(role: role, key: s.key, record: record, logits: logits, cached: true)
        }
        let target = model("target", s.targetLogits + s.populationTargetLogits)
        let spec = ModelSpec(featureShape: [], classCount: s.classCount)
        let scores = try stage("attacks") { try runAttacks(s, population, spec, targetKey: s.key).0 }
        logger.info("target membership from \(provided.folder), sha256 \(provided.membershipHash)")
        return AuditOutcome(
            plan: plan, population: population, memberships: memberships, target: target, references: [],
            scores: scores.map { (name: $0.0, scores: $0.1, mask: $0.2) }, stageSeconds: stageSeconds, queryCount: 0)
    }
}
