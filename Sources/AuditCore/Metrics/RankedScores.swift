/// Scores sorted once, from most to least member-like, with tied scores grouped.
///
/// Everything the evaluation computes (ROC, AUC, TPR at FPR, bootstrap) needs only, for each
/// group of tied scores, how many members and non-members it holds. Sorting happens once here;
/// a bootstrap resample only recounts members and non-members per group.
struct RankedScores {
    /// The distinct scores, descending. NaN sorts below every number (least member-like).
    var groupScores: [Double]
    /// Members per group.
    var memberCounts: [Int]
    /// Non-members per group.
    var nonMemberCounts: [Int]
    /// For each input record (in input order), its group.
    var groupOfRecord: [Int32]
    /// Membership of each input record (in input order).
    var isMember: [Bool]

    var memberTotal: Int { memberCounts.reduce(0, +) }
    var nonMemberTotal: Int { nonMemberCounts.reduce(0, +) }

    init(scores: [Double], isMember: [Bool]) {
        precondition(scores.count == isMember.count, "scores and isMember differ in length")
        let n = scores.count
        // Map NaN to -inf so the order is total; a NaN score cannot be more member-like than a number.
        let keys = scores.map { $0.isNaN ? -Double.infinity : $0 }
        let order = (0..<n).sorted { keys[$0] > keys[$1] }
        var groupScores: [Double] = []
        var memberCounts: [Int] = []
        var nonMemberCounts: [Int] = []
        var groupOfRecord = [Int32](repeating: 0, count: n)
        groupScores.reserveCapacity(n)
        for i in order {
            if groupScores.last != keys[i] {
                groupScores.append(keys[i])
                memberCounts.append(0)
                nonMemberCounts.append(0)
            }
            let g = groupScores.count - 1
            groupOfRecord[i] = Int32(g)
            if isMember[i] { memberCounts[g] += 1 } else { nonMemberCounts[g] += 1 }
        }
        self.groupScores = groupScores
        self.memberCounts = memberCounts
        self.nonMemberCounts = nonMemberCounts
        self.groupOfRecord = groupOfRecord
        self.isMember = isMember
    }
}

/// AUC and TPR at each target FPR from per-group counts (groups in descending score order).
///
/// AUC = (1 / (P N)) * sum over groups g of neg_g * (members above g + pos_g / 2): the
/// Mann-Whitney statistic with ties counted one half, equal to the trapezoid area under the
/// tie-aware ROC curve. TPR at a target FPR is the TPR after the last group whose cumulative
/// FPR is <= the target (the curve is monotone, so that is the highest such TPR).
/// `sortedTargets` must be ascending; `tprs` gets one value per target, in that order.
/// With no members or no non-members, AUC is 0.5 and every TPR is 0 (by convention).
@inline(__always)
func curveSummary(
    memberCounts: UnsafeBufferPointer<Int>, nonMemberCounts: UnsafeBufferPointer<Int>,
    memberTotal: Int, nonMemberTotal: Int, sortedTargets: [Double], tprs: inout [Double]
) -> Double {
    for k in tprs.indices { tprs[k] = 0 }
    guard memberTotal > 0, nonMemberTotal > 0 else { return 0.5 }
    let p = Double(memberTotal), q = Double(nonMemberTotal)
    // Integer FP budget per target: fp <= floor(target * N) (with a little slack for rounding).
    let budgets = sortedTargets.map { Int(($0 * q * (1 + 1e-12)).rounded(.down)) }
    var twiceArea = 0  // sum of neg_g * (2 * above + pos_g), exact in integers
    var tp = 0, fp = 0
    var next = 0
    while next < budgets.count, budgets[next] < 0 { next += 1 }
    for g in 0..<memberCounts.count {
        let pos = memberCounts[g], neg = nonMemberCounts[g]
        twiceArea += neg * (2 * tp + pos)
        tp += pos
        fp += neg
        // Targets whose budget the new fp exceeds keep the TPR reached before this group.
        while next < budgets.count, fp > budgets[next] { next += 1 }
        var k = next
        while k < budgets.count { tprs[k] = Double(tp) / p; k += 1 }
    }
    return Double(twiceArea) / (2 * p * q)
}
