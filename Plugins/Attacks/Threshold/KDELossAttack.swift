import Foundation
import Kernels
import PluginKit

/// The kernel-density loss attack: the loss attack of Yeom et al. 2018 ("Privacy Risk in Machine
/// Learning") with its threshold learnt from data. The attacker knows the losses of some members
/// and some non-members, estimates the two loss densities, and scores a record by their log ratio.
///
/// For each of `repeats` seeded draws, the attacker knows a random `known_member_fraction` of the
/// target's members in the audit set and the same fraction of its non-members; it fits a Gaussian
/// KDE (Silverman's bandwidth, `GaussianKDE`) to each group's loss and scores every other record
/// by `log f_member(loss) - log f_non_member(loss)`. Score 0 is where the two densities cross:
/// the attack's threshold, the one the host's confusion matrix at threshold 0 reports. A record's
/// score is the mean over the draws in which it was not known (out of bag); a record known in
/// every draw is set to 0 in the evaluation mask. Higher score = member.
public final class KDELossAttack: AttackStrategy {
    public static let name = "kde-loss"
    public static let summary =
        "Kernel-density loss attack (Yeom et al. 2018's loss attack with Gaussian KDEs of known member / non-member losses, threshold where they cross): score = log density ratio; higher score = member"
    public static let options: [OptionSpec] = [
        LossFunction.option(
            "loss: cross_entropy (-log p_y), probability (1 - p_y), normalized_probability (1 - p_y / max p)"),
        OptionSpec(
            "known_member_fraction", .float, default: "0.1",
            "fraction (0, 1) of the target's members (and of its non-members) the attacker knows"
        ).above(0).atMost(1, exclusive: true),
        OptionSpec("repeats", .int, default: "5", "number of seeded draws of the known records; scores are averaged")
            .within(1...10_000),
    ]

    /// The `loss`, `known_member_fraction` and `repeats` options.
    public let loss: LossFunction
    public let knownFraction: Double
    public let repeats: Int
    let host: HostServices

    public init(options: PluginOptions, host: HostServices) throws {
        self.host = host
        loss = options.has("loss") ? try LossFunction(option: options) : .crossEntropy
        knownFraction = options.has("known_member_fraction") ? try options.double("known_member_fraction") : 0.1
        repeats = options.has("repeats") ? try options.int("repeats") : 5
        guard knownFraction > 0 && knownFraction < 1 else {
            throw PluginError(
                .invalidArgument, "option `known_member_fraction` must be in (0, 1), got \(knownFraction)")
        }
        guard repeats >= 1 else {
            throw PluginError(.invalidArgument, "option `repeats` must be at least 1, got \(repeats)")
        }
    }

    public var requirements: AttackRequirements { [.knownMembership] }

    public func score(
        _ signals: Signals, into scores: UnsafeMutableBufferPointer<Double>,
        evaluationMask: UnsafeMutableBufferPointer<UInt8>
    ) throws {
        let n = signals.recordCount, c = signals.classCount
        try checkLabels(signals.labels, classCount: c, what: "audit")
        guard let membership = signals.targetMembership else {
            throw PluginError(.invalidArgument, "\(Self.name) needs the target's membership of the audit set")
        }
        let losses = (0..<n).map { loss.value(signals.targetRow($0), label: Int(signals.labels[$0])) }
        let members = (0..<n).filter { membership[$0] != 0 }
        let nonMembers = (0..<n).filter { membership[$0] == 0 }
        let knownMembers = Int((knownFraction * Double(members.count)).rounded(.up))
        let knownNonMembers = Int((knownFraction * Double(nonMembers.count)).rounded(.up))
        guard knownMembers >= 2, knownNonMembers >= 2, knownMembers < members.count, knownNonMembers < nonMembers.count
        else {
            throw PluginError(
                .invalidArgument,
                "\(Self.name): \(members.count) members and \(nonMembers.count) non-members are too few for known_member_fraction \(knownFraction)"
            )
        }
        var sum = [Double](repeating: 0, count: n)
        var count = [Int](repeating: 0, count: n)
        var allSum = [Double](repeating: 0, count: n)
        for r in 0..<repeats {
            try host.checkCancellation()
            var rng = SeededRandom.derive(seed: signals.seed, UInt64(r))
            var m = members, o = nonMembers
            rng.shuffle(&m)
            rng.shuffle(&o)
            var known = [Bool](repeating: false, count: n)
            for i in m.prefix(knownMembers) { known[i] = true }
            for i in o.prefix(knownNonMembers) { known[i] = true }
            let fIn = GaussianKDE(samples: m.prefix(knownMembers).map { losses[$0] })
            let fOut = GaussianKDE(samples: o.prefix(knownNonMembers).map { losses[$0] })
            for i in 0..<n {
                let s = fIn.logDensity(losses[i]) - fOut.logDensity(losses[i])
                allSum[i] += s
                if !known[i] {
                    sum[i] += s
                    count[i] += 1
                }
            }
        }
        for i in 0..<n {
            if count[i] > 0 {
                scores[i] = sum[i] / Double(count[i])
            } else {
                scores[i] = allSum[i] / Double(repeats)
                evaluationMask[i] = 0
            }
        }
    }
}
