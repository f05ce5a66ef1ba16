/// Which slices of the audit records to evaluate besides the whole set.
struct SliceOptions: Codable, Sendable, Equatable {
    /// One slice per class label.
    var byClass: Bool
    /// One slice for records the target classifies correctly, one for the misclassified.
    var byCorrectness: Bool

    init(byClass: Bool = false, byCorrectness: Bool = false) {
        self.byClass = byClass
        self.byCorrectness = byCorrectness
    }

    /// No slices: the whole set only.
    static let none = SliceOptions()
    /// Every slice kind.
    static let all = SliceOptions(byClass: true, byCorrectness: true)

    enum CodingKeys: String, CodingKey {
        case byClass = "class"
        case byCorrectness = "correctness"
    }
}

/// The metrics of one slice of the evaluated records.
///
/// Encoded flat: `name`, `kind`, `value`, then every field of `MembershipMetrics`.
/// A slice's AUC, TPR at FPR and attacker advantage come from its own ROC curve; its confusion
/// matrix, balanced accuracy and PPV use the whole set's chosen threshold (one attacker, one
/// threshold).
struct SliceEvaluation: Codable, Sendable, Equatable {
    /// Human-readable name: "class 3", "correct", "incorrect".
    var name: String
    /// "class" or "correctness".
    var kind: String
    /// The class label, or "correct" / "incorrect".
    var value: String
    /// The metrics on the slice's records.
    var metrics: MembershipMetrics

    init(name: String, kind: String, value: String, metrics: MembershipMetrics) {
        self.name = name
        self.kind = kind
        self.value = value
        self.metrics = metrics
    }

    enum CodingKeys: String, CodingKey { case name, kind, value }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        kind = try c.decode(String.self, forKey: .kind)
        value = try c.decode(String.self, forKey: .value)
        metrics = try MembershipMetrics(from: decoder)
    }

    func encode(to encoder: any Encoder) throws {
        try metrics.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(kind, forKey: .kind)
        try c.encode(value, forKey: .value)
    }
}

/// One attack's evaluation: metrics on the whole evaluated set, then per slice.
///
/// Encoded flat: `attack`, every field of `MembershipMetrics` (`auc`, `auc_ci`, `tpr_at_fpr`,
/// `tpr_at_fpr_ci`, `attacker_advantage`, `balanced_accuracy`, `ppv`, `threshold`,
/// `confusion_matrix`, `record_count`, `member_count`), `fprs`, `bootstrap_samples`,
/// `confidence_level`, `slices`, and the operating points of a real attacker when computed
/// (`priors`, `ppv_at_prior`, `reference_threshold`, `pseudo_targets`; see `OperatingPoints.swift`)
/// and the numbers the attack reported while scoring (`reported_values`).
public struct AttackEvaluation: Codable, Sendable, Equatable {
    /// The attack's name as configured.
    public var attack: String
    /// Metrics on every evaluated record.
    var metrics: MembershipMetrics
    /// The FPRs of `tpr_at_fpr`, in configured order.
    var fprs: [Double]
    /// Bootstrap resamples behind the intervals.
    var bootstrapSamples: Int
    /// Coverage of the intervals (0.95).
    var confidenceLevel: Double
    /// Per-slice metrics, classes ascending, then correct, incorrect.
    var slices: [SliceEvaluation]
    /// The membership priors of `ppvAtPrior` (`audit.priors`), nil when none.
    var priorsUsed: [Double]? = nil
    /// PPV of each FPR row at each prior: `[fprKey(prior)][fprKey(fpr)]`.
    var ppvAtPrior: [String: [String: Double]]? = nil
    /// The threshold chosen on reference models at each FPR (`fprKey`), with its rates on the target.
    var referenceThreshold: [String: ReferenceThreshold]? = nil
    /// The reference models attacked as pseudo-targets to choose `referenceThreshold`.
    var pseudoTargets: [Int]? = nil
    /// Numbers the attack recorded while scoring (`MIA_HOST_RESULTS_V1`), e.g. rmia's tuned `offline_a`.
    var reportedValues: [String: Double]? = nil

    init(
        attack: String, metrics: MembershipMetrics, fprs: [Double], bootstrapSamples: Int,
        confidenceLevel: Double, slices: [SliceEvaluation]
    ) {
        self.attack = attack
        self.metrics = metrics
        self.fprs = fprs
        self.bootstrapSamples = bootstrapSamples
        self.confidenceLevel = confidenceLevel
        self.slices = slices
    }

    // Shorthands for the whole-set figures.
    public var auc: Double { metrics.auc }
    var aucCI: ConfidenceInterval { metrics.aucCI }
    /// TPR at `fpr` (which must be one of `fprs`).
    func tpr(atFPR fpr: Double) -> Double? { metrics.tprAtFPR[fprKey(fpr)] }
    /// Interval of the TPR at `fpr`.
    func tprCI(atFPR fpr: Double) -> ConfidenceInterval? { metrics.tprAtFPRCI[fprKey(fpr)] }

