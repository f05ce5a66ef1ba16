import Foundation
import Kernels
import PluginABI
import PluginKit

/// The signals of one audit, host side: the owner of the arrays, in the layouts of
/// `mia_signals_t`, computed once and lent to every attack. An attack never holds a `SignalSet`:
/// it gets a `mia_signals_t` whose pointers borrow these arrays for one `score` call
/// (`withLentBuffers`), and a Swift plugin reads that through PluginKit's `Signals`, the view.
/// Two types on purpose: the owner keeps what only the host has (file mappings, the cache key,
/// augmentations, checkpoints) and outlives every call; the view is what crosses the C ABI,
/// possibly into another process (README, "How the code is laid out").
///
/// The reference logits ([R, N, C] and [R, P, C] f32, the bulk at hundreds of reference models)
/// are `SignalArray`s: in memory for small audits and tests, or read-only mappings of `.npy`
/// files that were written model by model (`init(population:memberships:target:references:writingReferencesTo:)`)
/// or given by the user (`ProvidedSignals`). Mapped, they are lent to attacks in place with
/// `MIA_SIGNALS_REFERENCE_MAPPED`, and no step of the host holds them whole in memory.
final class SignalSet {
    let recordCount: Int
    let classCount: Int
    let referenceCount: Int
    let populationCount: Int
    let labels: [Int32]
    let targetLogits: [Float]
    let targetMembership: [UInt8]
    var referenceLogits: SignalArray
    let referenceMembership: [UInt8]
    let populationLabels: [Int32]
    let populationTargetLogits: [Float]
    var populationReferenceLogits: SignalArray
    /// Identifies these signals (the models' keys and the sizes, and the augmentations when
    /// there are any), for caching attack scores.
    var key: String
    /// The query augmentations (`SignalsStage+Augmentations`), nil when the audit asked for none.
    var augmented: AugmentedSignals?
    /// Whether the logits are what an output defence released (`MIA_SIGNALS_RELEASED_PROBABILITIES`).
    var releasedProbabilities = false
    /// Every model at the checkpoint epochs (`SignalSet+Checkpoints`), for attacks that ask for
    /// them; nil when none asks or the audit has no checkpoints.
    var checkpoints: CheckpointSignals?

    init(
        classCount: Int, labels: [Int32], targetLogits: [Float], targetMembership: [UInt8], referenceCount: Int,
        referenceLogits: SignalArray, referenceMembership: [UInt8], populationLabels: [Int32],
        populationTargetLogits: [Float],
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
        referenceLogits: [Float], referenceMembership: [UInt8], populationLabels: [Int32],
        populationTargetLogits: [Float],
        populationReferenceLogits: [Float], key: String
    ) {
        self.init(
            classCount: classCount, labels: labels, targetLogits: targetLogits, targetMembership: targetMembership,
            referenceCount: referenceCount, referenceLogits: SignalArray(referenceLogits),
            referenceMembership: referenceMembership,
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
    convenience init(
        population p: Population, memberships m: Memberships, target: TrainedModel, references: [TrainedModel]
    ) {
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
            referenceMembership: m.references.flatMap { $0.map { $0 ? 1 : 0 } },
            populationLabels: Array(p.labels[n..<(n + pc)]),
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
            referenceMembership: m.references.flatMap { $0.map { $0 ? 1 : 0 } },
            populationLabels: Array(p.labels[n..<(n + pc)]),
            populationTargetLogits: Array(target.logits[(n * c)..<((n + pc) * c)]), populationReferenceLogits: pop,
            key: key)
    }

    /// Whether the reference arrays are lent as file mappings (`MIA_SIGNALS_REFERENCE_MAPPED`):
    /// every non-empty one is mapped.
    var referencesMapped: Bool {
        referenceCount > 0 && referenceLogits.isMapped
            && (populationReferenceLogits.isEmpty || populationReferenceLogits.isMapped)
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
        let arrays: [any LendableBuffer] = [
            labels, targetLogits, targetMembership, referenceLogits, referenceMembership, populationLabels,
            populationTargetLogits,
            populationReferenceLogits, features, augmented?.targetLogits ?? [],
            augmented?.referenceLogits ?? SignalArray([]),
            augmented?.populationTargetLogits ?? [], augmented?.populationReferenceLogits ?? SignalArray([]),
            checkpoints?.epochs ?? [], checkpoints?.targetLogits ?? [], checkpoints?.referenceLogits ?? [],
        ]
        return try withLentBuffers(arrays) { b in
            // Views into the features in place: audit records, then population records.
            var ft = mia_tensor_t(), pft = mia_tensor_t()
            if hasFeatures, let base = UnsafeMutableRawPointer(mutating: b.raw[8].baseAddress) {
                ft = TensorView.make(base, dtype: MIA_DTYPE_F32, shape: [n] + featureShape)
                if pc > 0 {
                    pft = TensorView.make(
                        base + n * size * MemoryLayout<Float>.stride, dtype: MIA_DTYPE_F32, shape: [pc] + featureShape)
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
                    s.labels = b.typed(0, as: Int32.self).baseAddress
                    s.target_logits = b.typed(1, as: Float.self).baseAddress
                    if referenceCount > 0 {
                        s.reference_logits = b.typed(3, as: Float.self).baseAddress
                        s.reference_membership = b.typed(4, as: UInt8.self).baseAddress
                    }
                    if pc > 0 {
                        s.population_labels = b.typed(5, as: Int32.self).baseAddress
                        s.population_target_logits = b.typed(6, as: Float.self).baseAddress
                        s.population_reference_logits =
                            referenceCount > 0 ? b.typed(7, as: Float.self).baseAddress : nil
                    }
                    if needs.contains(.knownMembership) { s.target_membership = b.typed(2, as: UInt8.self).baseAddress }
                    if hasFeatures && (needs.contains(.features) || needs.contains(.queryAccess)) {
                        s.features = ftp
                        s.population_features = pc > 0 ? pftp : nil
                    }
                    s.seed = seed
                    if referencesMapped { s.flags |= UInt32(MIA_SIGNALS_REFERENCE_MAPPED) }
                    if releasedProbabilities { s.flags |= UInt32(MIA_SIGNALS_RELEASED_PROBABILITIES) }
                    s.thread_count = Int32(max(1, threads))
                    if let augmented {
                        augmented.lend(b, from: 9, referenceCount: referenceCount, populationCount: pc, into: &s)
                    }
                    if needs.contains(.checkpoints), let checkpoints { checkpoints.lend(b, from: 13, into: &s) }
                    return try body(&s)
                }
            }
        }
    }
}

extension SignalArray: LendableBuffer {
    func withUnsafeRawBuffer<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeBufferPointer { try body(UnsafeRawBufferPointer($0)) }
    }
}
