import Foundation
import Kernels
import PluginABI
import PluginKit

/// The signals of one audit, in the layouts of `mia_signals_t`, computed once and lent to every
/// attack.
///
/// The reference logits ([R, N, C] and [R, P, C] f32, the bulk at hundreds of reference models)
/// are `SignalArray`s: in memory for small audits and tests, or read-only mappings of `.npy`
/// files that were written model by model (`init(population:memberships:target:references:writingReferencesTo:)`)
/// or given by the user (`ProvidedSignals`). Mapped, they are lent to attacks in place with
/// `MIA_SIGNALS_REFERENCE_MAPPED`, and no step of the host holds them whole in memory.
public final class SignalSet {
    public let recordCount: Int
    public let classCount: Int
    public let referenceCount: Int
    public let populationCount: Int
    public let labels: [Int32]
    public let targetLogits: [Float]
    public let targetMembership: [UInt8]
    public internal(set) var referenceLogits: SignalArray
    public let referenceMembership: [UInt8]
    public let populationLabels: [Int32]
    public let populationTargetLogits: [Float]
    public internal(set) var populationReferenceLogits: SignalArray
    /// Identifies these signals (the models' keys and the sizes), for caching attack scores.
    public let key: String
    /// Whether the logits are what an output defence released (`MIA_SIGNALS_RELEASED_PROBABILITIES`).
    public internal(set) var releasedProbabilities = false

