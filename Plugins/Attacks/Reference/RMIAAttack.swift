import Foundation
import Kernels
import PluginKit

/// The robust membership inference attack, RMIA (Zarifzadeh et al. 2024, "Low-Cost
/// High-Power Membership Inference Attacks").
///
/// With `p(x|θ)` the probability of the true class (softmax of the logits):
/// - `Pr(x)`, the record's probability under models in general: online, `½(p̄_in(x) + p̄_out(x))`,
///   the means over the reference models that did (IN) and did not (OUT) train on x, weighted
///   equally whatever their counts; offline, from the OUT models only,
///   `Pr(x) = ½((1 + a) p̄_out(x) + (1 - a))`, the paper's linear approximation of the missing IN
///   models `p_in ≈ a p_out + (1 - a)`, with `a` = `offline_a` (or, with `tune_offline_a`, the
///   `a` of 0, 0.01, ..., 1 that scores reference model 0 best, `RMIAOfflineTuning`; logged and
///   kept in `chosenOfflineA`). Online, a record with no IN model
///   uses that offline formula, and one with no OUT model uses `p̄_in(x)`.
/// - Population records z are taken OUT of every reference model: their `Pr(z)` is the mean over
///   all reference models online, and the same formula with `p̄_out(z)` = that mean offline.
/// - `score(x) = |{z : (p(x|θ)/Pr(x)) / (p(z|θ)/Pr(z)) > γ}| / P`, the fraction of the population
///   that x dominates by more than γ. Computed in log space, by sorting the P log-ratios of z and
///   a binary search per x: O((N + P) log P). Offline, an audit record without OUT models uses
///   the mean of every OUT probability of every record. Higher score = member.
///
/// With query augmentations (A > 1, `Signals.augmentation`), as in the paper (§ 4 and its
/// code): the likelihood ratios `p(x|θ)/Pr(x)` and `p(z|θ)/Pr(z)` are computed per augmentation
/// (each from that augmentation's reference probabilities) and averaged over the augmentations,
/// `r(x) = (1/A) Σ_a p_a(x|θ)/Pr_a(x)` (in log space, by log-sum-exp); the score compares these
/// averages as above. With A = 1 the score is the one above, bit for bit.
public final class RMIAAttack: AttackStrategy {
    public static let name = "rmia"
    public static let summary =
        "RMIA (Zarifzadeh et al. 2024): fraction of population records z with likelihood ratio Pr(x|θ)/Pr(x) over Pr(z|θ)/Pr(z) above gamma; higher score = member"
    public static let options: [OptionSpec] = [
        OptionSpec(
            "mode", .string, default: "\"offline\"", choices: ["offline", "online"],
            "offline: OUT reference models with the `offline_a` approximation; online: all reference models"),
        OptionSpec("gamma", .float, default: "2.0", "threshold γ > 0 on the pairwise likelihood ratio").above(0),
        OptionSpec("offline_a", .float, default: "0.3", "offline: a in [0, 1] of Pr(x) = ½((1 + a) p_out + (1 - a))")
            .within(0...1),
        OptionSpec(
            "tune_offline_a", .bool, default: "false",
            "choose a in 0, 0.01, ..., 1 by the AUC with reference model 0 as the target and the others as references (replaces offline_a)"
        ),
    ]

    /// The `mode` (online or not), `gamma` and `offline_a` options.
    public let online: Bool
    public let gamma: Double
    public let offlineA: Double
    /// `tune_offline_a`: choose `a` on the reference models at each `score`.
    public let tunesOfflineA: Bool
    /// The `a` the last `score` used (tuned or `offline_a`), and the pseudo-target AUC it won with.
    public private(set) var chosenOfflineA: Double
    public private(set) var tuningAUC: Double?
    let host: HostServices

    public init(options: PluginOptions, host: HostServices) throws {
        let mode = options.has("mode") ? try options.string("mode") : "offline"
        guard ["offline", "online"].contains(mode) else {
            throw PluginError(.invalidArgument, "option `mode` must be offline or online, got \"\(mode)\"")
        }
        online = mode == "online"
        gamma = options.has("gamma") ? try options.double("gamma") : 2
        offlineA = options.has("offline_a") ? try options.double("offline_a") : 0.3
        tunesOfflineA = options.has("tune_offline_a") ? try options.bool("tune_offline_a") : false
        chosenOfflineA = offlineA
        self.host = host
        guard gamma > 0 && gamma.isFinite else {
            throw PluginError(.invalidArgument, "option `gamma` must be > 0, got \(gamma)")
        }
        guard (0...1).contains(offlineA) else {
            throw PluginError(.invalidArgument, "option `offline_a` must be in [0, 1], got \(offlineA)")
        }
    }

