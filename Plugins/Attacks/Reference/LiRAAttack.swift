import Foundation
import Kernels
import PluginKit

/// The likelihood-ratio attack, LiRA (Carlini et al. 2022, "Membership Inference Attacks From
/// First Principles").
///
/// Statistic: the logit-scaled confidence of the true class, `φ = log(p_y / (1 - p_y))`,
/// computed as `z_y - log Σ_{j≠y} exp(z_j)` (`Probability.logitScaledConfidence`), exact where
/// p_y rounds to 1. For each audit record, φ under the reference models that did not train on it
/// (OUT) fits N(μ_out, σ_out²), and under those that did (IN) N(μ_in, σ_in²).
/// - offline: one-sided test against OUT, `score = -log Pr[Z > φ_target]`, Z ~ N(μ_out, σ_out²)
///   (the negative log p-value; monotone in the paper's `1 - p`, without its saturation at 1).
/// - online: `score = log N(φ_target; μ_in, σ_in²) - log N(φ_target; μ_out, σ_out²)`.
/// Variance `per_example` is each record's variance; `global` is the pooled within-record
/// variance over all records (separately for IN and OUT), which the paper advises with few
/// reference models. `variance_estimator` picks the divisor of both: `unbiased` (the default,
/// k - 1 for k values, pooled Σ(k_i - 1)) or `maximum_likelihood` (k, pooled Σk_i; what the
/// paper's code computes with `np.std`). A record with fewer than 2 values of a group uses the global
/// variance; with none, its mean is the other group's mean shifted by the average IN-OUT gap
/// (online) or the pooled OUT mean (offline). Variances are floored at 1e-8. Higher score = member.
///
/// With query augmentations (A > 1, `Signals.augmentation`), as in the paper (§ 5.3 and its
/// code): the Gaussians are fitted per augmentation, each augmentation's φ independently, and
/// the per-augmentation scores above (log-likelihood ratios online, negative log p-values
/// offline) are summed over the augmentations, which treats them as independent observations.
/// With A = 1 the score is the one above, bit for bit.
public final class LiRAAttack: AttackStrategy {
    public static let name = "lira"
    public static let summary =
        "LiRA (Carlini et al. 2022): Gaussian likelihood ratio of the logit-scaled confidence under reference models; higher score = member"
    public static let options: [OptionSpec] = [
        OptionSpec(
            "mode", .string, default: "\"offline\"", choices: ["offline", "online"],
            "offline: test against OUT reference models only; online: IN vs OUT likelihood ratio"),
        OptionSpec(
            "variance", .string, default: "\"global\"", choices: ["global", "per_example"],
            "variance of the Gaussians: pooled over records (global) or per record (per_example)"),
        OptionSpec(
            "variance_estimator", .string, default: "\"unbiased\"", choices: ["unbiased", "maximum_likelihood"],
            "divisor of the variances: k - 1 values (unbiased) or k (maximum_likelihood, as the paper's code)"),
    ]

    /// `mode: online`, and `variance: per_example`.
    public let online: Bool
    public let perExampleVariance: Bool
    /// `variance_estimator: maximum_likelihood` (divide by k, not k - 1).
    public let maximumLikelihoodVariance: Bool
    static let varianceFloor = 1e-8

    public init(options: PluginOptions, host: HostServices) throws {
        let mode = options.has("mode") ? try options.string("mode") : "offline"
        let variance = options.has("variance") ? try options.string("variance") : "global"
        guard ["offline", "online"].contains(mode) else {
            throw PluginError(.invalidArgument, "option `mode` must be offline or online, got \"\(mode)\"")
        }
        guard ["global", "per_example"].contains(variance) else {
            throw PluginError(.invalidArgument, "option `variance` must be global or per_example, got \"\(variance)\"")
        }
        let estimator = options.has("variance_estimator") ? try options.string("variance_estimator") : "unbiased"
        guard ["unbiased", "maximum_likelihood"].contains(estimator) else {
            throw PluginError(
                .invalidArgument,
                "option `variance_estimator` must be unbiased or maximum_likelihood, got \"\(estimator)\"")
        }
        online = mode == "online"
        perExampleVariance = variance == "per_example"
        maximumLikelihoodVariance = estimator == "maximum_likelihood"
    }