    init(
        classCount: Int, labels: [Int32], targetLogits: [Float], targetMembership: [UInt8], referenceCount: Int,
        referenceLogits: SignalArray, referenceMembership: [UInt8], populationLabels: [Int32], populationTargetLogits: [Float],
        populationReferenceLogits: SignalArray, key: String
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

    convenience init(
        classCount: Int, labels: [Int32], targetLogits: [Float], targetMembership: [UInt8], referenceCount: Int,
        referenceLogits: [Float], referenceMembership: [UInt8], populationLabels: [Int32], populationTargetLogits: [Float],
        populationReferenceLogits: [Float], key: String
    ) {
        self.init(
            classCount: classCount, labels: labels, targetLogits: targetLogits, targetMembership: targetMembership,
            referenceCount: referenceCount, referenceLogits: SignalArray(referenceLogits), referenceMembership: referenceMembership,
            populationLabels: populationLabels, populationTargetLogits: populationTargetLogits,
            populationReferenceLogits: SignalArray(populationReferenceLogits), key: key)
    }

    /// The signals' identity: sizes and every model's key.
    static func key(_ p: Population, target: TrainedModel, references: [TrainedModel]) -> String {
        var h = SHA256()
        h.update("signals-v1 n=\(p.auditCount) p=\(p.populationCount) c=\(p.info.classCount)\n")
        for model in [target] + references { h.update(model.key + "\n") }
        return h.hexDigest()
    }

    /// The signals of an audit with every array in memory (small audits, tests, checkpoints):
    /// the reference logits are concatenated into [R, N, C] and [R, P, C]. A reference model whose
    /// logits stay on disk (`TrainedModel.logitsFile`) is read here; it must be readable.
    convenience init(population p: Population, memberships m: Memberships, target: TrainedModel, references: [TrainedModel]) {
        let n = p.auditCount, c = p.info.classCount, pc = p.populationCount
        var audit: [Float] = [], pop: [Float] = []
        audit.reserveCapacity(references.count * n * c)
        pop.reserveCapacity(references.count * pc * c)
        for model in references {
            let logits: [Float]
            do { logits = try model.loadLogits() } catch { preconditionFailure("\(model.role): \(error)") }
            precondition(logits.count == (n + pc) * c, "\(model.role): logits must be [N + P, C]")
            audit += logits[0..<(n * c)]
            pop += logits[(n * c)...]
        }
        self.init(
            classCount: c, labels: Array(p.labels[0..<n]), targetLogits: Array(target.logits[0..<(n * c)]),
            targetMembership: m.target.map { $0 ? 1 : 0 }, referenceCount: references.count, referenceLogits: audit,
            referenceMembership: m.references.flatMap { $0.map { $0 ? 1 : 0 } }, populationLabels: Array(p.labels[n..<(n + pc)]),
            populationTargetLogits: Array(target.logits[(n * c)..<((n + pc) * c)]), populationReferenceLogits: pop,
            key: Self.key(p, target: target, references: references))
    }

    /// The signals of an audit whose reference logits are written, model by model, into
    /// `folder/reference_logits.npy` [R, N, C] and `folder/population_reference_logits.npy`
    /// [R, P, C], then mapped read-only: one model's logits in memory at a time, never all.
    convenience init(
        population p: Population, memberships m: Memberships, target: TrainedModel, references: [TrainedModel],
        writingReferencesTo folder: String
    ) throws {
        let n = p.auditCount, c = p.info.classCount, pc = p.populationCount, r = references.count
        let key = Self.key(p, target: target, references: references)
        func path(_ name: String) -> String { (folder as NSString).appendingPathComponent(name) }
        let auditPath = path("reference_logits.npy"), popPath = path("population_reference_logits.npy")
        let auditWriter = try NpyWriter<Float>(path: auditPath, shape: [r, n, c])
        let popWriter = try NpyWriter<Float>(path: popPath, shape: [r, pc, c])
        for model in references {
            let logits = try model.loadLogits()
            guard logits.count == (n + pc) * c else {
                throw PluginError(.internal, "\(model.role): \(logits.count) logits, expected [\(n + pc), \(c)]")
            }
            try logits.withUnsafeBufferPointer { l in
                try auditWriter.append(UnsafeBufferPointer(rebasing: l[0..<(n * c)]))
                try popWriter.append(UnsafeBufferPointer(rebasing: l[(n * c)...]))
            }
        }
        try auditWriter.finish()
        try popWriter.finish()
        let audit = try SignalArray.mapping(auditPath), pop = try SignalArray.mapping(popPath)
        self.init(
            classCount: c, labels: Array(p.labels[0..<n]), targetLogits: Array(target.logits[0..<(n * c)]),
            targetMembership: m.target.map { $0 ? 1 : 0 }, referenceCount: r, referenceLogits: audit,
            referenceMembership: m.references.flatMap { $0.map { $0 ? 1 : 0 } }, populationLabels: Array(p.labels[n..<(n + pc)]),
            populationTargetLogits: Array(target.logits[(n * c)..<((n + pc) * c)]), populationReferenceLogits: pop, key: key)
    }

    /// Whether the reference arrays are lent as file mappings (`MIA_SIGNALS_REFERENCE_MAPPED`):
    /// every non-empty one is mapped.
    var referencesMapped: Bool {
        referenceCount > 0 && referenceLogits.isMapped && (populationReferenceLogits.isEmpty || populationReferenceLogits.isMapped)
    }

    /// Drops every resident page of the mapped reference arrays (after an attack, so that one
    /// that read them whole does not leave them resident for the next).
    func releaseReferencePages() {
        referenceLogits.releaseAll()
        populationReferenceLogits.releaseAll()
    }

    /// Lends the signals as a `mia_signals_t` holding what `needs` asks for; attacks may use `threads` threads.
    func withCSignals<T>(
        needs: AttackRequirements, features: [Float], featureShape: [Int], seed: UInt64, threads: Int = 1,
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
                                                    if referencesMapped { s.flags |= UInt32(MIA_SIGNALS_REFERENCE_MAPPED) }
                                                    if releasedProbabilities { s.flags |= UInt32(MIA_SIGNALS_RELEASED_PROBABILITIES) }
                                                    s.thread_count = Int32(max(1, threads))
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

    /// Computes the shared signals and writes them to `signals/` as `.npy` files. The reference
    /// logits are written there model by model and mapped (`SignalSet.init(...writingReferencesTo:)`).
    func writeSignals(_ p: Population, _ m: Memberships, _ target: TrainedModel, _ references: [TrainedModel]) throws -> SignalSet {
        let s = try SignalSet(population: p, memberships: m, target: target, references: references, writingReferencesTo: signalsFolder)
        try write(s)
        return s
    }

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
        s.populationReferenceLogits = try Self.write(s.populationReferenceLogits, shape: [r, pc, c], to: path("population_reference_logits.npy"))
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
                try converted.withUnsafeBufferPointer { try writer.append(UnsafeBufferPointer(rebasing: $0[0..<(end - start)])) }
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

    /// Runs every attack on the shared signals; writes `scores/<attack>.npy` (and the evaluation
    /// mask `scores/<attack>.mask.npy` when the attack trained on part of the records). Scores of
    /// an attack whose options and signals are unchanged since a previous run are reused.
    ///
    /// A checkpoint's attacks write to their own `folder` and leave out the attacks that query
    /// the target (`skippingQueries`: the query service answers with the final model); they
    /// report no progress of their own (`reportProgress`).
    func runAttacks(
        _ undefended: SignalSet, _ population: Population, _ spec: ModelSpec, targetKey: String,
        in folder: String? = nil, skippingQueries: Bool = false, reportProgress: Bool = true
    ) throws -> ([(String, [Double], [UInt8])], [String: Int]) {
        try FileManager.default.createDirectory(atPath: folder ?? scoresFolder, withIntermediateDirectories: true)
        var results: [(String, [Double], [UInt8])] = []
        var queryCounts: [String: Int] = [:]
        let settings: [OutputDefence?] = [nil] + config.defences.map { $0 }
        let total = plan.attacks.count * settings.count
        for (d, defence) in settings.enumerated() {
            // Defended reference arrays live in unlinked files (mapped, gone with the mapping).
            let signals = try defence.map { try undefended.defended(by: $0, folder: (output as NSString).appendingPathComponent(".defended")) } ?? undefended
            for (j, attack) in plan.attacks.enumerated() where !(skippingQueries && attack.requirements.contains(.queryAccess)) {
                let index = d * plan.attacks.count + j
                let name = defence.map { "\(attack.name)@\($0)" } ?? attack.name
                guard let (scores, mask, queries) = try continuingOnFailure(name, {
                    try runAttack(attack, named: name, index: index, on: signals, behind: defence, population, spec, targetKey: targetKey, in: folder)
                }) else { continue }
                if queries > 0 { queryCounts[name] = queries }
                results.append((name, scores, mask))
                if reportProgress { progress.report(task: "attacks", done: index + 1, total: total) }
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
            needs: needs, features: population.features, featureShape: population.info.featureShape, seed: seed.next(),
            threads: config.threads
        ) { try attack.score($0, queries: queries) }
        signals.releaseReferencePages()
        try Npy.write(scores, shape: [scores.count], to: path(".npy"))
        try Npy.write(mask, shape: [mask.count], to: path(".mask.npy"))
        try AtomicFile.write(key, to: path(".key"))
        let q = queries?.queryCount ?? 0
        let seconds = String(format: "%.3f", Date().timeIntervalSince(start))
        logger.info("attack \(name): scored \(scores.count) records in \(seconds) s\(q > 0 ? ", \(q) target queries" : "")")
        return (scores, mask, q)
    }
}
