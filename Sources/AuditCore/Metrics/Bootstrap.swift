/// A two-sided confidence interval.
struct ConfidenceInterval: Codable, Sendable, Equatable {
    /// Lower bound.
    var lower: Double
    /// Upper bound.
    var upper: Double

    init(lower: Double, upper: Double) {
        self.lower = lower
        self.upper = upper
    }

    /// Whether `value` lies in [lower, upper].
    func contains(_ value: Double) -> Bool { lower <= value && value <= upper }
    /// upper - lower.
    var width: Double { upper - lower }
}

/// Percentile-bootstrap intervals for AUC and TPR at each FPR.
struct BootstrapIntervals {
    var auc: ConfidenceInterval
    /// One per target FPR, in the order the targets were given.
    var tprs: [ConfidenceInterval]
}

/// Bootstraps AUC and TPR@FPR over records: `samples` resamples of n records drawn with
/// replacement, each summarised by `curveSummary`; the interval is the (1-level)/2 and
/// (1+level)/2 quantiles (linear interpolation between order statistics).
///
/// Cost O(samples * (n + groups)) after the one sort in `RankedScores`: a resample only
/// recounts members and non-members per tie group, it never sorts. Resamples that draw no
/// member or no non-member are skipped. Returns degenerate intervals at the point estimates
/// when `samples` is 0 or no resample is usable.
func bootstrapIntervals(
    _ ranked: RankedScores, fprs: [Double], samples: Int, level: Double, seed: UInt64,
    pointAUC: Double, pointTPRs: [Double]
) -> BootstrapIntervals {
    let n = ranked.isMember.count
    let groups = ranked.groupScores.count
    let order = fprs.indices.sorted { fprs[$0] < fprs[$1] }
    let sortedTargets = order.map { fprs[$0] }
    var rng = BootstrapRandom(seed: seed)
    var aucs: [Double] = []
    var tprSamples = [[Double]](repeating: [], count: fprs.count)
    aucs.reserveCapacity(samples)
    var pos = [Int](repeating: 0, count: groups)
    var neg = [Int](repeating: 0, count: groups)
    var tprs = [Double](repeating: 0, count: fprs.count)
    ranked.groupOfRecord.withUnsafeBufferPointer { groupOf in
        ranked.isMember.withUnsafeBufferPointer { member in
            for _ in 0..<(n > 0 ? samples : 0) {
                var p = 0
                pos.withUnsafeMutableBufferPointer { pb in
                    neg.withUnsafeMutableBufferPointer { nb in
                        for g in 0..<groups { pb[g] = 0; nb[g] = 0 }
                        for _ in 0..<n {
                            let i = rng.index(below: n)
                            let g = Int(groupOf[i])
                            if member[i] { pb[g] += 1; p += 1 } else { nb[g] += 1 }
                        }
                    }
                }
                guard p > 0, p < n else { continue }
                let a = pos.withUnsafeBufferPointer { pb in
                    neg.withUnsafeBufferPointer { nb in
                        curveSummary(
                            memberCounts: pb, nonMemberCounts: nb, memberTotal: p,
                            nonMemberTotal: n - p, sortedTargets: sortedTargets, tprs: &tprs)
                    }
                }
                aucs.append(a)
                for (k, original) in order.enumerated() { tprSamples[original].append(tprs[k]) }
            }
        }
    }
    func interval(_ values: [Double], point: Double) -> ConfidenceInterval {
        guard !values.isEmpty else { return ConfidenceInterval(lower: point, upper: point) }
        let sorted = values.sorted()
        return ConfidenceInterval(
            lower: quantile(sorted, (1 - level) / 2),
            upper: quantile(sorted, (1 + level) / 2))
    }
    return BootstrapIntervals(
        auc: interval(aucs, point: pointAUC),
        tprs: fprs.indices.map { interval(tprSamples[$0], point: pointTPRs[$0]) })
}

/// Quantile q of ascending `sorted` values, interpolating linearly between order statistics
/// (the "type 7" definition: position q * (n - 1)).
func quantile(_ sorted: [Double], _ q: Double) -> Double {
    precondition(!sorted.isEmpty)
    let position = min(max(q, 0), 1) * Double(sorted.count - 1)
    let below = Int(position.rounded(.down))
    let above = min(below + 1, sorted.count - 1)
    let fraction = position - Double(below)
    return sorted[below] + (sorted[above] - sorted[below]) * fraction
}
