import Foundation
import Kernels
import PluginKit

// Distillation students of the loss-trajectory attack (`audit.trajectory.source: distillation`;
// Liu et al. 2022): each model of the audit (the target, even one trained elsewhere, and every
// reference model) is the teacher of a student that the `model:` backend trains on the teacher's
// soft targets softmax(z / T) over the population records (ABI 1.5 `soft_targets`). The teacher's
// logits on those records are the ones the audit already holds, so a teacher is never asked
// again: a target given as a file or served by any backend works as long as it gave logits.
//
// A student is a model of the store like any other, under its own key (`Provenance.studentKey`);
// at the end of each of its epochs 1 … E the host keeps it (`model-epoch<E>.bin`) and its logits
// on the audit records (`logits-<N>-0-epoch<E>.npy`: N audit records, no population records),
// which make the trajectory.
extension ModelsStage {
    /// The students' logits on the audit records at each distillation epoch, trained or read from
    /// the store: `CheckpointSignals` with epochs 1 … E, the target's student then every reference
    /// model's.
    func distilledTrajectories(_ population: Population, _ audited: AuditModels) throws -> CheckpointSignals {
        let t = config.trajectory
        let n = population.auditCount, c = audited.spec.classCount
        var perModel: [[[Float]]] = []  // [model][epoch] -> [N, C]
        var keys: [String] = []
        for model in audited.all {
            let (key, logits) = try student(of: model, population, audited.spec)
            keys.append(key)
            perModel.append(logits)
        }
        var target: [Float] = [], references: [Float] = []
        target.reserveCapacity(t.epochs * n * c)
        for e in 0..<t.epochs {
            target += perModel[0][e]
            for r in perModel.dropFirst() { references += r[e] }
        }
        logger.info(
            "trajectory: \(t.epochs) distillation epochs of \(keys.count) students lent to the attacks that read every checkpoint"
        )
        var signals = CheckpointSignals(
            epochs: (1...t.epochs).map { Int32($0) }, targetLogits: target, referenceLogits: references)
        signals.origin = "distillation students " + keys.joined(separator: ",")
        return signals
    }

    /// The student of `teacher`: its key and its [N, C] audit-record logits at each epoch 1 … E,
    /// from the store when it holds them all, else trained (under a claim) and stored.
    func student(of teacher: TrainedModel, _ population: Population, _ spec: ModelSpec) throws
        -> (key: String, logits: [[Float]])
    {
        let n = population.auditCount, c = spec.classCount
        let s = try studentRecipe(teacher.key, teacher.role, logits: try teacher.loadLogits(), population, spec)
        let key = s.key, role = s.role
        if let stored = storedStudent(key, n: n, c: c) {
            logger.info("\(role): reused from store \(key)")
            return (key, stored)
        }
        let logits = try underClaim(
            key, role, reusable: { storedStudent(key, n: n, c: c) },
            train: {
                try trainStudent(
                    key, role: role, s.backend, s.records, s.labels, s.softTargets, population, spec, s.seed)
            })
        return (key, logits)
    }

    /// What determines a student, and its key (`Provenance.studentKey`).
    struct StudentRecipe {
        var key: String
        var role: String
        var backend: ResolvedComponent
        /// The population records [P, features] and their labels: what the student trains on.
        var records: [Float]
        var labels: [Int32]
        /// The teacher's softmax(z / T) on those records [P, C].
        var softTargets: [Float]
        var seed: UInt64
    }

    /// The recipe of the student of the model `teacherKey` (`teacherRole`), from its logits on
    /// every audit and population record (`all`, [N + P, C]).
    func studentRecipe(
        _ teacherKey: String, _ teacherRole: String, logits all: [Float], _ population: Population, _ spec: ModelSpec
    ) throws -> StudentRecipe {
        let t = config.trajectory
        let n = population.auditCount, p = population.populationCount, c = spec.classCount
        let size = spec.featureSize
        guard all.count >= (n + p) * c else {
            throw PluginError(
                .internal, "\(teacherRole): \(all.count) logits, expected [\(n + p), \(c)] for its soft targets")
        }
        let records = Array(population.features[(n * size)..<((n + p) * size)])
        let labels = Array(population.labels[n..<(n + p)])
        let teacherLogits = Array(all[(n * c)..<((n + p) * c)])
        guard teacherLogits.allSatisfy(\.isFinite) else {
            throw PluginError(
                .invalidArgument,
                "\(teacherRole) gave non-finite logits on the population records: it cannot be distilled (soft targets need logits)"
            )
        }
        let soft = Self.softTargets(teacherLogits, classes: c, temperature: t.temperature)
        let backend = studentBackend()
        let seed = Provenance.seed(run: config.seed, name: "distillation student of \(teacherRole)")
        let key = provenance.studentKey(
            teacher: teacherKey, backend: backend, records: records, labels: labels, softTargets: soft,
            temperature: t.temperature, epochs: t.epochs, seed: seed)
        return StudentRecipe(
            key: key, role: "student of \(teacherRole)", backend: backend, records: records, labels: labels,
            softTargets: soft, seed: seed)
    }