    public var requirements: AttackRequirements {
        online ? [.referenceModels, .referenceIn, .population] : [.referenceModels, .population]
    }

    /// Records per chunk of the walks over the reference logits; nil: `Signals.defaultChunkSize`.
    /// Scores do not depend on it (bit for bit).
    public var chunkSize: Int?

    /// Streams over the audit and then the population reference logits once each, in chunks of
    /// records (side by side on `threadCount` threads), keeping per-record sums only ([N] and
    /// [P], no [R, N] or [R, P] array).
    public func score(
        _ signals: Signals, into scores: UnsafeMutableBufferPointer<Double>,
        evaluationMask: UnsafeMutableBufferPointer<UInt8>
    ) throws {
        var (ratioX, ratioZ) = try logRatios(signals.augmentation(0), tune: tunesOfflineA)
        let augmentations = signals.augmentationCount
        if augmentations > 1 {
            let views = try (0..<augmentations).map {
                $0 == 0 ? (x: ratioX, z: ratioZ) : try logRatios(signals.augmentation($0), tune: false)
            }
            ratioX = Self.logMeanExp(views.map(\.x))
            ratioZ = Self.logMeanExp(views.map(\.z))
        }
        ratioZ.sort()
        let logGamma = log(gamma), p = ratioZ.count
        ratioZ.withUnsafeBufferPointer { sorted in
            for i in 0..<signals.recordCount {
                scores[i] = Double(Statistics.countLess(sorted, ratioX[i] - logGamma)) / Double(p)
            }
        }
    }

    /// Per record, `log((1/A) Σ_a exp(v[a][i]))`, stable (the maximum taken out first).
    static func logMeanExp(_ v: [[Double]]) -> [Double] {
        let count = v[0].count, a = Double(v.count)
        return (0..<count).map { i in
            let top = v.map { $0[i] }.max()!
            guard top.isFinite else { return top }
            return top + log(v.reduce(0) { $0 + exp($1[i] - top) } / a)
        }
    }

