import Foundation
import Glibc
import PluginABI

/// The membership signals of one audit, plugin side: a borrowed view of the `mia_signals_t` the
/// host lends for one `AttackStrategy.score` call. It owns nothing; its buffers are valid only
/// during that call (copy what must outlive it). The arrays' owner is the host's `SignalSet`
/// (AuditCore), which a plugin never sees.
///
/// Layouts (row-major): `targetLogits` [N, C]; `referenceLogits` [R, N, C];
/// `referenceMembership` [R, N] (1 = member); `populationTargetLogits` [P, C];
/// `populationReferenceLogits` [R, P, C]; `features` [N, featureSize].
public struct Signals {
    public var recordCount: Int
    public var classCount: Int
    public var referenceCount: Int
    public var populationCount: Int
    public var labels: UnsafeBufferPointer<Int32>
    public var targetLogits: UnsafeBufferPointer<Float>
    public var referenceLogits: UnsafeBufferPointer<Float>?
    public var referenceMembership: UnsafeBufferPointer<UInt8>?
    public var populationLabels: UnsafeBufferPointer<Int32>?
    public var populationTargetLogits: UnsafeBufferPointer<Float>?
    public var populationReferenceLogits: UnsafeBufferPointer<Float>?
    public var targetMembership: UnsafeBufferPointer<UInt8>?
    public var features: UnsafeBufferPointer<Float>?
    public var populationFeatures: UnsafeBufferPointer<Float>?
    /// Shape of one record's features (empty without features).
    public var featureShape: [Int]
    public var seed: UInt64
    /// The query service, for attacks that asked for `.queryAccess`.
    public var query: (any TargetQueries)?
    /// Whether `referenceLogits` and `populationReferenceLogits` are read-only file mappings
    /// (`MIA_SIGNALS_REFERENCE_MAPPED`): `forEachReferenceModel` and `forEachChunk` then release
    /// the pages they have finished with, so that an attack's resident memory stays bounded
    /// whatever R is.
    public var referenceMapped: Bool
    /// Threads the attack may use (the run's `threads`; `mia_signals_t.thread_count`), at least 1:
    /// `forEachChunkConcurrently` runs that many chunks side by side.
    public var threadCount: Int
    /// Whether every logits array holds what an output defence released, as `log max(p', 1e-12)`
    /// (`MIA_SIGNALS_RELEASED_PROBABILITIES`): `exp` gives the released probabilities, which need
    /// not sum to one; a softmax would renormalise them. Shadow models answer the same way.
    public var releasedProbabilities: Bool
    /// Query augmentations A (ABI 1.3, `Signals+Augmentations`): 1 when the host sent none. With
    /// A > 1 the `augmented…` arrays hold every augmentation, augmentation-major, slice 0 being
    /// the arrays above; `augmentation(_:)` views one of them as ordinary signals.
    public var augmentationCount = 1
    /// [A, N, C], [A, R, N, C], [A, P, C], [A, R, P, C]; nil when A = 1.
    public var augmentedTargetLogits: UnsafeBufferPointer<Float>?
    public var augmentedReferenceLogits: UnsafeBufferPointer<Float>?
    public var augmentedPopulationTargetLogits: UnsafeBufferPointer<Float>?
    public var augmentedPopulationReferenceLogits: UnsafeBufferPointer<Float>?
    /// Checkpoint epochs (ABI 1.4, `Signals+Checkpoints`), ascending; empty when the host sent
    /// none (the attack did not ask with `.checkpoints`, or the run has no `audit.checkpoints`).
    public var checkpointEpochs: [Int] = []
    /// [E, N, C] and [E, R, N, C]: the target's and the reference models' logits at each of
    /// `checkpointEpochs`; nil without checkpoints (the reference array also without references).
    public var checkpointTargetLogits: UnsafeBufferPointer<Float>?
    public var checkpointReferenceLogits: UnsafeBufferPointer<Float>?

