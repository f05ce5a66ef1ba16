/// A receiver operating characteristic curve, tie-aware.
///
/// Point k is what an attacker gets by calling "member" every record whose score is
/// `>= thresholds[k]`. Point 0 is (0, 0) at threshold `+inf`; each later point adds one whole
/// group of tied scores, so tied records always move together (one diagonal step, never a
/// staircase that depends on input order). The last point is (1, 1).
struct ROCCurve: Sendable, Equatable {
    /// False-positive rate of each point: non-members called members / non-members.
    var falsePositiveRates: [Double]
    /// True-positive rate of each point: members called members / members.
    var truePositiveRates: [Double]
    /// Threshold of each point (score >= threshold means "member"); `+inf` for the first point.
    var thresholds: [Double]
    /// Number of members the rates are relative to.
    var memberCount: Int
    /// Number of non-members the rates are relative to.
    var nonMemberCount: Int

    /// Area under the curve by the trapezoid rule.
    ///
    /// Equals the Mann-Whitney probability that a random member scores above a random
    /// non-member, ties counted one half. 0.5 by convention when a side is empty.
    var auc: Double {
        guard memberCount > 0, nonMemberCount > 0 else { return 0.5 }
        var area = 0.0
        for k in 1..<falsePositiveRates.count {
            area +=
                (falsePositiveRates[k] - falsePositiveRates[k - 1])
                * (truePositiveRates[k] + truePositiveRates[k - 1]) / 2
        }
        return area
    }

    /// The highest TPR among the curve's points whose FPR is at most `fpr`.
    func truePositiveRate(atFalsePositiveRate fpr: Double) -> Double {
        var best = 0.0
        for k in falsePositiveRates.indices where falsePositiveRates[k] <= fpr * (1 + 1e-12) {
            best = max(best, truePositiveRates[k])
        }
        return best
    }

    /// The curve as CSV text: header `fpr,tpr,threshold`, one line per point.
    ///
    /// The first point's threshold is written `inf`. Numbers use Swift's shortest round-trip form.
    var csv: String {
        var out = "fpr,tpr,threshold\n"
        for k in thresholds.indices {
            let t = thresholds[k]
            let ts = t.isInfinite ? (t > 0 ? "inf" : "-inf") : "\(t)"
            out += "\(falsePositiveRates[k]),\(truePositiveRates[k]),\(ts)\n"
        }
        return out
    }
}

/// The tie-aware ROC curve of membership scores.
///
/// Sorts once (O(n log n)); tied scores form one step. NaN scores count as the least
/// member-like. With no members (or no non-members) the TPRs (or FPRs) are all 0.
/// - Parameters:
///   - scores: one score per record; higher means "member".
///   - isMember: the truth for each record, same length.
func rocCurve(scores: [Double], isMember: [Bool]) -> ROCCurve {
    rocCurve(RankedScores(scores: scores, isMember: isMember))
}

func rocCurve(_ ranked: RankedScores) -> ROCCurve {
    let p = ranked.memberTotal, q = ranked.nonMemberTotal
    let groups = ranked.groupScores.count
    var fprs = [0.0], tprs = [0.0], thresholds = [Double.infinity]
    fprs.reserveCapacity(groups + 1)
    tprs.reserveCapacity(groups + 1)
    thresholds.reserveCapacity(groups + 1)
    var tp = 0, fp = 0
    for g in 0..<groups {
        tp += ranked.memberCounts[g]
        fp += ranked.nonMemberCounts[g]
        fprs.append(q > 0 ? Double(fp) / Double(q) : 0)
        tprs.append(p > 0 ? Double(tp) / Double(p) : 0)
        thresholds.append(ranked.groupScores[g])
    }
    return ROCCurve(
        falsePositiveRates: fprs, truePositiveRates: tprs, thresholds: thresholds,
        memberCount: p, nonMemberCount: q)
}

/// The ROC curve of the records an attack left in its evaluation (`evaluationMask[i] != 0`):
/// the curve behind `evaluate`'s whole-set figures, e.g. for the run's ROC CSV files.
func rocCurve(scores: [Double], isMember: [Bool], evaluationMask: [UInt8]) -> ROCCurve {
    precondition(
        scores.count == isMember.count && scores.count == evaluationMask.count,
        "rocCurve: per-record arrays differ in length")
    let kept = scores.indices.filter { evaluationMask[$0] != 0 }
    return rocCurve(scores: kept.map { scores[$0] }, isMember: kept.map { isMember[$0] })
}
