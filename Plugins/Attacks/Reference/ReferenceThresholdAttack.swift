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
        OptionSpec("score", .string, default: "\"percentile\"", choices: ["percentile", "z_score"],
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

    public func score(_ signals: Signals, into scores: UnsafeMutableBufferPointer<Double>, evaluationMask: UnsafeMutableBufferPointer<UInt8>) throws {
        let n = signals.recordCount, r = signals.referenceCount, c = signals.classCount
        let (refLogits, membership) = try referenceInputs(signals, attack: Self.name)
        let loss = RecordStatistic.crossEntropy
        let target = loss.values(signals.targetLogits, labels: signals.labels, models: 1, classCount: c)
        let reference = loss.values(refLogits, labels: signals.labels, models: r, classCount: c)
        var outLosses = [[Double]](repeating: [], count: n)
        for m in 0..<r {
            for i in 0..<n where membership[m * n + i] == 0 { outLosses[i].append(reference[m * n + i]) }
        }
        let pooled = outLosses.flatMap { $0 }.sorted()
        guard !pooled.isEmpty else {
            throw PluginError(.invalidArgument, "\(Self.name) needs reference models that did not train on the audit records")
        }
        if zScore {
            let stats = GroupStatistics(values: reference, membership: membership, models: r, records: n, wantIn: false)
            let global = stats.pooledVariance.isFinite ? stats.pooledVariance : Statistics.meanVariance(pooled, ddof: 1).variance
            for i in 0..<n {
                let mu = stats.count[i] > 0 ? stats.mean[i] : stats.pooledMean
                let v = stats.count[i] >= 2 ? stats.variance[i] : global
                scores[i] = (mu - target[i]) / max(v.squareRoot(), 1e-6)
            }
            return
        }
        for i in 0..<n {
            let sorted = outLosses[i].isEmpty ? pooled : outLosses[i].sorted()
            scores[i] = 1 - Self.interpolatedCDF(sorted: sorted, target[i])
        }
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