    public init(
        recordCount: Int, classCount: Int, referenceCount: Int = 0, populationCount: Int = 0,
        labels: UnsafeBufferPointer<Int32>, targetLogits: UnsafeBufferPointer<Float>,
        referenceLogits: UnsafeBufferPointer<Float>? = nil, referenceMembership: UnsafeBufferPointer<UInt8>? = nil,
        populationLabels: UnsafeBufferPointer<Int32>? = nil, populationTargetLogits: UnsafeBufferPointer<Float>? = nil,
        populationReferenceLogits: UnsafeBufferPointer<Float>? = nil,
        targetMembership: UnsafeBufferPointer<UInt8>? = nil,
        features: UnsafeBufferPointer<Float>? = nil, populationFeatures: UnsafeBufferPointer<Float>? = nil,
        featureShape: [Int] = [], seed: UInt64 = 0, query: (any TargetQueries)? = nil, referenceMapped: Bool = false,
        threadCount: Int = 1, releasedProbabilities: Bool = false
    ) {
        self.recordCount = recordCount
        self.classCount = classCount
        self.referenceCount = referenceCount
        self.populationCount = populationCount
        self.labels = labels
        self.targetLogits = targetLogits
        self.referenceLogits = referenceLogits
        self.referenceMembership = referenceMembership
        self.populationLabels = populationLabels
        self.populationTargetLogits = populationTargetLogits
        self.populationReferenceLogits = populationReferenceLogits
        self.targetMembership = targetMembership
        self.features = features
        self.populationFeatures = populationFeatures
        self.featureShape = featureShape
        self.seed = seed
        self.query = query
        self.referenceMapped = referenceMapped
        self.threadCount = max(1, threadCount)
        self.releasedProbabilities = releasedProbabilities
    }

    /// Logits row of audit record `i` of the target ([C]).
    @inlinable public func targetRow(_ i: Int) -> UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(rebasing: targetLogits[(i * classCount)..<((i + 1) * classCount)])
    }

    /// Logits row of audit record `i` under reference model `r` ([C]).
    @inlinable public func referenceRow(_ r: Int, _ i: Int) -> UnsafeBufferPointer<Float> {
        let start = (r * recordCount + i) * classCount
        return UnsafeBufferPointer(rebasing: referenceLogits![start..<(start + classCount)])
    }

    /// Whether audit record `i` was in reference model `r`'s training set.
    @inlinable public func isReferenceMember(_ r: Int, _ i: Int) -> Bool {
        referenceMembership![r * recordCount + i] != 0
    }

    /// Logits row of population record `j` under reference model `r` ([C]).
    @inlinable public func populationReferenceRow(_ r: Int, _ j: Int) -> UnsafeBufferPointer<Float> {
        let start = (r * populationCount + j) * classCount
        return UnsafeBufferPointer(rebasing: populationReferenceLogits![start..<(start + classCount)])
    }
}

// MARK: Streaming over records

extension Signals {
    /// The two record sets an attack walks: the audit records [N] or the population set [P].
    public enum Records: Sendable {
        case audit, population
    }

    /// The per-chunk state an attack is expected to keep, in bytes: one `Double` per reference
    /// model and record of the chunk ([R, chunk] f64).
    public static let chunkStateBytes = 8 << 20

    /// Records per chunk so that one `Double` per reference model and record of a chunk takes
    /// about `chunkStateBytes` (at least 64 records): the per-chunk state stays a few megabytes
    /// whatever R is.
    public static func defaultChunkSize(referenceCount r: Int) -> Int {
        max(64, chunkStateBytes / max(1, r * MemoryLayout<Double>.stride))
    }

    /// Calls `body` with consecutive ranges of `records` (audit or population) of `size` records
    /// (the last one shorter), in order; after each, releases that range's pages of the mapped
    /// reference logits (`releaseReferencePages`). `size` nil: `defaultChunkSize`.
    ///
    /// Read the references of a chunk through `forEachReferenceModel`, which releases each
    /// model's pages as soon as it is read: resident memory then stays about one model's block
    /// whatever R is.
    public func forEachChunk(of records: Records = .audit, size: Int? = nil, _ body: (Range<Int>) throws -> Void)
        rethrows
    {
        let count = records == .audit ? recordCount : populationCount
        let step = max(1, size ?? Self.defaultChunkSize(referenceCount: referenceCount))
        var start = 0
        while start < count {
            let range = start..<min(count, start + step)
            try body(range)
            releaseReferencePages(of: records, range)
            start = range.upperBound
        }
    }

