import Foundation
import Kernels
import PluginABI
import PluginKit

/// The signals of one audit, in the layouts of `mia_signals_t`, computed once and lent to every
/// attack.
public final class SignalSet {
    public let recordCount: Int
    public let classCount: Int
    public let referenceCount: Int
    public let populationCount: Int
    public let labels: [Int32]
    public let targetLogits: [Float]
    public let targetMembership: [UInt8]
    public let referenceLogits: [Float]
    public let referenceMembership: [UInt8]
    public let populationLabels: [Int32]
    public let populationTargetLogits: [Float]
    public let populationReferenceLogits: [Float]
    /// Identifies these signals (the models' keys and the sizes), for caching attack scores.
    public let key: String

    init(
        classCount: Int, labels: [Int32], targetLogits: [Float], targetMembership: [UInt8], referenceCount: Int,
        referenceLogits: [Float], referenceMembership: [UInt8], populationLabels: [Int32], populationTargetLogits: [Float],
        populationReferenceLogits: [Float], key: String
    ) {
        recordCount = labels.count
        self.classCount = classCount
        self.referenceCount = referenceCount
        populationCount = populationLabels.count
        self.labels = labels
        self.targetLogits = targetLogits
        self.targetMembership = targetMembership
        self.referenceLogits = referenceLogits
        self.referenceMembership = referenceMembership
        self.populationLabels = populationLabels
        self.populationTargetLogits = populationTargetLogits
        self.populationReferenceLogits = populationReferenceLogits
        self.key = key
    }

    convenience init(population p: Population, memberships m: Memberships, target: TrainedModel, references: [TrainedModel]) {
        let n = p.auditCount, c = p.info.classCount, pc = p.populationCount
        var h = SHA256()
        h.update("signals-v1 n=\(n) p=\(pc) c=\(c)\n")
        for model in [target] + references { h.update(model.key + "\n") }
        self.init(
            classCount: c, labels: Array(p.labels[0..<n]), targetLogits: Array(target.logits[0..<(n * c)]),
            targetMembership: m.target.map { $0 ? 1 : 0 }, referenceCount: references.count,
            referenceLogits: references.flatMap { $0.logits[0..<(n * c)] },
            referenceMembership: m.references.flatMap { $0.map { $0 ? 1 : 0 } },
            populationLabels: Array(p.labels[n..<(n + pc)]),
            populationTargetLogits: Array(target.logits[(n * c)..<((n + pc) * c)]),
            populationReferenceLogits: references.flatMap { $0.logits[(n * c)..<((n + pc) * c)] }, key: h.hexDigest())
    }

