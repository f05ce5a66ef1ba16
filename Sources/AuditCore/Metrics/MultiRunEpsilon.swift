import Foundation

/// The classical audit's ε lower bound over several independently trained targets (Jagielski,
/// Ullman and Oprea 2020; Nasr et al. 2021): each training run contributes one trial (a canary's
/// score under a target that did or did not train on it). The threshold is chosen on the
/// `selection` runs only, then fixed; the false-positive and false-negative rates of the `bound`
/// runs at that threshold are bounded above by Clopper-Pearson and turned into ε as in
/// `heldOutEpsilonBound`. The trials of the bound runs are independent (one training each), so
/// the figure is a lower bound at `confidence` on the ε of the training algorithm.
///
/// Pure maths: the host does not yet train the many targets this needs (a study over seeds
/// would); the function is here for that and for callers with their own runs' scores.
func multiRunEpsilonBound(
    selection: (scores: [Double], isMember: [Bool]), bound: (scores: [Double], isMember: [Bool]), delta: Double,
    confidence: Double = 0.95
) -> HeldOutEpsilonBound {
    precondition(selection.scores.count == selection.isMember.count && bound.scores.count == bound.isMember.count)
    let roc = rocCurve(scores: selection.scores, isMember: selection.isMember)
    let chosen = bestEpsilonPoint(roc, delta: delta, confidence: confidence).threshold
    let members = bound.scores.indices.filter { bound.isMember[$0] }
    let nonMembers = bound.scores.indices.filter { !bound.isMember[$0] }
    var result = HeldOutEpsilonBound(
        epsilon: 0, threshold: chosen, selectionRecords: selection.scores.count, boundRecords: bound.scores.count,
        falsePositives: 0, falseNegatives: 0, nonMembers: nonMembers.count, members: members.count)
    guard let threshold = chosen, !members.isEmpty, !nonMembers.isEmpty else { return result }
    result.falsePositives = nonMembers.filter { bound.scores[$0] >= threshold }.count
    result.falseNegatives = members.filter { !(bound.scores[$0] >= threshold) }.count
    result.epsilon = epsilonFromCounts(
        fp: result.falsePositives, negatives: nonMembers.count, fn: result.falseNegatives, positives: members.count,
        delta: delta, confidence: confidence)
    return result
}
