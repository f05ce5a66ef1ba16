import Foundation

/// Everything a run measured: the content of `metrics.json`, and all the report shows besides
/// the per-record scores.
///
/// The pipeline fills it stage by stage; `mia-audit report` decodes it back to rebuild the
/// report. Ordered lists (attacks, stages) keep the order of the run.
public struct RunSummary: Codable, Sendable, Equatable {
    /// The tool's version string.
    var toolVersion: String
    /// The run's name (from the config).
    var runName: String
    /// When the run started, ISO 8601 (UTC).
    var createdAt: String
    /// The population the audit drew from.
    var dataset: DatasetSummary
    /// The target model: accuracy and training history.
    public var target: TargetSummary
    /// Number of reference models trained or loaded.
    var referenceCount: Int
    /// The configured FPR points, ascending.
    var fprs: [Double]
    /// Attack names in run order (the keys of `attacks`).
    var attackOrder: [String]
    /// Evaluation of each attack, by name.
    var attacks: [String: AttackEvaluation]
    /// The records most at risk under each attack, by attack name.
    var mostAtRisk: [String: [RiskRecord]]
    /// Wall time of each pipeline stage, in run order.
    var stageSeconds: [StageTiming]
    /// Wall time of the whole run.
    public var totalSeconds: Double
    /// Peak resident memory of the process, bytes.
    var peakMemoryBytes: UInt64
    /// The config file as run (verbatim text).
    var configYAML: String
    /// Plugin components the run used.
    var plugins: [PluginUse]
    /// Queries each attack made to the target through the host's query service (attacks that
    /// made none are absent).
    var targetQueries: [String: Int]? = nil
    /// What the audit implies about the training algorithm's differential privacy.
    var privacy: PrivacyEvidence? = nil
    /// Leakage over training (`audit.checkpoints`): the attacks at chosen epochs.
    var checkpoints: CheckpointSummary? = nil
    /// The one-run DP audit on canaries (`audit.canaries`), nil without canaries.
    var canaryAudit: CanaryAuditSummary? = nil
    /// The SHA-256 of the host and plugin libraries the run used. With `blas` (CPU, kernel,
    /// configuration, threads), what a bit-for-bit reproduction must match.
    var environment: RunEnvironment? = nil
    /// The CPU, and the BLAS library, configuration, kernel, threads and measured sgemm rate of the
    /// run: the facts a reproduction must match besides the library hashes (nil in a
    /// `metrics.json` written before it was recorded).
    var blas: BLASSummary? = nil

    init(
        toolVersion: String, runName: String, createdAt: String, dataset: DatasetSummary,
        target: TargetSummary, referenceCount: Int = 0, fprs: [Double], attackOrder: [String] = [],
        attacks: [String: AttackEvaluation] = [:], mostAtRisk: [String: [RiskRecord]] = [:],
        stageSeconds: [StageTiming] = [], totalSeconds: Double = 0, peakMemoryBytes: UInt64 = 0,
        configYAML: String = "", plugins: [PluginUse] = []
    ) {
        self.toolVersion = toolVersion
        self.runName = runName
        self.createdAt = createdAt
        self.dataset = dataset
        self.target = target
        self.referenceCount = referenceCount
        self.fprs = fprs
        self.attackOrder = attackOrder
        self.attacks = attacks
        self.mostAtRisk = mostAtRisk
        self.stageSeconds = stageSeconds
        self.totalSeconds = totalSeconds
        self.peakMemoryBytes = peakMemoryBytes
        self.configYAML = configYAML
        self.plugins = plugins
    }

    /// Appends an attack's evaluation, keeping `attackOrder`.
    mutating func add(_ evaluation: AttackEvaluation, mostAtRisk risk: [RiskRecord] = []) {
        if attacks[evaluation.attack] == nil { attackOrder.append(evaluation.attack) }
        attacks[evaluation.attack] = evaluation
        mostAtRisk[evaluation.attack] = risk
    }

    /// The attacks in run order (skipping names with no evaluation).
    var orderedAttacks: [AttackEvaluation] { attackOrder.compactMap { attacks[$0] } }

