import Foundation

/// The one-run DP audit of a run with canaries (`audit.canaries`), as `metrics.json` holds it
/// under `canary_audit`: the canaries, the ε the target claims, and per attack the one-run lower
/// bound (`OneRunEpsilonBound`) from its scores on the canaries.
struct CanaryAuditSummary: Codable, Sendable, Equatable {
    /// Canary kind (`mislabelled`, `ood_blank`, `ood_noise`, `natural`) and count m.
    var kind: String
    var count: Int
    /// Canaries the target's training set holds (the coin flips that came up "in").
    var included: Int
    var seed: UInt64
    /// The ε a DP-SGD target claims (its accountant's), nil for a target trained without DP-SGD.
    var claimedEpsilon: Double?
    var delta: Double
    var confidence: Double
    /// Per attack, the one-run bound; `attackOrder` is the config's order.
    var bounds: [String: OneRunEpsilonBound]
    var attackOrder: [String]
    /// The audit-record positions of the canaries (also in `canaries.json`).
    var indices: [Int]
    var method: String
    var assumptions: String
    /// The first canary's coin and every attack's score on it: the one trial this target adds to
    /// the classical bound over the seeds of a study (`CanaryTrial`); nil in older metrics.
    var firstCanary: CanaryTrial?
    /// The Gaussian-DP bound's method and assumptions (each bound's `gaussian_dp`); nil in older metrics.
    var gaussianDPMethod: String?
    var gaussianDPAssumptions: String?

    init(
        kind: String, count: Int, included: Int, seed: UInt64, claimedEpsilon: Double?, delta: Double,
        confidence: Double, bounds: [String: OneRunEpsilonBound], attackOrder: [String], indices: [Int]
    ) {
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
        self.gaussianDPMethod = oneRunGaussianDPMethod
        self.gaussianDPAssumptions = oneRunGaussianDPAssumptions
    }

    /// The largest bound and the attack that reached it (ties: the earlier attack in the config).
    var strongest: (attack: String, bound: OneRunEpsilonBound)? {
        var best: (String, OneRunEpsilonBound)?
        for name in attackOrder { if let b = bounds[name], b.epsilon > (best?.1.epsilon ?? -1) { best = (name, b) } }
        return best.map { (attack: $0.0, bound: $0.1) }
    }

    /// The largest Gaussian-DP μ and the attack that reached it (ties: the earlier attack).
    var strongestGaussianDP: (attack: String, bound: OneRunGaussianDPBound)? {
        var best: (String, OneRunGaussianDPBound)?
        for name in attackOrder {
            if let b = bounds[name]?.gaussianDP, b.mu > (best?.1.mu ?? -1) { best = (name, b) }
        }
        return best.map { (attack: $0.0, bound: $0.1) }
    }

    /// Per attack, the bound from its scores on the canaries (the Steinke ε and, beside it, the
    /// Gaussian-DP μ): `scores[i]`, `mask[i]` of audit record i, canary c at `indices[c]` with coin
    /// flip `included[c]`.
    static func bounds(
        _ attacks: [(name: String, scores: [Double], mask: [UInt8])], indices: [Int], included: [Bool], guesses: [Int],
        delta: Double, confidence: Double
    ) -> [String: OneRunEpsilonBound] {
        var result: [String: OneRunEpsilonBound] = [:]
        for attack in attacks {
            let scores = indices.map { attack.scores[$0] }, scored = indices.map { attack.mask[$0] != 0 }
            var bound = oneRunEpsilonBound(
                scores: scores, included: included, scored: scored, ks: guesses, delta: delta, confidence: confidence)
            bound.gaussianDP = oneRunGaussianDPBound(
                scores: scores, included: included, scored: scored, ks: guesses, delta: delta, confidence: confidence)
            result[attack.name] = bound
        }
        return result
    }

    enum CodingKeys: String, CodingKey {
        case kind, count, included, seed, delta, confidence, bounds, indices, method, assumptions
        case claimedEpsilon = "claimed_epsilon"
        case attackOrder = "attack_order"
        case gaussianDPMethod = "gaussian_dp_method"
        case firstCanary = "first_canary"
        case gaussianDPAssumptions = "gaussian_dp_assumptions"
    }
}
