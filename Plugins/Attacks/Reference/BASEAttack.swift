import Foundation
import Kernels
import PluginKit

/// BASE (Lassila, Östman, Ngo and Graell i Amat 2025, "Practical Bayes-Optimal Membership
/// Inference Attacks", NeurIPS 2025): an approximation of the Bayes-optimal membership test
/// that needs a few reference models and no population set.
///
/// With `ℓ_T(x|θ) = log softmax(z/T)_y`, the log-probability of the true class at temperature
/// T (`temperature`), and S(x) the reference models used for x:
/// `score(x) = ℓ_T(x|θ_target) - c · log( (1/|S(x)|) Σ_{r ∈ S(x)} exp ℓ_T(x|θ_r) )`.
/// - online: S(x) is every reference model (IN and OUT alike, each record IN for about half),
///   c = 1;
/// - offline: S(x) is the models that did not train on x (OUT), c = `offline_scale`, which
///   shrinks the log-sum-exp threshold to make up for the missing IN models.
/// An offline record without OUT models uses the log of the mean of every OUT `exp ℓ_T` of every
/// record. Higher score = member.
public final class BASEAttack: AttackStrategy {
    public static let name = "base"
    public static let summary =
        "BASE (Lassila et al. 2025, Practical Bayes-Optimal MIAs): tempered log-probability of the true class minus the log-mean-exp of it over reference models; higher score = member"
    public static let options: [OptionSpec] = [
        OptionSpec(
            "mode", .string, default: "\"offline\"", choices: ["offline", "online"],
            "offline: OUT reference models, threshold scaled by `offline_scale`; online: every reference model"),
        OptionSpec("temperature", .float, default: "2.0", "softmax temperature T > 0 of the log-probabilities").within(
            1e-3...1e3),
        OptionSpec(
            "offline_scale", .float, default: "0.33", "offline: factor c in [0, 1] on the log-mean-exp threshold"
        ).within(0...1),
    ]

    /// `mode: online`, `temperature` and `offline_scale`.
    public let online: Bool
    public let temperature: Double
    public let offlineScale: Double

    public init(options: PluginOptions, host: HostServices) throws {
        let mode = options.has("mode") ? try options.string("mode") : "offline"
        guard ["offline", "online"].contains(mode) else {
            throw PluginError(.invalidArgument, "option `mode` must be offline or online, got \"\(mode)\"")
        }
        online = mode == "online"
        temperature = options.has("temperature") ? try options.double("temperature") : 2
        offlineScale = options.has("offline_scale") ? try options.double("offline_scale") : 0.33
        guard temperature > 0 && temperature.isFinite else {
            throw PluginError(.invalidArgument, "option `temperature` must be > 0, got \(temperature)")
        }
        guard (0...1).contains(offlineScale) else {
            throw PluginError(.invalidArgument, "option `offline_scale` must be in [0, 1], got \(offlineScale)")
        }
    }

    public var requirements: AttackRequirements { online ? [.referenceModels, .referenceIn] : [.referenceModels] }

    /// Records per chunk of the walk over the reference logits; nil: `Signals.defaultChunkSize`.
    /// Scores do not depend on it (bit for bit).
    public var chunkSize: Int?

    /// `log softmax(z / T)_y`, in double precision, stable for any logits.
    static func temperedLogProbability(_ z: UnsafeBufferPointer<Float>, _ y: Int, temperature t: Double) -> Double {
        var m = -Double.infinity
        for v in z { m = max(m, Double(v) / t) }
        var sum = 0.0
        for v in z { sum += exp(Double(v) / t - m) }
        return Double(z[y]) / t - m - log(sum)
    }

    /// Streams over the reference logits once, in chunks of records (side by side on
    /// `threadCount` threads); each record's log-mean-exp is taken over its own chunk's values,
    /// so nothing but [N] state outlives a chunk.
    public func score(
        _ signals: Signals, into scores: UnsafeMutableBufferPointer<Double>,
        evaluationMask: UnsafeMutableBufferPointer<UInt8>
    ) throws {
        let n = signals.recordCount, r = signals.referenceCount, c = signals.classCount
        let membership = try referenceInputs(signals, attack: Self.name)
        let t = temperature
        let target = (0..<n).map { i in
            Self.temperedLogProbability(signals.targetRow(i), Int(signals.labels[i]), temperature: t)
        }
        // Per record: log of the mean of exp ℓ_T over the models used (NaN: none), and the OUT
        // sum of exp ℓ_T and its count (for the offline fallback).
        var threshold = [Double](repeating: .nan, count: n)
        var outSum = [Double](repeating: 0, count: n), outCount = [Int](repeating: 0, count: n)
        let online = self.online
        threshold.withUnsafeMutableBufferPointer { th in
            outSum.withUnsafeMutableBufferPointer { os in
                outCount.withUnsafeMutableBufferPointer { oc in
                    signals.forEachChunkConcurrently(size: chunkSize) { range in
                        let k = range.count, lo = range.lowerBound
                        var values = [Double](repeating: 0, count: r * k)
                        signals.forEachReferenceModel(of: .audit, in: range) { m, rows in
                            for i in range {
                                let start = (i - lo) * c
                                values[m * k + i - lo] = Self.temperedLogProbability(
                                    UnsafeBufferPointer(rebasing: rows[start..<(start + c)]), Int(signals.labels[i]),
                                    temperature: t)
                            }
                        }
                        for i in range {
                            var top = -Double.infinity, used = 0
                            for m in 0..<r where online || !membership.isIn(m, i) {
                                top = max(top, values[m * k + i - lo])
                                used += 1
                            }
                            guard used > 0 else { continue }
                            var sum = 0.0
                            for m in 0..<r where online || !membership.isIn(m, i) {
                                sum += exp(values[m * k + i - lo] - top)
                            }
                            th[i] = top + log(sum) - log(Double(used))
                            for m in 0..<r where !membership.isIn(m, i) {
                                os[i] += exp(values[m * k + i - lo])
                                oc[i] += 1
                            }
                        }
                    }
                }
            }
        }
        let scale = online ? 1 : offlineScale
        var fallback = Double.nan
        if threshold.contains(where: { $0.isNaN }) {
            let count = outCount.reduce(0, +)
            guard count > 0 else {
                throw PluginError(
                    .invalidArgument,
                    "\(Self.name) offline needs reference models that did not train on the audit records")
            }
            fallback = log(outSum.reduce(0, +) / Double(count))
        }
        for i in 0..<n { scores[i] = target[i] - scale * (threshold[i].isNaN ? fallback : threshold[i]) }
    }
}