    /// Like `forEachChunk`, but with `threadCount` threads taking the chunks in turn, so that
    /// chunks run side by side in no fixed order: `body` must only write state of its own range
    /// of records (sums of per-record state over records are then taken after the walk, in
    /// record order, so that results do not depend on the threads). Without `size`, chunks are
    /// `defaultChunkSize` or smaller, so that each thread gets about four.
    public func forEachChunkConcurrently(of records: Records = .audit, size: Int? = nil, _ body: (Range<Int>) -> Void) {
        let count = records == .audit ? recordCount : populationCount
        let workers = min(threadCount, max(1, count / 64))
        guard workers > 1 else { return forEachChunk(of: records, size: size, body) }
        let quarter = (count + 4 * workers - 1) / (4 * workers)
        let step = max(1, size ?? min(Self.defaultChunkSize(referenceCount: referenceCount), max(64, quarter)))
        let chunks = stride(from: 0, to: count, by: step).map { $0..<min(count, $0 + step) }
        let lock = NSLock()
        // Safe: `next` is read and written only under `lock`; `body` writes only its own range
        // (the contract above) and `self` is only read; all are used only until
        // concurrentPerform returns.
        nonisolated(unsafe) var next = 0
        nonisolated(unsafe) let body = body, signals = self
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let index: Int = lock.withLock {
                    defer { next += 1 }
                    return next
                }
                guard index < chunks.count else { return }
                body(chunks[index])
                signals.releaseReferencePages(of: records, chunks[index])
            }
        }
    }

    /// Calls `body(m, rows)` for every reference model m in order, with its logits on `range` of
    /// `records` (`rows` [range.count, C] row-major, valid only during the call). When the
    /// references are mapped (`referenceMapped`), model m's pages are released right after its
    /// call.
    ///
    /// Why per model: the kernel maps a file's pages in blocks (whole page-cache folios, up to
    /// megabytes, on one fault), so touching R models before releasing any would hold R such
    /// blocks resident (about 230 MB at R = 256 on a 6.18 kernel, measured); releasing each
    /// model's whole span once read holds about one. A released page reads back the same values
    /// (so a release by one thread under another thread's reads costs a page fault, nothing more).
    @inlinable
    public func forEachReferenceModel(
        of records: Records = .audit, in range: Range<Int>, _ body: (Int, UnsafeBufferPointer<Float>) throws -> Void
    ) rethrows {
        let count = records == .audit ? recordCount : populationCount
        guard let logits = records == .audit ? referenceLogits : populationReferenceLogits else { return }
        let c = classCount
        for m in 0..<referenceCount {
            try body(
                m,
                UnsafeBufferPointer(
                    rebasing: logits[((m * count + range.lowerBound) * c)..<((m * count + range.upperBound) * c)]))
            if referenceMapped { release(logits, elements: (m * count * c)..<((m + 1) * count * c)) }
        }
    }

    /// Releases the pages holding `elements` of `logits` (widened outward to whole pages).
    @usableFromInline func release(_ logits: UnsafeBufferPointer<Float>, elements: Range<Int>) {
        guard let base = logits.baseAddress, !elements.isEmpty else { return }
        let page = UInt(sysconf(Int32(_SC_PAGESIZE)))
        let raw = UInt(bitPattern: UnsafeRawPointer(base))
        let first = (raw + UInt(elements.lowerBound * 4)) & ~(page - 1)
        let last = (raw + UInt(elements.upperBound * 4) + page - 1) & ~(page - 1)
        guard let p = UnsafeMutableRawPointer(bitPattern: first) else { return }
        _ = madvise(p, Int(last - first), MADV_DONTNEED)
    }

    /// Releases the resident pages of the reference logits of `range` of `records` under every
    /// reference model, when they are file mappings (`referenceMapped`); does nothing otherwise.
    ///
    /// For each model r the span [r, range, C] is released from the start of its first page to
    /// the start of the page holding its end (that page may hold the next range's first rows).
    /// A released page reads back the same values from the file: releasing too much costs a
    /// page fault, never a wrong value.
    public func releaseReferencePages(of records: Records, _ range: Range<Int>) {
        guard referenceMapped, !range.isEmpty else { return }
        let count = records == .audit ? recordCount : populationCount
        guard let logits = records == .audit ? referenceLogits : populationReferenceLogits,
            let base = logits.baseAddress
        else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let row = classCount * MemoryLayout<Float>.stride
        let raw = UInt(bitPattern: UnsafeRawPointer(base))
        for r in 0..<referenceCount {
            let start = raw + UInt((r * count + range.lowerBound) * row)
            let end = raw + UInt((r * count + range.upperBound) * row)
            let first = start & ~UInt(page - 1), last = end & ~UInt(page - 1)
            guard last > first, let p = UnsafeMutableRawPointer(bitPattern: first) else { continue }
            _ = madvise(p, Int(last - first), MADV_DONTNEED)
        }
    }
}

/// Queries an attack may make of the target (and shadow models of the target's kind).
public protocol TargetQueries {
    /// Target logits ([count, C]) for `features` ([count, featureSize]).
    func predictTarget(features: [Float], count: Int) throws -> [Float]
    /// Trains a model of the target's architecture and training recipe.
    func trainShadow(features: [Float], labels: [Int32], seed: UInt64) throws -> any ShadowModel
}

/// A shadow model trained for an attack; released when the last reference goes.
public protocol ShadowModel: AnyObject {
    func predict(features: [Float], count: Int) throws -> [Float]
}