    public var requirements: AttackRequirements { online ? [.referenceModels, .referenceIn] : [.referenceModels] }

    /// Records per chunk of the walk over the reference logits; nil: `Signals.defaultChunkSize`.
    /// Scores do not depend on it (bit for bit).
    public var chunkSize: Int?

    /// Streams over the reference logits once, in chunks of records (side by side on
    /// `threadCount` threads), keeping per-record statistics only ([N] counts, means and
    /// variances per group, no [R, N] array); the scores follow from them and the pooled variances.
    public func score(
        _ signals: Signals, into scores: UnsafeMutableBufferPointer<Double>,
        evaluationMask: UnsafeMutableBufferPointer<UInt8>
    ) throws {
        guard signals.augmentationCount > 1 else { return try scoreOne(signals, into: scores) }
        // Sum of the per-augmentation scores, added in augmentation order.
        var one = [Double](repeating: 0, count: signals.recordCount)
        for i in scores.indices { scores[i] = 0 }
        for a in 0..<signals.augmentationCount {
            try one.withUnsafeMutableBufferPointer { try scoreOne(signals.augmentation(a), into: $0) }
            for i in scores.indices { scores[i] += one[i] }
        }
    }

    /// The score of un-augmented signals (or of one augmentation's view).
    private func scoreOne(_ signals: Signals, into scores: UnsafeMutableBufferPointer<Double>) throws {
        let n = signals.recordCount, r = signals.referenceCount
        let membership = try referenceInputs(signals, attack: Self.name)
        let phi = LogitScaledConfidence.self
        let target = phi.target(signals)
        let ddof = maximumLikelihoodVariance ? 0 : 1
        let out = GroupStatistics(records: n, wantIn: false, ddof: ddof)
        let ins = GroupStatistics(records: online ? n : 0, wantIn: true, ddof: ddof)
        signals.forEachChunkConcurrently(size: chunkSize) { range in
            var reference: [Double] = []
            phi.references(signals, .audit, range, into: &reference)
            out.add(reference, range, models: r, membership: membership)
            if online { ins.add(reference, range, models: r, membership: membership) }
        }
        out.finish()
        ins.finish()
        if !online {
            guard out.pooledMean.isFinite else {
                throw PluginError(
                    .invalidArgument,
                    "\(Self.name) offline needs reference models that did not train on the audit records")
            }
            let globalVar = out.pooledVariance.isFinite ? out.pooledVariance : 1
            for i in 0..<n {
                let mu = out.count[i] > 0 ? out.mean[i] : out.pooledMean
                let sd = variance(out, i, global: globalVar).squareRoot()
                scores[i] = -Probability.normalLogSF((target[i] - mu) / sd)
            }
            return
        }
        guard ins.pooledMean.isFinite, out.pooledMean.isFinite else {
            throw PluginError(
                .invalidArgument,
                "\(Self.name) online needs reference models both with (IN) and without (OUT) audit records")
        }
        // Average IN - OUT gap over records that have both, to stand in for a missing group.
        var gap = 0.0, both = 0
        for i in 0..<n where ins.count[i] > 0 && out.count[i] > 0 {
            gap += ins.mean[i] - out.mean[i]
            both += 1
        }
        gap = both > 0 ? gap / Double(both) : ins.pooledMean - out.pooledMean
        let inGlobal =
            ins.pooledVariance.isFinite ? ins.pooledVariance : (out.pooledVariance.isFinite ? out.pooledVariance : 1)
        let outGlobal = out.pooledVariance.isFinite ? out.pooledVariance : inGlobal
        for i in 0..<n {
            let muIn = ins.count[i] > 0 ? ins.mean[i] : out.mean[i] + gap
            let muOut = out.count[i] > 0 ? out.mean[i] : ins.mean[i] - gap
            let sdIn = variance(ins, i, global: inGlobal).squareRoot()
            let sdOut = variance(out, i, global: outGlobal).squareRoot()
            scores[i] =
                Probability.normalLogPDF(target[i], mean: muIn, sd: sdIn)
                - Probability.normalLogPDF(target[i], mean: muOut, sd: sdOut)
        }
    }

    private func variance(_ g: GroupStatistics, _ i: Int, global: Double) -> Double {
        let v = perExampleVariance && g.count[i] >= 2 ? g.variance[i] : global
        return max(v, Self.varianceFloor)
    }
}
