/// Counts of an attack's decisions at one threshold (score >= threshold means "member").
struct ConfusionMatrix: Codable, Sendable, Equatable {
    /// Members called members.
    var truePositives: Int
    /// Non-members called members.
    var falsePositives: Int
    /// Non-members called non-members.
    var trueNegatives: Int
    /// Members called non-members.
    var falseNegatives: Int

    enum CodingKeys: String, CodingKey {
        case truePositives = "tp", falsePositives = "fp", trueNegatives = "tn", falseNegatives = "fn"
    }
}

/// The membership metrics of one set of records (the whole evaluated set, or one slice).
///
/// Conventions where a quantity is undefined: with no members or no non-members, AUC is 0.5,
/// every rate with a zero denominator is 0, and the intervals collapse to the point estimate;
/// `memberCount` and `recordCount` tell a reader when that happened.
struct MembershipMetrics: Codable, Sendable, Equatable {
    /// Area under the ROC curve (ties count one half).
    var auc: Double
    /// Bootstrap interval of `auc`.
    var aucCI: ConfidenceInterval
    /// TPR at each configured FPR, keyed by `fprKey(fpr)` (for example "0.001").
    var tprAtFPR: [String: Double]
    /// Bootstrap interval of each `tprAtFPR` value, same keys.
    var tprAtFPRCI: [String: ConfidenceInterval]
    /// max over the curve's thresholds of TPR - FPR.
    var attackerAdvantage: Double
    /// (TPR + TNR) / 2 at `threshold`.
    var balancedAccuracy: Double
    /// Positive predictive value TP / (TP + FP) at `threshold` (0 when nothing is called member).
    var ppv: Double
    /// The decision threshold: score >= threshold means "member".
    var threshold: Double
    /// Decisions at `threshold`.
    var confusionMatrix: ConfusionMatrix
    /// Records evaluated.
    var recordCount: Int
    /// Members among them.
    var memberCount: Int

    /// Whether both members and non-members were present, so the metrics mean something.
    var isDefined: Bool { memberCount > 0 && memberCount < recordCount }

    enum CodingKeys: String, CodingKey {
        case auc
        case aucCI = "auc_ci"
        case tprAtFPR = "tpr_at_fpr"
        case tprAtFPRCI = "tpr_at_fpr_ci"
        case attackerAdvantage = "attacker_advantage"
        case balancedAccuracy = "balanced_accuracy"
        case ppv, threshold
        case confusionMatrix = "confusion_matrix"
        case recordCount = "record_count"
        case memberCount = "member_count"
    }
}

/// The JSON key of an FPR: Swift's shortest round-trip spelling ("0.001", "0.01", "1e-05").
func fprKey(_ fpr: Double) -> String { "\(fpr)" }

/// Computes the metrics of one set of records.
///
/// - Parameters:
///   - threshold: the decision threshold for the confusion matrix, balanced accuracy and PPV;
///     nil picks the threshold of the curve point with the largest TPR - FPR (the highest such
///     threshold on ties, never the empty `+inf` point when a record exists).
///   - bootstrapSamples: resamples for the intervals (0 for none); `level` their coverage.
func membershipMetrics(
    scores: [Double], isMember: [Bool], fprs: [Double], threshold: Double?,
    bootstrapSamples: Int, level: Double, seed: UInt64
) -> MembershipMetrics {
    let ranked = RankedScores(scores: scores, isMember: isMember)
    let curve = rocCurve(ranked)
    let p = ranked.memberTotal, q = ranked.nonMemberTotal
    let auc = curve.auc
    let tprs = fprs.map { curve.truePositiveRate(atFalsePositiveRate: $0) }

    var advantage = 0.0, best = curve.thresholds.count > 1 ? 1 : 0
    for k in 1..<max(curve.thresholds.count, 1) {
        let a = curve.truePositiveRates[k] - curve.falsePositiveRates[k]
        if k == 1 || a > advantage { advantage = a; best = k }
    }
    let chosen = threshold ?? curve.thresholds[best]

    var tp = 0, fp = 0
    for i in scores.indices where scores[i] >= chosen {
        if isMember[i] { tp += 1 } else { fp += 1 }
    }
    let matrix = ConfusionMatrix(
        truePositives: tp, falsePositives: fp, trueNegatives: q - fp,
        falseNegatives: p - tp)
    let tpr = p > 0 ? Double(tp) / Double(p) : 0
    let tnr = q > 0 ? Double(q - fp) / Double(q) : 0

    let intervals = bootstrapIntervals(
        ranked, fprs: fprs, samples: bootstrapSamples, level: level,
        seed: seed, pointAUC: auc, pointTPRs: tprs)
    var tprByKey: [String: Double] = [:], ciByKey: [String: ConfidenceInterval] = [:]
    for (k, fpr) in fprs.enumerated() {
        tprByKey[fprKey(fpr)] = tprs[k]
        ciByKey[fprKey(fpr)] = intervals.tprs[k]
    }
    return MembershipMetrics(
        auc: auc, aucCI: intervals.auc, tprAtFPR: tprByKey, tprAtFPRCI: ciByKey,
        attackerAdvantage: advantage, balancedAccuracy: (tpr + tnr) / 2,
        ppv: tp + fp > 0 ? Double(tp) / Double(tp + fp) : 0,
        threshold: chosen, confusionMatrix: matrix, recordCount: scores.count, memberCount: p)
}
