import Foundation
import Kernels
import PluginKit

/// The robust membership inference attack, RMIA (Zarifzadeh et al. 2024, "Low-Cost
/// High-Power Membership Inference Attacks").
///
/// With `p(x|θ)` the probability of the true class (softmax of the logits):
/// - `Pr(x)`, the record's probability under models in general: online, the mean of `p(x|θ_r)`
///   over every reference model (IN and OUT); offline, from the OUT reference models only,
///   `Pr(x) = ½((1 + a) p̄_out(x) + (1 - a))`, the paper's linear approximation of the missing IN
///   models `p_in ≈ a p_out + (1 - a)`, with `a` = `offline_a`.
/// - Population records z are taken OUT of every reference model: their `Pr(z)` is the mean over
///   all reference models online, and the same formula with `p̄_out(z)` = that mean offline.
/// - `score(x) = |{z : (p(x|θ)/Pr(x)) / (p(z|θ)/Pr(z)) > γ}| / P`, the fraction of the population
///   that x dominates by more than γ. Computed in log space, by sorting the P log-ratios of z and
///   a binary search per x: O((N + P) log P). An audit record without OUT models (offline) uses
///   the mean of every OUT probability. Higher score = member.
public final class RMIAAttack: AttackStrategy {
    public static let name = "rmia"
    public static let summary =
        "RMIA (Zarifzadeh et al. 2024): fraction of population records z with likelihood ratio Pr(x|θ)/Pr(x) over Pr(z|θ)/Pr(z) above gamma; higher score = member"
    public static let options: [OptionSpec] = [
        OptionSpec("mode", .string, default: "\"offline\"", choices: ["offline", "online"],
                   "offline: OUT reference models with the `offline_a` approximation; online: all reference models"),
        OptionSpec("gamma", .float, default: "2.0", "threshold γ > 0 on the pairwise likelihood ratio"),
        OptionSpec("offline_a", .float, default: "0.3", "offline: a in [0, 1] of Pr(x) = ½((1 + a) p_out + (1 - a))"),
    ]

    /// The `mode` (online or not), `gamma` and `offline_a` options.
    public let online: Bool
    public let gamma: Double
    public let offlineA: Double

    public init(options: PluginOptions, host: HostServices) throws {
        let mode = options.has("mode") ? try options.string("mode") : "offline"
        guard ["offline", "online"].contains(mode) else {
            throw PluginError(.invalidArgument, "option `mode` must be offline or online, got \"\(mode)\"")
        }
        online = mode == "online"
        gamma = options.has("gamma") ? try options.double("gamma") : 2
        offlineA = options.has("offline_a") ? try options.double("offline_a") : 0.3
        guard gamma > 0 && gamma.isFinite else { throw PluginError(.invalidArgument, "option `gamma` must be > 0, got \(gamma)") }
        guard (0...1).contains(offlineA) else {
            throw PluginError(.invalidArgument, "option `offline_a` must be in [0, 1], got \(offlineA)")
        }
    }

    public var requirements: AttackRequirements {
        online ? [.referenceModels, .referenceIn, .population] : [.referenceModels, .population]
    }

    public func score(_ signals: Signals, into scores: UnsafeMutableBufferPointer<Double>, evaluationMask: UnsafeMutableBufferPointer<UInt8>) throws {
        let n = signals.recordCount, r = signals.referenceCount, c = signals.classCount, p = signals.populationCount
        let (refLogits, membership) = try referenceInputs(signals, attack: Self.name)
        guard p > 0, let popLabels = signals.populationLabels, let popTarget = signals.populationTargetLogits,
            let popReference = signals.populationReferenceLogits
        else {
            throw PluginError(.invalidArgument, "\(Self.name) needs a population set with target and reference logits")
        }
        if let bad = popLabels.firstIndex(where: { $0 < 0 || Int($0) >= c }) {
            throw PluginError(.invalidArgument, "population label \(popLabels[bad]) at record \(bad) is outside 0..<\(c)")
        }
        let logP = RecordStatistic.logProbability
        let targetX = logP.values(signals.targetLogits, labels: signals.labels, models: 1, classCount: c)
        let refX = logP.values(refLogits, labels: signals.labels, models: r, classCount: c)
        let targetZ = logP.values(popTarget, labels: popLabels, models: 1, classCount: c)
        let refZ = logP.values(popReference, labels: popLabels, models: r, classCount: c)

        // Mean reference probability of each record: all models (online) or OUT ones (offline).
        var sumX = [Double](repeating: 0, count: n), countX = [Int](repeating: 0, count: n)
        for m in 0..<r {
            for i in 0..<n where online || membership[m * n + i] == 0 {
                sumX[i] += exp(refX[m * n + i])
                countX[i] += 1
            }
        }
        let totalCount = countX.reduce(0, +)
        guard totalCount > 0 else {
            throw PluginError(.invalidArgument, "\(Self.name) offline needs reference models that did not train on the audit records")
        }
        let fallback = sumX.reduce(0, +) / Double(totalCount)
        var sumZ = [Double](repeating: 0, count: p)
        for m in 0..<r {
            for j in 0..<p { sumZ[j] += exp(refZ[m * p + j]) }
        }

        var ratioZ = (0..<p).map { j in targetZ[j] - logPr(sumZ[j] / Double(r)) }
        ratioZ.sort()
        let logGamma = log(gamma)
        ratioZ.withUnsafeBufferPointer { sorted in
            for i in 0..<n {
                let mean = countX[i] > 0 ? sumX[i] / Double(countX[i]) : fallback
                let ratioX = targetX[i] - logPr(mean)
                scores[i] = Double(Statistics.countLess(sorted, ratioX - logGamma)) / Double(p)
            }
        }
    }

    /// `log Pr(·)` from the mean reference probability: itself online, the `a` correction offline.
    private func logPr(_ mean: Double) -> Double {
        let mean = max(mean, 1e-300)
        if online { return log(mean) }
        if offlineA < 1 { return log(0.5 * ((1 + offlineA) * mean + (1 - offlineA))) }
        return log(mean)
    }
}