    /// The strongest attack: highest TPR at the lowest configured FPR above 0 (at 0 when that is
    /// the only one), ties broken by AUC.
    public var strongestAttack: AttackEvaluation? {
        let lowest = fprs.filter { $0 > 0 }.min() ?? fprs.min()
        return orderedAttacks.max { a, b in
            let ta = lowest.flatMap { a.tpr(atFPR: $0) } ?? 0
            let tb = lowest.flatMap { b.tpr(atFPR: $0) } ?? 0
            return ta != tb ? ta < tb : a.auc < b.auc
        }
    }

    /// `metrics.json`'s bytes: pretty-printed, keys sorted, non-finite numbers as the strings
    /// "inf", "-inf", "nan".
    func jsonData() throws -> Data { try RunSummary.encoder.encode(self) }

    /// Decodes `metrics.json`'s bytes.
    static func decode(jsonData data: Data) throws -> RunSummary {
        try decoder.decode(RunSummary.self, from: data)
    }

    static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        e.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return e
    }

    static var decoder: JSONDecoder {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return d
    }

    enum CodingKeys: String, CodingKey {
        case toolVersion = "tool_version"
        case runName = "run_name"
        case createdAt = "created_at"
        case dataset, target, fprs, attacks, plugins
        case referenceCount = "reference_count"
        case attackOrder = "attack_order"
        case mostAtRisk = "most_at_risk"
        case stageSeconds = "stage_seconds"
        case totalSeconds = "total_seconds"
        case peakMemoryBytes = "peak_memory_bytes"
        case configYAML = "config_yaml"
        case targetQueries = "target_queries"
        case privacy, checkpoints, environment, blas
        case canaryAudit = "canary_audit"
    }
}

/// The population an audit drew from, as metrics.json's `dataset` records it (the plugin's own
/// description of its records is PluginKit's `DatasetInfo`).
struct DatasetSummary: Codable, Sendable, Equatable {
    /// Dataset name as configured (e.g. "fashion-mnist").
    var name: String
    /// Records in the population.
    var records: Int
    /// Number of classes.
    var classes: Int

}

/// The target model's accuracy and training history.
public struct TargetSummary: Codable, Sendable, Equatable {
    /// Accuracy on its training records (members).
    var trainAccuracy: Double
    /// Accuracy on held-out records (non-members).
    public var testAccuracy: Double
    /// One entry per epoch, in order (empty for a model loaded rather than trained).
    var history: [EpochSummary]

    init(trainAccuracy: Double, testAccuracy: Double, history: [EpochSummary] = []) {
        self.trainAccuracy = trainAccuracy
        self.testAccuracy = testAccuracy
        self.history = history
    }

    enum CodingKeys: String, CodingKey {
        case trainAccuracy = "train_accuracy"
        case testAccuracy = "test_accuracy"
        case history
    }
}

/// One training epoch of the target, as metrics.json's `target.history` records it (built from
/// the backend's PluginKit `EpochRecord`; a NaN held-out figure becomes null).
struct EpochSummary: Codable, Sendable, Equatable {
    /// Epoch number, from 1.
    var epoch: Int
    /// Mean training loss over the epoch.
    var trainLoss: Double
    /// Training accuracy over the epoch.
    var trainAccuracy: Double
    /// Loss on held-out records after the epoch (nil when not measured).
    var heldoutLoss: Double?
    /// Accuracy on held-out records after the epoch (nil when not measured).
    var heldoutAccuracy: Double?
    /// Wall time of the epoch.
    var seconds: Double

    init(
        epoch: Int, trainLoss: Double, trainAccuracy: Double, heldoutLoss: Double? = nil,
        heldoutAccuracy: Double? = nil, seconds: Double
    ) {
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.trainAccuracy = trainAccuracy
        self.heldoutLoss = heldoutLoss
        self.heldoutAccuracy = heldoutAccuracy
        self.seconds = seconds
    }

    enum CodingKeys: String, CodingKey {
        case epoch, seconds
        case trainLoss = "train_loss"
        case trainAccuracy = "train_accuracy"
        case heldoutLoss = "heldout_loss"
        case heldoutAccuracy = "heldout_accuracy"
    }
}

/// Wall time of one pipeline stage.
struct StageTiming: Codable, Sendable, Equatable {
    /// Stage name ("load dataset", "train models", ...).
    var stage: String
    /// Wall time in seconds.
    var seconds: Double

}