    /// The log likelihood ratios `log p(x|θ) - log Pr(x)` of every audit record ([N]) and
    /// `log p(z|θ) - log Pr(z)` of every population record ([P], unsorted), of un-augmented
    /// signals (or of one augmentation's view).
    private func logRatios(_ signals: Signals, tune: Bool) throws -> (x: [Double], z: [Double]) {
        let n = signals.recordCount, r = signals.referenceCount, c = signals.classCount, p = signals.populationCount
        let membership = try referenceInputs(signals, attack: Self.name)
        guard p > 0, let popLabels = signals.populationLabels, signals.populationTargetLogits != nil,
            signals.populationReferenceLogits != nil
        else {
            throw PluginError(.invalidArgument, "\(Self.name) needs a population set with target and reference logits")
        }
        if let bad = popLabels.firstIndex(where: { $0 < 0 || Int($0) >= c }) {
            throw PluginError(
                .invalidArgument, "population label \(popLabels[bad]) at record \(bad) is outside 0..<\(c)")
        }
        let logP = LogProbability.self
        let targetX = logP.target(signals)
        let targetZ = logP.populationTarget(signals)

        // Sums and counts of each record's reference probabilities, OUT and IN, summed in model order.
        var sumOut = [Double](repeating: 0, count: n), countOut = [Int](repeating: 0, count: n)
        var sumIn = [Double](repeating: 0, count: n), countIn = [Int](repeating: 0, count: n)
        // With `tune_offline_a`: model 0's probabilities (audit, then population), for the search.
        if tune && r < 2 {
            throw PluginError(
                .invalidArgument,
                "\(Self.name): `tune_offline_a` needs at least 2 reference models (one plays the target), got \(r)")
        }
        let tuning = tune
        var pseudo = [Double](repeating: 0, count: tuning ? n : 0),
            pseudoZ = [Double](repeating: 0, count: tuning ? p : 0)
        sumOut.withUnsafeMutableBufferPointer { so in
            sumIn.withUnsafeMutableBufferPointer { si in
                countOut.withUnsafeMutableBufferPointer { co in
                    countIn.withUnsafeMutableBufferPointer { ci in
                        pseudo.withUnsafeMutableBufferPointer { p0 in
                            signals.forEachChunkConcurrently(of: .audit, size: chunkSize) { range in
                                var chunk: [Double] = []
                                logP.references(signals, .audit, range, into: &chunk)
                                let k = range.count, lo = range.lowerBound
                                chunk.withUnsafeBufferPointer { v in
                                    if tuning { for i in range { p0[i] = exp(v[i - lo]) } }
                                    for m in 0..<r {
                                        for i in range {
                                            let e = exp(v[m * k + i - lo])
                                            if !membership.isIn(m, i) {
                                                so[i] += e
                                                co[i] += 1
                                            } else {
                                                si[i] += e
                                                ci[i] += 1
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
        let totalOut = countOut.reduce(0, +)
        guard online || totalOut > 0 else {
            throw PluginError(
                .invalidArgument, "\(Self.name) offline needs reference models that did not train on the audit records")
        }
        let fallback = totalOut > 0 ? sumOut.reduce(0, +) / Double(totalOut) : 0
        var sumZ = [Double](repeating: 0, count: p)
        sumZ.withUnsafeMutableBufferPointer { z in
            pseudoZ.withUnsafeMutableBufferPointer { z0 in
                signals.forEachChunkConcurrently(of: .population, size: chunkSize) { range in
                    var chunk: [Double] = []
                    logP.references(signals, .population, range, into: &chunk)
                    let k = range.count, lo = range.lowerBound
                    chunk.withUnsafeBufferPointer { v in
                        if tuning { for j in range { z0[j] = exp(v[j - lo]) } }
                        for m in 0..<r {
                            for j in range { z[j] += exp(v[m * k + j - lo]) }
                        }
                    }
                }
            }
        }
        var a = chosenOfflineA  // views after the first use the `a` tuned on the first
        if tuning {
            a = try tunedOfflineA(
                pseudo: pseudo, pseudoZ: pseudoZ, sumOut: sumOut, countOut: countOut, sumZ: sumZ, models: r,
                membership: membership)
        }
        chosenOfflineA = a

        let ratioZ = (0..<p).map { j in targetZ[j] - logPrPopulation(sumZ[j] / Double(r), a: a) }
        let ratioX = (0..<n).map { i in
            let outMean = countOut[i] > 0 ? sumOut[i] / Double(countOut[i]) : nil
            let inMean = online && countIn[i] > 0 ? sumIn[i] / Double(countIn[i]) : nil
            return targetX[i] - logPrAudit(outMean: outMean, inMean: inMean, fallback: fallback, a: a)
        }
        return (ratioX, ratioZ)
    }

    /// `½((1 + a) p̄_out + (1 - a))`: Pr from OUT models only.
    private func offlinePr(_ outMean: Double, a: Double) -> Double { 0.5 * ((1 + a) * outMean + (1 - a)) }

    /// `log Pr(z)` of a population record from its mean over all reference models (all OUT).
    private func logPrPopulation(_ outMean: Double, a: Double) -> Double {
        log(max(online ? outMean : offlinePr(outMean, a: a), 1e-300))
    }

    /// `log Pr(x)` of an audit record from its mean OUT and IN probabilities (nil when none).
    private func logPrAudit(outMean: Double?, inMean: Double?, fallback: Double, a: Double) -> Double {
        let pr: Double
        switch (online, outMean, inMean) {
        case let (true, out?, inside?): pr = 0.5 * (out + inside)
        case let (true, nil, inside?): pr = inside
        case let (_, out?, _): pr = offlinePr(out, a: a)
        case (_, nil, _): pr = offlinePr(fallback, a: a)
        }
        return log(max(pr, 1e-300))
    }

    /// The tuned `a` (`RMIAOfflineTuning`), from the sums of every model with model 0's taken out;
    /// logged. Throws when model 0 cannot play the target (no members or no non-members).
    private func tunedOfflineA(
        pseudo: [Double], pseudoZ: [Double], sumOut: [Double], countOut: [Int], sumZ: [Double], models r: Int,
        membership: ReferenceMembership
    ) throws -> Double {
        let n = pseudo.count
        let isIn = (0..<n).map { membership.isIn(0, $0) }
        let search = RMIAOfflineTuning(
            pseudoTarget: pseudo, pseudoIsMember: isIn,
            outSum: (0..<n).map { isIn[$0] ? sumOut[$0] : sumOut[$0] - pseudo[$0] },
            outCount: (0..<n).map { isIn[$0] ? countOut[$0] : countOut[$0] - 1 },
            populationPseudo: pseudoZ, populationSum: pseudoZ.indices.map { sumZ[$0] - pseudoZ[$0] }, otherModels: r - 1
        )
        guard let best = search.best(gamma: gamma) else {
            throw PluginError(
                .invalidArgument,
                "\(Self.name): `tune_offline_a` needs reference model 0 to hold members and non-members of the audit set, and the other models OUT records"
            )
        }
        tuningAUC = best.auc
        host.report("offline_a", best.a)
        host.report("offline_a_pseudo_target_auc", best.auc)
        host.log(
            .info,
            "\(Self.name): offline_a tuned to \(best.a) (AUC \(String(format: "%.4f", best.auc)) with reference model 0 as the target, \(r - 1) references)"
        )
        return best.a
    }
}
