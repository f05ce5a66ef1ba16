import Foundation
import Kernels
import PluginKit

/// The per-example threshold attack from reference OUT losses (Ye et al. 2022, "Enhanced
/// Membership Inference Attacks against Machine Learning Models", attack R).
///
/// Attack R flags x as a member at level α when its target loss ℓ is below the α-percentile of
/// its losses under the reference models that did not train on it (OUT). The score is the
/// largest such α, so that a global threshold on the score is attack R at one α:
/// - `percentile` (the paper): `score = 1 - F(ℓ)`, with F the inverse of numpy's linearly
///   interpolated percentile of the OUT losses (F = 0 below the smallest, 1 above the largest);
/// - `z_score` (smooth, no ties at the ends): `score = (μ_out - ℓ) / σ_out`, σ_out the record's
///   unbiased deviation, or the pooled one with fewer than 2 OUT losses (floored at 1e-6).
/// A record without OUT losses is compared with every OUT loss of every record. Loss: cross-entropy.
/// Higher score = member.
public final class ReferenceThresholdAttack: AttackStrategy {
    public static let name = "reference-threshold"
    public static let summary =
        "Attack R (Ye et al. 2022): per-example threshold from reference OUT losses, score = percentile of the target loss among them; higher score = member"
    public static let options: [OptionSpec] = [
        OptionSpec(
            "score", .string, default: "\"percentile\"", choices: ["percentile", "z_score"],
            "percentile: 1 - interpolated CDF of the OUT losses at the target loss; z_score: (mean - loss) / sd")
    ]

    /// `score: z_score` (else percentile).
    public let zScore: Bool

    public init(options: PluginOptions, host: HostServices) throws {
        let kind = options.has("score") ? try options.string("score") : "percentile"
        guard ["percentile", "z_score"].contains(kind) else {
            throw PluginError(.invalidArgument, "option `score` must be percentile or z_score, got \"\(kind)\"")
        }
        zScore = kind == "z_score"
    }

    public var requirements: AttackRequirements { [.referenceModels] }

    /// Records per chunk of the walk over the reference logits; nil: `Signals.defaultChunkSize`.
    /// Scores do not depend on it (bit for bit).
    public var chunkSize: Int?

    /// Streams over the reference logits once, in chunks of records (side by side on
    /// `threadCount` threads): a record's OUT losses are sorted within its chunk ([R] values). Only when some record has no OUT model are all
    /// OUT losses of all records kept (its fallback, which needs every one of them).
    public func score(
        _ signals: Signals, into scores: UnsafeMutableBufferPointer<Double>,
        evaluationMask: UnsafeMutableBufferPointer<UInt8>
    ) throws {
        let n = signals.recordCount, r = signals.referenceCount
        let membership = try referenceInputs(signals, attack: Self.name)
        let loss = CrossEntropy.self
        let target = loss.target(signals)
        // OUT counts from the membership alone (no logits read): which fallbacks are needed.
        var outCount = [Int](repeating: 0, count: n)
        for m in 0..<r {
            for i in 0..<n where !membership.isIn(m, i) { outCount[i] += 1 }
        }
        guard outCount.contains(where: { $0 > 0 }) else {
            throw PluginError(
                .invalidArgument, "\(Self.name) needs reference models that did not train on the audit records")
        }
        // Every OUT loss of every record, sorted: the percentile fallback of a record without OUT
        // models, and the z_score fallback variance when no record has two OUT models.
        let needsPooled = zScore ? !outCount.contains(where: { $0 >= 2 }) : outCount.contains(0)
        var pooled: [Double] = []
        let lock = NSLock()
        let stats = GroupStatistics(records: zScore ? n : 0, wantIn: false)
        signals.forEachChunkConcurrently(size: chunkSize) { range in
            var chunk: [Double] = []
            loss.references(signals, .audit, range, into: &chunk)
            let k = range.count, lo = range.lowerBound
            if needsPooled {
                var mine: [Double] = []
                for i in range {
                    for m in 0..<r where !membership.isIn(m, i) { mine.append(chunk[m * k + i - lo]) }
                }
                lock.withLock { pooled += mine }  // in any order: sorted below
            }
            if zScore {
                stats.add(chunk, range, models: r, membership: membership)
                return
            }
            var own: [Double] = []
            for i in range where outCount[i] > 0 {
                own.removeAll(keepingCapacity: true)
                for m in 0..<r where !membership.isIn(m, i) { own.append(chunk[m * k + i - lo]) }
                own.sort()
                scores[i] = 1 - Self.interpolatedCDF(sorted: own, target[i])
            }
        }
        pooled.sort()
        if zScore {
            stats.finish()
            let global =
                stats.pooledVariance.isFinite ? stats.pooledVariance : Statistics.meanVariance(pooled, ddof: 1).variance
            for i in 0..<n {
                let mu = stats.count[i] > 0 ? stats.mean[i] : stats.pooledMean
                let v = stats.count[i] >= 2 ? stats.variance[i] : global
                scores[i] = (mu - target[i]) / max(v.squareRoot(), 1e-6)
            }
            return
        }
        for i in 0..<n where outCount[i] == 0 { scores[i] = 1 - Self.interpolatedCDF(sorted: pooled, target[i]) }
    }

    /// The inverse of the linearly interpolated percentile (numpy's default) of ascending
    /// `sorted` at `x`: the q in [0, 1] with `quantile(q) = x`; 0 below the minimum, 1 above the
    /// maximum, the middle of a run of equal values at such a value.
    static func interpolatedCDF(sorted: [Double], _ x: Double) -> Double {
        let k = sorted.count
        if k == 1 { return x < sorted[0] ? 0 : (x > sorted[0] ? 1 : 0.5) }
        return sorted.withUnsafeBufferPointer { s in
            let below = Statistics.countLess(s, x)
            let upTo = Statistics.countLessOrEqual(s, x)
            if upTo > below {  // x equals the order statistics below..<upTo
                return 0.5 * Double(below + upTo - 1) / Double(k - 1)
            }
            if below == 0 { return 0 }
            if below == k { return 1 }
            let lo = s[below - 1], hi = s[below]
            return (Double(below - 1) + (x - lo) / (hi - lo)) / Double(k - 1)
        }
    }
}
