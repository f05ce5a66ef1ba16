/// Operating points a real attacker has: the precision of a "member" call at a stated
/// membership prior, and a threshold chosen without the target's membership (on reference
/// models playing the target), with the rates it then gives on the target.
///
/// The oracle rows (`tpr_at_fpr`) pick, for each FPR, the best point of the target's own ROC
/// curve: an attacker who knew the target's members could pick it, a real one cannot. These
/// figures say what a real attacker gets.

/// One point of a ROC curve: the rates and the threshold behind them.
struct CurvePoint: Codable, Sendable, Equatable {
    /// Decision threshold: score >= threshold means "member" (`+inf`: nothing is called member).
    var threshold: Double
    var truePositiveRate: Double
    var falsePositiveRate: Double

    enum CodingKeys: String, CodingKey {
        case threshold
        case truePositiveRate = "tpr"
        case falsePositiveRate = "fpr"
    }
}

extension ROCCurve {
    /// The point behind `truePositiveRate(atFalsePositiveRate:)`: the last (lowest-threshold,
    /// highest-TPR) point whose FPR is at most `fpr`. At `fpr` 0 that is the lowest threshold
    /// strictly above every non-member score, so a member tied with a non-member is not counted.
    func point(atFalsePositiveRate fpr: Double) -> CurvePoint {
        var k = 0
        for j in falsePositiveRates.indices where falsePositiveRates[j] <= fpr * (1 + 1e-12) { k = j }
        return CurvePoint(
            threshold: thresholds[k], truePositiveRate: truePositiveRates[k], falsePositiveRate: falsePositiveRates[k])
    }
}

/// The positive predictive value of "member" calls when a fraction `prior` of the records
/// queried are members: `TPR·π / (TPR·π + FPR·(1 − π))`. 0 when nothing is called member
/// (TPR = FPR = 0), as `MembershipMetrics.ppv`.
func positivePredictiveValue(truePositiveRate tpr: Double, falsePositiveRate fpr: Double, prior: Double) -> Double {
    let called = tpr * prior + fpr * (1 - prior)
    return called > 0 ? tpr * prior / called : 0
}

/// The PPV of each configured FPR row at each prior: `[fprKey(prior)][fprKey(fpr)]`. Each row
/// uses its curve point (`ROCCurve.point(atFalsePositiveRate:)`), with the FPR that point
/// really has (at most the row's FPR).
func ppvAtPriors(_ curve: ROCCurve, fprs: [Double], priors: [Double]) -> [String: [String: Double]] {
    var out: [String: [String: Double]] = [:]
    for prior in priors {
        var row: [String: Double] = [:]
        for fpr in fprs {
            let p = curve.point(atFalsePositiveRate: fpr)
            row[fprKey(fpr)] = positivePredictiveValue(
                truePositiveRate: p.truePositiveRate, falsePositiveRate: p.falsePositiveRate, prior: prior)
        }
        out[fprKey(prior)] = row
    }
    return out
}

/// A threshold chosen on reference models only, at one FPR, and what it gives on the target.
struct ReferenceThreshold: Codable, Sendable, Equatable {
    /// The threshold, chosen on the pooled scores of the pseudo-targets (reference models
    /// attacked as if each were the target, with the other reference models as references).
    var threshold: Double
    /// TPR and FPR of the threshold on the pseudo-targets it was chosen on.
    var referenceTPR: Double
    var referenceFPR: Double
    /// TPR and FPR the threshold gives on the target's evaluated records.
    var targetTPR: Double
    var targetFPR: Double
    /// PPV on the target at each prior (`fprKey(prior)`), from `targetTPR` and `targetFPR`.
    var targetPPV: [String: Double]

    enum CodingKeys: String, CodingKey {
        case threshold
        case referenceTPR = "reference_tpr"
        case referenceFPR = "reference_fpr"
        case targetTPR = "target_tpr"
        case targetFPR = "target_fpr"
        case targetPPV = "target_ppv_at_prior"
    }
}

/// One pseudo-target's scores: a reference model attacked as if it were the target.
struct PseudoTargetScores: Sendable {
    /// The reference model's index.
    var model: Int
    var scores: [Double]
    /// Its membership of each audit record.
    var isMember: [Bool]
    var evaluationMask: [UInt8]

}

/// The thresholds an attacker chooses on its reference models, at each FPR, applied to the target.
///
/// The evaluated records of every pseudo-target are pooled into one ROC curve; at each FPR its
/// point (`ROCCurve.point(atFalsePositiveRate:)`) gives the threshold. On the target, TPR and
/// FPR count the evaluated records with score >= threshold. Nil when no pseudo-target has both
/// members and non-members.
/// - Returns: by `fprKey(fpr)`.
func referenceThresholds(
    _ pseudo: [PseudoTargetScores], fprs: [Double], priors: [Double],
    targetScores: [Double], targetIsMember: [Bool], targetMask: [UInt8]
) -> [String: ReferenceThreshold]? {
    var scores: [Double] = [], members: [Bool] = []
    for p in pseudo {
        for i in p.scores.indices where p.evaluationMask[i] != 0 {
            scores.append(p.scores[i])
            members.append(p.isMember[i])
        }
    }
    let pooled = rocCurve(scores: scores, isMember: members)
    guard pooled.memberCount > 0, pooled.nonMemberCount > 0 else { return nil }
    var tp = 0, fp = 0, p = 0, q = 0
    var out: [String: ReferenceThreshold] = [:]
    for fpr in fprs {
        let chosen = pooled.point(atFalsePositiveRate: fpr)
        tp = 0; fp = 0; p = 0; q = 0
        for i in targetScores.indices where targetMask[i] != 0 {
            // NaN ranks as -inf, as in `rocCurve`.
            let called = (targetScores[i].isNaN ? -Double.infinity : targetScores[i]) >= chosen.threshold
            if targetIsMember[i] { p += 1; if called { tp += 1 } } else { q += 1; if called { fp += 1 } }
        }
        let tpr = p > 0 ? Double(tp) / Double(p) : 0, fpRate = q > 0 ? Double(fp) / Double(q) : 0
        var ppv: [String: Double] = [:]
        for prior in priors {
            ppv[fprKey(prior)] = positivePredictiveValue(truePositiveRate: tpr, falsePositiveRate: fpRate, prior: prior)
        }
        out[fprKey(fpr)] = ReferenceThreshold(
            threshold: chosen.threshold, referenceTPR: chosen.truePositiveRate, referenceFPR: chosen.falsePositiveRate,
            targetTPR: tpr, targetFPR: fpRate, targetPPV: ppv)
    }
    return out
}

extension AttackEvaluation {
    /// Adds the operating points of a real attacker: the PPV of each FPR row at each prior (from
    /// `curve`, the whole set's ROC curve), and, when `pseudo` holds reference models attacked
    /// as targets, the thresholds chosen on them with the rates they give on the target.
    mutating func addOperatingPoints(
        curve: ROCCurve, priors: [Double], pseudo: [PseudoTargetScores], scores: [Double], isMember: [Bool],
        mask: [UInt8]
    ) {
        priorsUsed = priors.isEmpty ? nil : priors
        ppvAtPrior = priors.isEmpty ? nil : ppvAtPriors(curve, fprs: fprs, priors: priors)
        guard !pseudo.isEmpty else { return }
        referenceThreshold = referenceThresholds(
            pseudo, fprs: fprs, priors: priors, targetScores: scores, targetIsMember: isMember, targetMask: mask)
        pseudoTargets = referenceThreshold == nil ? nil : pseudo.map(\.model)
    }
}