    /// Lends the signals as a `mia_signals_t` holding what `needs` asks for.
    func withCSignals<T>(
        needs: AttackRequirements, features: [Float], featureShape: [Int], seed: UInt64,
        _ body: (UnsafePointer<mia_signals_t>) throws -> T
    ) rethrows -> T {
        let n = recordCount, pc = populationCount
        let hasFeatures = !features.isEmpty
        let size = featureShape.reduce(1, *)
        return try labels.withUnsafeBufferPointer { l in
            try targetLogits.withUnsafeBufferPointer { t in
                try targetMembership.withUnsafeBufferPointer { tm in
                    try referenceLogits.withUnsafeBufferPointer { rl in
                        try referenceMembership.withUnsafeBufferPointer { rm in
                            try populationLabels.withUnsafeBufferPointer { pl in
                                try populationTargetLogits.withUnsafeBufferPointer { pt in
                                    try populationReferenceLogits.withUnsafeBufferPointer { pr in
                                        // Views into the features in place: audit records, then population records.
                                        try features.withUnsafeBufferPointer { f in
                                            let base = UnsafeMutableRawPointer(mutating: f.baseAddress)
                                            var ft = mia_tensor_t(), pft = mia_tensor_t()
                                            if hasFeatures, let base {
                                                ft = TensorView.make(base, dtype: MIA_DTYPE_F32, shape: [n] + featureShape)
                                                if pc > 0 {
                                                    pft = TensorView.make(
                                                        base + n * size * MemoryLayout<Float>.stride, dtype: MIA_DTYPE_F32,
                                                        shape: [pc] + featureShape)
                                                }
                                            }
                                            return try withUnsafePointer(to: &ft) { ftp in
                                                try withUnsafePointer(to: &pft) { pftp in
                                                    var s = mia_signals_t()
                                                    s.struct_size = UInt32(MemoryLayout<mia_signals_t>.size)
                                                    s.record_count = Int64(n)
                                                    s.class_count = Int32(classCount)
                                                    s.reference_count = Int32(referenceCount)
                                                    s.population_count = Int64(pc)
                                                    s.labels = l.baseAddress
                                                    s.target_logits = t.baseAddress
                                                    if referenceCount > 0 {
                                                        s.reference_logits = rl.baseAddress
                                                        s.reference_membership = rm.baseAddress
                                                    }
                                                    if pc > 0 {
                                                        s.population_labels = pl.baseAddress
                                                        s.population_target_logits = pt.baseAddress
                                                        s.population_reference_logits = referenceCount > 0 ? pr.baseAddress : nil
                                                    }
                                                    if needs.contains(.knownMembership) { s.target_membership = tm.baseAddress }
                                                    if hasFeatures && (needs.contains(.features) || needs.contains(.queryAccess)) {
                                                        s.features = ftp
                                                        s.population_features = pc > 0 ? pftp : nil
                                                    }
                                                    s.seed = seed
                                                    return try body(&s)
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

extension AuditRunner {
    var signalsFolder: String { (output as NSString).appendingPathComponent("signals") }
    var scoresFolder: String { (output as NSString).appendingPathComponent("scores") }

    /// Computes the shared signals and writes them to `signals/` as `.npy` files.
    func writeSignals(_ p: Population, _ m: Memberships, _ target: TrainedModel, _ references: [TrainedModel]) throws -> SignalSet {
        let s = SignalSet(population: p, memberships: m, target: target, references: references)
        try write(s)
        return s
    }

    func write(_ s: SignalSet) throws {
        let dir = signalsFolder
        let n = s.recordCount, c = s.classCount, r = s.referenceCount, pc = s.populationCount
        func path(_ name: String) -> String { (dir as NSString).appendingPathComponent(name) }
        try Npy.write(s.labels, shape: [n], to: path("labels.npy"))
        try Npy.write(s.targetLogits, shape: [n, c], to: path("target_logits.npy"))
        try Npy.write(s.targetMembership, shape: [n], to: path("target_membership.npy"))
        try Npy.write(s.referenceLogits, shape: [r, n, c], to: path("reference_logits.npy"))
        try Npy.write(s.referenceMembership, shape: [r, n], to: path("reference_membership.npy"))
        try Npy.write(s.populationLabels, shape: [pc], to: path("population_labels.npy"))
        try Npy.write(s.populationTargetLogits, shape: [pc, c], to: path("population_target_logits.npy"))
        try Npy.write(s.populationReferenceLogits, shape: [r, pc, c], to: path("population_reference_logits.npy"))
    }

    /// Runs every attack on the shared signals; writes `scores/<attack>.npy` (and the evaluation
    /// mask `scores/<attack>.mask.npy` when the attack trained on part of the records). Scores of
    /// an attack whose options and signals are unchanged since a previous run are reused.
    func runAttacks(
        _ undefended: SignalSet, _ population: Population, _ spec: ModelSpec, targetKey: String
    ) throws -> ([(String, [Double], [UInt8])], [String: Int]) {
        try FileManager.default.createDirectory(atPath: scoresFolder, withIntermediateDirectories: true)
        var results: [(String, [Double], [UInt8])] = []
        var queryCounts: [String: Int] = [:]
        let settings: [OutputDefence?] = [nil] + config.defences.map { $0 }
        let total = plan.attacks.count * settings.count
        for (d, defence) in settings.enumerated() {
            let signals = defence.map { undefended.defended(by: $0) } ?? undefended
            for (j, attack) in plan.attacks.enumerated() {
                let index = d * plan.attacks.count + j
                let name = defence.map { "\(attack.name)@\($0)" } ?? attack.name
                let (scores, mask, queries) = try runAttack(
                    attack, named: name, index: index, on: signals, behind: defence, population, spec, targetKey: targetKey)
                if queries > 0 { queryCounts[name] = queries }
                results.append((name, scores, mask))
                progress.report(task: "attacks", done: index + 1, total: total)
            }
        }
        return (results, queryCounts)
    }

    /// Runs one attack (or reuses its scores when its options and signals are unchanged); its
    /// files go to `folder` (default `scores/`).
    func runAttack(
        _ a: ResolvedAttack, named name: String, index: Int, on signals: SignalSet, behind defence: OutputDefence?,
        _ population: Population, _ spec: ModelSpec, targetKey: String, in folder: String? = nil
    ) throws -> (scores: [Double], mask: [UInt8], queries: Int) {
        func path(_ suffix: String) -> String { ((folder ?? scoresFolder) as NSString).appendingPathComponent(name + suffix) }
        var h = SHA256()
        h.update("scores-v1 \(a.component.info.name)@\(a.component.info.plugin.name)/\(a.component.info.plugin.version)\n")
        h.update(a.component.optionsJSON + "\n" + signals.key + "\nseed=\(config.seed)")
        let key = h.hexDigest()
        if let stored = try? String(contentsOfFile: path(".key"), encoding: .utf8), stored == key,
            let (scores, _) = try? Npy.read(Double.self, from: path(".npy")), scores.count == signals.recordCount,
            let (mask, _) = try? Npy.read(UInt8.self, from: path(".mask.npy")), mask.count == signals.recordCount
        {
            logger.info("attack \(name): scores reused from a previous run")
            return (scores, mask, 0)
        }
        let attack = try DynamicAttack(a.component.info, optionsJSON: a.component.optionsJSON, bridge: bridge(name))
        let needs = attack.requirements
        var queries: QueryService?
        if needs.contains(.queryAccess) {
            let target = try loadTarget(spec, storeKey: targetKey)
            let publicRecords = population.publicCount > 0 ? (population.publicFeatures, population.publicLabels) : nil
            queries = QueryService(target: target, defence: defence, auxiliary: publicRecords) { [plan] in
                try DynamicModel(plan.model.info, optionsJSON: plan.model.optionsJSON, spec: spec, bridge: self.bridge("shadow"))
            }
        }
        let start = Date()
        var seed = SeededRandom.derive(seed: config.seed, 20_000 + UInt64(index))
        let (scores, mask) = try signals.withCSignals(
            needs: needs, features: population.features, featureShape: population.info.featureShape, seed: seed.next()
        ) { try attack.score($0, queries: queries) }
        try Npy.write(scores, shape: [scores.count], to: path(".npy"))
        try Npy.write(mask, shape: [mask.count], to: path(".mask.npy"))
        try AtomicFile.write(key, to: path(".key"))
        let q = queries?.queryCount ?? 0
        let seconds = String(format: "%.2f", Date().timeIntervalSince(start))
        logger.info("attack \(name): scored \(scores.count) records in \(seconds) s\(q > 0 ? ", \(q) target queries" : "")")
        return (scores, mask, q)
    }
}
