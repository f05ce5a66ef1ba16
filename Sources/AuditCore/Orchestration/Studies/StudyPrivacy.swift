import Foundation

/// A study point's differential-privacy figures, from its run's `metrics.json`: the ε its DP-SGD
/// target claims by both accountants, and, with `audit.canaries`, each attack's one-run bounds
/// and the trial this target adds to the classical bound over seeds (`SettingMultiRunBound`).
struct PointPrivacy: Codable, Sendable, Equatable {
    /// δ of every figure.
    var delta: Double
    /// Claimed ε by the RDP and the PLD accountant (nil without DP-SGD).
    var claimedEpsilonRDP: Double?
    var claimedEpsilonPLD: Double?
    /// Canary kind and count m (nil without `audit.canaries`).
    var canaryKind: String?
    var canaries: Int?
    /// Per attack, in run order, the one-run bounds on the canaries (empty without canaries).
    var audits: [PointCanaryBound]
    /// The first canary's coin flip and every attack's score on it (nil without canaries).
    var trial: CanaryTrial?

    /// The figures of `summary`, nil when it has neither a claimed ε nor a canary audit.
    init?(_ summary: RunSummary) {
        let accountants = summary.privacy?.claimedEpsilonAccountants
        let audit = summary.canaryAudit
        guard accountants != nil || audit != nil || summary.privacy?.claimedEpsilon != nil else { return nil }
        delta = audit?.delta ?? accountants?.delta ?? summary.privacy?.delta ?? 0
        claimedEpsilonRDP = accountants?.rdp ?? summary.privacy?.claimedEpsilon ?? audit?.claimedEpsilon
        claimedEpsilonPLD = accountants?.pld
        canaryKind = audit?.kind
        canaries = audit?.count
        audits =
            audit.map { a in
                a.attackOrder.compactMap { name in
                    a.bounds[name].map {
                        PointCanaryBound(
                            attack: name, epsilon: $0.epsilon, gaussianMu: $0.gaussianDP?.mu,
                            gaussianEpsilon: $0.gaussianDP?.epsilon)
                    }
                }
            } ?? []
        trial = audit?.firstCanary
    }

    /// This point's bounds for `attack`, or nil.
    func audit(_ attack: String) -> PointCanaryBound? { audits.first { $0.attack == attack } }

    enum CodingKeys: String, CodingKey {
        case delta, canaries, audits, trial
        case claimedEpsilonRDP = "claimed_epsilon_rdp"
        case claimedEpsilonPLD = "claimed_epsilon_pld"
        case canaryKind = "canary_kind"
    }
}

/// One attack's one-run bounds at one point: the ε of Steinke et al. and the Gaussian-DP μ of
/// Mahloujifar et al. with its ε (metrics.json `canary_audit.bounds`).
struct PointCanaryBound: Codable, Sendable, Equatable {
    var attack: String
    var epsilon: Double
    var gaussianMu: Double?
    var gaussianEpsilon: Double?

    enum CodingKeys: String, CodingKey {
        case attack, epsilon
        case gaussianMu = "gaussian_dp_mu"
        case gaussianEpsilon = "gaussian_dp_epsilon"
    }
}

/// The classical ε lower bound of one setting over its seeds (Jagielski et al. 2020; Nasr et al.
/// 2021): each seed trained its own target with its own coin flips, and contributes one trial,
/// its first canary (in or out by its coin, and the attack's score on it). The threshold is
/// chosen on the first half of the seeds (sweep order), the bound is Clopper-Pearson on the
/// rest (`multiRunEpsilonBound`). One trial per training keeps the trials independent, so the
/// bound is valid; it needs tens of seeds to rise above 0.
struct SettingMultiRunBound: Codable, Sendable, Equatable {
    var attack: String
    /// Seeds that gave a trial, and how many chose the threshold.
    var trials: Int
    var selectionTrials: Int
    var confidence: Double
    var delta: Double
    var bound: HeldOutEpsilonBound

    /// Per attack of `points` (one setting's, in sweep order), the bound; empty when fewer than
    /// two points carry a canary trial.
    static func bounds(_ points: [PointComparison], attacks: [String], confidence: Double = 0.95)
        -> [SettingMultiRunBound]
    {
        let trials = points.compactMap { p in p.privacy.flatMap { pr in pr.trial.map { (trial: $0, delta: pr.delta) } }
        }
        guard trials.count >= 2, let delta = trials.first?.delta, delta > 0 else { return [] }
        return attacks.compactMap { name -> SettingMultiRunBound? in
            // A trial the attack did not score is an abstention (the mask does not see the coin).
            let scored = trials.compactMap { t in
                t.trial.scores[name].flatMap { $0.isNaN ? nil : (score: $0, member: t.trial.included) }
            }
            guard scored.count >= 2 else { return nil }
            let half = scored.count / 2
            let selection = scored.prefix(half), rest = scored.dropFirst(half)
            let bound = multiRunEpsilonBound(
                selection: (selection.map(\.score), selection.map(\.member)),
                bound: (rest.map(\.score), rest.map(\.member)),
                delta: delta, confidence: confidence)
            return SettingMultiRunBound(
                attack: name, trials: scored.count, selectionTrials: half, confidence: confidence,
                delta: delta, bound: bound)
        }
    }

    enum CodingKeys: String, CodingKey {
        case attack, trials, confidence, delta, bound
        case selectionTrials = "selection_trials"
    }
}

/// The trial one trained target adds to the classical multi-run bound: canary 0 (the first in
/// `canaries.json`, fixed before training), whether its coin put it in the training set, and
/// each attack's score on it (NaN when the attack did not score it).
struct CanaryTrial: Codable, Sendable, Equatable {
    /// The canary's audit-record position.
    var record: Int
    var included: Bool
    var scores: [String: Double]

    /// The trial of the canaries at `indices` with coin flips `included`, nil without canaries.
    init?(_ attacks: [(name: String, scores: [Double], mask: [UInt8])], indices: [Int], included: [Bool]) {
        guard let first = indices.first, let coin = included.first else { return nil }
        record = first
        self.included = coin
        var scores: [String: Double] = [:]
        for a in attacks { scores[a.name] = a.mask[first] != 0 ? a.scores[first] : .nan }
        self.scores = scores
    }
}