/// One plugin component a run used.
struct PluginUse: Codable, Sendable, Equatable {
    /// Plugin name from its descriptor.
    var name: String
    /// Plugin version from its descriptor.
    var version: String
    /// Path of the shared library it was loaded from.
    var path: String
    /// The component used, e.g. "attack loss_threshold".
    var component: String

}

/// A record an attack singles out: a member with one of the highest scores.
struct RiskRecord: Codable, Sendable, Equatable {
    /// The record's index (as given to `mostAtRisk`, e.g. its index in the dataset).
    var index: Int
    /// Its class label.
    var label: Int32
    /// The attack's score for it.
    var score: Double

}

/// The `count` evaluated members with the highest scores, highest first (ties: lower index first).
///
/// - Parameters:
///   - recordIndices: the index to report for each audit record (e.g. its dataset index);
///     nil reports the audit-record position.
func mostAtRisk(
    scores: [Double], isMember: [Bool], evaluationMask: [UInt8], labels: [Int32],
    recordIndices: [Int]? = nil, count: Int
) -> [RiskRecord] {
    let candidates = scores.indices.filter { isMember[$0] && evaluationMask[$0] != 0 && !scores[$0].isNaN }
    let top = candidates.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }.prefix(max(count, 0))
    return top.map { RiskRecord(index: recordIndices?[$0] ?? $0, label: labels[$0], score: scores[$0]) }
}

/// The differential-privacy figures of a run: the ε a DP-SGD target claims (from its accountant),
/// beside the lower bound each attack's scores imply (`heldOutEpsilonBound`).
struct PrivacyEvidence: Codable, Sendable, Equatable {
    /// δ of every figure.
    var delta: Double
    /// The accountant's ε for a target trained with DP-SGD, nil otherwise.
    var claimedEpsilon: Double?
    /// The claimed ε by the RDP and the PLD accountant side by side, with q, σ and steps (nil
    /// when the target was not trained here with DP-SGD options).
    var claimedEpsilonAccountants: ClaimedEpsilon?
    /// Confidence of the lower bounds.
    var confidence: Double
    /// Per attack: the empirical lower bound on ε at `confidence`, threshold chosen on held-out
    /// records (`heldOutEpsilonBound`).
    var empiricalEpsilonLowerBound: [String: Double]
    /// Per attack: how the bound was reached (threshold, halves, counts).
    var empiricalEpsilonDetails: [String: HeldOutEpsilonBound]
    /// Per attack: a diagnostic, NOT a bound: the maximum over every ROC point of the per-point
    /// figure, threshold chosen on the same records (`empiricalEpsilonLowerBound(_:delta:)`).
    var empiricalEpsilonUncorrectedMax: [String: Double]
    /// What the bound is and what it assumes, in words.
    var method: String
    var assumptions: String

    init(
        delta: Double, claimedEpsilon: Double?, empiricalEpsilonLowerBound: [String: Double],
        details: [String: HeldOutEpsilonBound] = [:], uncorrectedMax: [String: Double] = [:],
        confidence: Double = 0.95, accountants: ClaimedEpsilon? = nil
    ) {
        self.delta = delta
        self.claimedEpsilon = claimedEpsilon
        self.claimedEpsilonAccountants = accountants
        self.confidence = confidence
        self.empiricalEpsilonLowerBound = empiricalEpsilonLowerBound
        self.empiricalEpsilonDetails = details
        self.empiricalEpsilonUncorrectedMax = uncorrectedMax
        self.method = heldOutEpsilonMethod
        self.assumptions = heldOutEpsilonAssumptions
    }

    /// The largest lower bound, and the attack that reached it.
    var strongest: (attack: String, epsilon: Double)? {
        empiricalEpsilonLowerBound.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }
            .map { ($0.key, $0.value) }
    }

    enum CodingKeys: String, CodingKey {
        case delta, confidence, method, assumptions
        case claimedEpsilon = "claimed_epsilon"
        case claimedEpsilonAccountants = "claimed_epsilon_accountants"
        case empiricalEpsilonLowerBound = "empirical_epsilon_lower_bound"
        case empiricalEpsilonDetails = "empirical_epsilon_details"
        case empiricalEpsilonUncorrectedMax = "empirical_epsilon_uncorrected_max"
    }
}