    enum CodingKeys: String, CodingKey {
        case attack, fprs, slices
        case bootstrapSamples = "bootstrap_samples"
        case confidenceLevel = "confidence_level"
        case priorsUsed = "priors"
        case ppvAtPrior = "ppv_at_prior"
        case referenceThreshold = "reference_threshold"
        case pseudoTargets = "pseudo_targets"
        case reportedValues = "reported_values"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        attack = try c.decode(String.self, forKey: .attack)
        fprs = try c.decode([Double].self, forKey: .fprs)
        bootstrapSamples = try c.decode(Int.self, forKey: .bootstrapSamples)
        confidenceLevel = try c.decode(Double.self, forKey: .confidenceLevel)
        slices = try c.decode([SliceEvaluation].self, forKey: .slices)
        priorsUsed = try c.decodeIfPresent([Double].self, forKey: .priorsUsed)
        ppvAtPrior = try c.decodeIfPresent([String: [String: Double]].self, forKey: .ppvAtPrior)
        referenceThreshold = try c.decodeIfPresent([String: ReferenceThreshold].self, forKey: .referenceThreshold)
        pseudoTargets = try c.decodeIfPresent([Int].self, forKey: .pseudoTargets)
        reportedValues = try c.decodeIfPresent([String: Double].self, forKey: .reportedValues)
        metrics = try MembershipMetrics(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        try metrics.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(attack, forKey: .attack)
        try c.encode(fprs, forKey: .fprs)
        try c.encode(bootstrapSamples, forKey: .bootstrapSamples)
        try c.encode(confidenceLevel, forKey: .confidenceLevel)
        try c.encode(slices, forKey: .slices)
        try c.encodeIfPresent(priorsUsed, forKey: .priorsUsed)
        try c.encodeIfPresent(ppvAtPrior, forKey: .ppvAtPrior)
        try c.encodeIfPresent(referenceThreshold, forKey: .referenceThreshold)
        try c.encodeIfPresent(pseudoTargets, forKey: .pseudoTargets)
        try c.encodeIfPresent(reportedValues, forKey: .reportedValues)
    }
}

/// Evaluates one attack's scores: the one metrics function every attack shares.
///
/// Only records with `evaluationMask[i] != 0` count (an attack zeroes the records whose
/// membership it trained on). The whole set's threshold is the one maximising TPR - FPR; slices
/// reuse it (see `SliceEvaluation`). Intervals: percentile bootstrap over records,
/// `bootstrapSamples` resamples (0 for none), 95 % coverage, seeded by `seed` (slice k uses a
/// seed derived from `seed` and k). Cost: one sort per set plus O(bootstrapSamples * n).
/// - Parameters:
///   - scores, evaluationMask, isMember, labels, targetCorrect: one entry per audit record
///     (all the same length); `targetCorrect[i]` says whether the target predicts `labels[i]`.
///   - fprs: the FPR points for `tpr_at_fpr`, e.g. [0.001, 0.01, 0.1].
func evaluate(
    attack: String, scores: [Double], evaluationMask: [UInt8], isMember: [Bool], labels: [Int32],
    targetCorrect: [Bool], fprs: [Double], slices: SliceOptions, bootstrapSamples: Int, seed: UInt64
) -> AttackEvaluation {
    let n = scores.count
    precondition(
        evaluationMask.count == n && isMember.count == n && labels.count == n
            && targetCorrect.count == n, "evaluate: per-record arrays differ in length")
    let level = 0.95
    let kept = (0..<n).filter { evaluationMask[$0] != 0 }
    func metrics(of records: [Int], threshold: Double?, seed: UInt64) -> MembershipMetrics {
        membershipMetrics(
            scores: records.map { scores[$0] }, isMember: records.map { isMember[$0] },
            fprs: fprs, threshold: threshold, bootstrapSamples: bootstrapSamples,
            level: level, seed: seed)
    }
    let whole = metrics(of: kept, threshold: nil, seed: seed)

    var parts: [(name: String, kind: String, value: String, records: [Int])] = []
    if slices.byClass {
        let byLabel = Dictionary(grouping: kept, by: { labels[$0] })
        for label in byLabel.keys.sorted() {
            parts.append(("class \(label)", "class", "\(label)", byLabel[label]!))
        }
    }
    if slices.byCorrectness {
        parts.append(("correct", "correctness", "correct", kept.filter { targetCorrect[$0] }))
        parts.append(("incorrect", "correctness", "incorrect", kept.filter { !targetCorrect[$0] }))
    }
    let sliceResults = parts.enumerated().map { k, part in
        SliceEvaluation(
            name: part.name, kind: part.kind, value: part.value,
            metrics: metrics(
                of: part.records, threshold: whole.threshold,
                seed: seed ^ (UInt64(k + 1) &* 0x9E37_79B9_7F4A_7C15)))
    }
    return AttackEvaluation(
        attack: attack, metrics: whole, fprs: fprs,
        bootstrapSamples: bootstrapSamples, confidenceLevel: level,
        slices: sliceResults)
}
