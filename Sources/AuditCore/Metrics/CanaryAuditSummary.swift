import Foundation

/// The one-run DP audit of a run with canaries (`audit.canaries`), as `metrics.json` holds it
/// under `canary_audit`: the canaries, the ε the target claims, and per attack the one-run lower
/// bound (`OneRunEpsilonBound`) from its scores on the canaries.
public struct CanaryAuditSummary: Codable, Sendable, Equatable {
    /// Canary kind (`mislabelled`, `ood_blank`, `ood_noise`, `natural`) and count m.
    public var kind: String
    var count: Int
    /// Canaries the target's training set holds (the coin flips that came up "in").
    public var included: Int
    var seed: UInt64
    /// The ε a DP-SGD target claims (its accountant's), nil for a target trained without DP-SGD.
    public var claimedEpsilon: Double?
    public var delta: Double
    var confidence: Double
    /// Per attack, the one-run bound; `attackOrder` is the config's order.
    public var bounds: [String: OneRunEpsilonBound]
    var attackOrder: [String]
    /// The audit-record positions of the canaries (also in `canaries.json`).
    var indices: [Int]
    var method: String
    var assumptions: String

    init(kind: String, count: Int, included: Int, seed: UInt64, claimedEpsilon: Double?, delta: Double,
                confidence: Double, bounds: [String: OneRunEpsilonBound], attackOrder: [String], indices: [Int]) {
        self.kind = kind
        self.count = count
        self.included = included
        self.seed = seed
        self.claimedEpsilon = claimedEpsilon
        self.delta = delta
        self.confidence = confidence
        self.bounds = bounds
        self.attackOrder = attackOrder
        self.indices = indices
        self.method = oneRunEpsilonMethod
        self.assumptions = oneRunEpsilonAssumptions
    }

    /// The largest bound and the attack that reached it (ties: the earlier attack in the config).
    var strongest: (attack: String, bound: OneRunEpsilonBound)? {
        var best: (String, OneRunEpsilonBound)?
        for name in attackOrder { if let b = bounds[name], b.epsilon > (best?.1.epsilon ?? -1) { best = (name, b) } }
        return best.map { (attack: $0.0, bound: $0.1) }
    }

    /// Per attack, the bound from its scores on the canaries: `scores[i]`, `mask[i]` of audit
    /// record i, canary c at `indices[c]` with coin flip `included[c]`.
    public static func bounds(
        _ attacks: [(name: String, scores: [Double], mask: [UInt8])], indices: [Int], included: [Bool], guesses: [Int],
        delta: Double, confidence: Double
    ) -> [String: OneRunEpsilonBound] {
        var result: [String: OneRunEpsilonBound] = [:]
        for attack in attacks {
            result[attack.name] = oneRunEpsilonBound(
                scores: indices.map { attack.scores[$0] }, included: included, scored: indices.map { attack.mask[$0] != 0 },
                ks: guesses, delta: delta, confidence: confidence)
        }
        return result
    }

    enum CodingKeys: String, CodingKey {
        case kind, count, included, seed, delta, confidence, bounds, indices, method, assumptions
        case claimedEpsilon = "claimed_epsilon"
        case attackOrder = "attack_order"
    }
}
