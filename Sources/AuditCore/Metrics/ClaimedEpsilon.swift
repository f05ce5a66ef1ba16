import Foundation
import Kernels

/// The ε a DP-SGD target claims, by two accountants of the same steps, side by side:
/// `RDPAccountant` (Rényi DP, integer orders, the classical conversion; what the native backend
/// reports in its history) and `PLDAccountant` (privacy loss distribution: tighter, an upper bound
/// up to its discretisation, which is pessimistic). Both for the Poisson-subsampled Gaussian
/// mechanism under add/remove-one neighbouring datasets, at the run's δ. metrics.json's
/// `privacy.claimed_epsilon_accountants`; built by the evaluation stage from the target's DP-SGD
/// options (`EvaluationStage.claimedEpsilonAccountants`).
struct ClaimedEpsilon: Codable, Sendable, Equatable {
    /// δ of both figures.
    var delta: Double
    /// ε by the RDP accountant.
    var rdp: Double
    /// ε by the PLD accountant (≤ `rdp`).
    var pld: Double
    /// Sampling rate q = batch size / training records.
    var samplingRate: Double
    /// σ, noise standard deviation over clip norm.
    var noiseMultiplier: Double
    /// Steps composed: epochs run × steps per epoch.
    var steps: Int
    /// The loss grid spacing the PLD accountant used.
    var pldDiscretisation: Double
    /// Which neighbouring datasets the figures are for.
    var neighbouringRelation: String
    /// The accountants, in words.
    var method: String
    /// Per checkpoint epoch (when `checkpoints` are on), the ε spent by the end of that epoch.
    var perEpoch: [ClaimedEpsilonEpoch]?

    init(
        delta: Double, samplingRate q: Double, noiseMultiplier sigma: Double, steps: Int,
        perEpoch epochSteps: [(epoch: Int, steps: Int)] = []
    ) {
        self.delta = delta
        samplingRate = q
        noiseMultiplier = sigma
        self.steps = steps
        let pld = Self.pld(q: q, sigma: sigma, steps: steps, delta: delta)
        self.pld = pld.epsilon
        pldDiscretisation = pld.discretisation
        rdp = Self.rdp(q: q, sigma: sigma, steps: steps, delta: delta)
        neighbouringRelation = "add/remove one record"
        method = claimedEpsilonMethod
        perEpoch =
            epochSteps.isEmpty
            ? nil
            : epochSteps.map {
                ClaimedEpsilonEpoch(
                    epoch: $0.epoch, steps: $0.steps, rdp: Self.rdp(q: q, sigma: sigma, steps: $0.steps, delta: delta),
                    pld: Self.pld(q: q, sigma: sigma, steps: $0.steps, delta: delta).epsilon)
            }
    }

    static func rdp(q: Double, sigma: Double, steps: Int, delta: Double) -> Double {
        steps == 0 ? 0 : RDPAccountant.epsilon(q: q, sigma: sigma, steps: steps, delta: delta).epsilon
    }

    static func pld(q: Double, sigma: Double, steps: Int, delta: Double) -> PLDAccountant.Result {
        PLDAccountant.epsilon(q: q, sigma: sigma, steps: steps, delta: delta)
    }

    enum CodingKeys: String, CodingKey {
        case delta, rdp, pld, steps, method
        case samplingRate = "sampling_rate"
        case noiseMultiplier = "noise_multiplier"
        case pldDiscretisation = "pld_discretisation"
        case neighbouringRelation = "neighbouring_relation"
        case perEpoch = "per_epoch"
    }
}

/// The claimed ε by the end of one epoch.
struct ClaimedEpsilonEpoch: Codable, Sendable, Equatable {
    var epoch: Int
    var steps: Int
    var rdp: Double
    var pld: Double
}

/// What `ClaimedEpsilon` holds, in words (metrics.json and the report).
let claimedEpsilonMethod =
    "Poisson-subsampled Gaussian mechanism, add/remove-one neighbours, q = batch size / training records, "
    + "steps = epochs run x round(records / batch size). RDP: Renyi DP at integer orders 2-256, "
    + "eps = min over orders of (steps x RDP + log(1/delta)/(order - 1)) (Mironov 2017). PLD: privacy loss "
    + "distribution on a loss grid (connect-the-dots discretisation, pessimistic; FFT composition with "
    + "Chernoff-bounded tails added to delta), eps from the composed distribution (Koskela et al. 2020; "
    + "Doroshenko et al. 2022); checked against Google's dp-accounting to 1e-3. Both are upper bounds; "
    + "the PLD one is the tighter."