    /// The `model:` backend with its options, `epochs` set to the distillation epochs.
    func studentBackend() -> ResolvedComponent {
        var backend = plan.model
        backend.options["epochs"] = .int(config.trajectory.epochs)
        return backend
    }

    /// The student's logits at every epoch when the store holds its record and all of them.
    func storedStudent(_ key: String, n: Int, c: Int) -> [[Float]]? {
        guard store.record(key) != nil else { return nil }
        var epochs: [[Float]] = []
        for e in 1...config.trajectory.epochs {
            let path = store.checkpointLogitsPath(key, audit: n, population: 0, epoch: e)
            guard reusableLogits(path, shape: [n, c]), let values = try? Npy.read(Float.self, from: path).values
            else { return nil }
            epochs.append(values)
        }
        return epochs
    }

    /// Trains a student on `soft` (the teacher's soft targets on `records`), keeping it and its
    /// audit-record logits at the end of every epoch; returns those logits.
    func trainStudent(
        _ key: String, role: String, _ backend: ResolvedComponent, _ records: [Float], _ labels: [Int32],
        _ soft: [Float], _ population: Population, _ spec: ModelSpec, _ seed: UInt64
    ) throws -> [[Float]] {
        let e = config.trajectory.epochs
        let model = try DynamicModel(backend.info, optionsJSON: backend.optionsJSON, spec: spec, bridge: bridge(role))
        var logits: [[Float]] = []
        let start = Date()
        let history = try model.train(
            features: records, labels: labels, seed: seed, checkpointEpochs: Array(1...e),
            onCheckpoint: { epoch in
                try store.saveFile(model, to: store.checkpointModelPath(key, epoch: epoch))
                logits.append(
                    try checkpointLogits(key, role: role, epoch: epoch, backend, populationRecords: 0, population, spec)
                )
            },
            softTargets: SoftTargetRequest(probabilities: soft, temperature: config.trajectory.temperature))
        guard logits.count == e else {
            throw PluginError(
                .invalidArgument,
                "\(role): the model backend `\(backend.info.name)` (\(backend.info.plugin.path)) handed \(logits.count) of the \(e) epochs' checkpoints of the student (it must offer checkpoints, and train every epoch: no early stopping)"
            )
        }
        let record = ModelRecord(
            key: key, role: role, seed: seed, memberCount: labels.count, backend: backend.info.name,
            backendVersion: backend.info.plugin.version, history: history,
            trainSeconds: Date().timeIntervalSince(start), checkpointEpochs: Array(1...e))
        try store.save(model, record: record)
        logger.info("trained \(role) (\(e) distillation epochs) in \(String(format: "%.1f", record.trainSeconds)) s")
        return logits
    }

    /// softmax(z / T) of every row of `logits` ([rows, classes]), in f32 (computed in f64).
    static func softTargets(_ logits: [Float], classes c: Int, temperature: Double) -> [Float] {
        var out = [Float](repeating: 0, count: logits.count)
        var scaled = [Float](repeating: 0, count: c)
        var row = [Double](repeating: 0, count: c)
        for r in 0..<(logits.count / c) {
            for j in 0..<c { scaled[j] = Float(Double(logits[r * c + j]) / temperature) }
            scaled.withUnsafeBufferPointer { z in
                row.withUnsafeMutableBufferPointer { Probability.softmax(z, into: $0) }
            }
            for j in 0..<c { out[r * c + j] = Float(row[j]) }
        }
        return out
    }
}
