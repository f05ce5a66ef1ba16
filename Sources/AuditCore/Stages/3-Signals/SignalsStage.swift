import Foundation
import PluginKit

/// Stage 3, signals: the target's and every reference model's logits on the audit and population
/// records, gathered once into a `SignalSet` and written to `signals/`, then lent to every attack.
/// Output defences (`audit.defences`, `SignalSet+Defence`) and signals computed elsewhere
/// (`signals:`, `ProvidedSignals`) enter the pipeline here.
struct SignalsStage: AuditStage {
    let context: StageContext

    init(_ context: StageContext) { self.context = context }

    /// Computes the shared signals of `models` and writes them to `signals/` as `.npy` files. The
    /// reference logits are written there model by model and mapped
    /// (`SignalSet.init(...writingReferencesTo:)`).
    func run(_ population: Population, _ models: AuditModels) throws -> SignalSet {
        let s = try SignalSet(
            population: population, memberships: models.memberships, target: models.target,
            references: models.references,
            writingReferencesTo: signalsFolder)
        if config.augmentations.isEmpty { removeAugmentedFiles() } else { try addAugmentations(s, population, models) }
        try write(s)
        return s
    }

    /// An audit of signals computed elsewhere (`signals:`): no dataset, no training. Writes them to
    /// `signals/` and returns them with the population and models they stand for (labels only;
    /// the target's logits; no reference model of its own).
    func run(_ provided: ProvidedSignals) throws -> (Population, AuditModels, SignalSet) {
        let s = provided.signals
        try context.stage("load signals") { try write(s) }
        let info = DatasetInfo(
            recordCount: s.recordCount + s.populationCount, classCount: s.classCount, featureShape: [])
        let population = Population(
            info: info, features: [], labels: s.labels + s.populationLabels, auditCount: s.recordCount,
            populationCount: s.populationCount)
        var memberships = Memberships(recordCount: s.recordCount, referenceCount: 0, seed: config.seed)
        memberships.target = provided.membership
        memberships.references = provided.referenceMembership
        let record = ModelRecord(
            key: s.key, role: "target", seed: 0, memberCount: 0, backend: "provided", backendVersion: "",
            history: [], trainSeconds: 0)
        let target = TrainedModel(
            role: "target", key: s.key, record: record, logits: s.targetLogits + s.populationTargetLogits, cached: true)
        let models = AuditModels(
            memberships: memberships, spec: ModelSpec(featureShape: [], classCount: s.classCount), target: target,
            references: [])
        return (population, models, s)
    }
}

extension SignalsStage {
    /// Writes the signals to `signals/`. A reference array already mapped from there is left as
    /// it is; one mapped from elsewhere (the user's files) is copied block by block; a float64
    /// file is converted block by block into float32 there, and the signals then map the result.
    func write(_ s: SignalSet) throws {
        let dir = signalsFolder
        let n = s.recordCount, c = s.classCount, r = s.referenceCount, pc = s.populationCount
        func path(_ name: String) -> String { (dir as NSString).appendingPathComponent(name) }
        try Npy.write(s.labels, shape: [n], to: path("labels.npy"))
        try Npy.write(s.targetLogits, shape: [n, c], to: path("target_logits.npy"))
        try Npy.write(s.targetMembership, shape: [n], to: path("target_membership.npy"))
        s.referenceLogits = try Self.write(s.referenceLogits, shape: [r, n, c], to: path("reference_logits.npy"))
        try Npy.write(s.referenceMembership, shape: [r, n], to: path("reference_membership.npy"))
        try Npy.write(s.populationLabels, shape: [pc], to: path("population_labels.npy"))
        try Npy.write(s.populationTargetLogits, shape: [pc, c], to: path("population_target_logits.npy"))
        s.populationReferenceLogits = try Self.write(
            s.populationReferenceLogits, shape: [r, pc, c], to: path("population_reference_logits.npy"))
    }

    /// Writes one signal array to `path` in bounded memory; returns the array to use from now on.
    static func write(_ a: SignalArray, shape: [Int], to path: String) throws -> SignalArray {
        switch a.storage {
        case .memory(let values):
            try Npy.write(values, shape: shape, to: path)
            return a
        case .mapped(let m):
            if sameFile(m.path, path) { return a }
            let writer = try NpyWriter<Float>(path: path, shape: shape)
            try a.forEachBlock { try writer.append($0) }
            try writer.finish()
            return a
        case .float64File(let source, _):
            let m = try NpyMapping(path: source)
            let values = try m.buffer(Double.self)
            let writer = try NpyWriter<Float>(path: path, shape: shape)
            let block = 1 << 20
            var converted = [Float](repeating: 0, count: block)
            var start = 0
            while start < values.count {
                let end = min(values.count, start + block)
                for i in start..<end { converted[i - start] = Float(values[i]) }
                try converted.withUnsafeBufferPointer {
                    try writer.append(UnsafeBufferPointer(rebasing: $0[0..<(end - start)]))
                }
                m.release(payloadBytes: (start * 8)..<(end * 8))
                start = end
            }
            try writer.finish()
            return try SignalArray.mapping(path)
        }
    }

    /// Whether two paths name the same file (same device and inode).
    static func sameFile(_ a: String, _ b: String) -> Bool {
        var sa = stat(), sb = stat()
        guard stat(a, &sa) == 0, stat(b, &sb) == 0 else { return false }
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }
}
