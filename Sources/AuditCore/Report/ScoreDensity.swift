import Foundation

/// Histogram and kernel density estimate of one group of scores, over a shared range.
struct ScoreDensity {
    /// Bin edges, `bins + 1` of them.
    var edges: [Double]
    /// Density per bin: count / (n * bin width), so the bars integrate to the share in range.
    var histogram: [Double]
    /// KDE evaluated on `grid` (empty when the scores take too few values for a density).
    var grid: [Double]
    var kde: [Double]
    /// Number of scores, and how many fell outside the range.
    var count: Int
    var outside: Int
}

/// The range the score plots show: the 0.5 % and 99.5 % quantiles of all scores, so a few
/// extreme scores do not squash the rest; widened when every score is the same.
func scorePlotRange(_ scores: [Double]) -> (lower: Double, upper: Double) {
    let sorted = scores.filter(\.isFinite).sorted()
    guard !sorted.isEmpty else { return (0, 1) }
    var lo = quantile(sorted, 0.005), hi = quantile(sorted, 0.995)
    if hi - lo <= 1e-12 * max(1, abs(lo)) { lo -= 0.5; hi += 0.5 }
    let pad = (hi - lo) * 0.02
    return (lo - pad, hi + pad)
}

/// Bins `scores` into `bins` equal bins over `range` and estimates their density with a
/// Gaussian kernel.
///
/// Bandwidth: Silverman's rule, h = 0.9 min(sd, IQR / 1.34) n^(-1/5). The KDE is computed on
/// scores pre-binned into 1,024 fine bins (error below 1 % of h), so its cost does not grow with
/// n beyond the binning; it is evaluated at 200 points and normalised over all scores, so out-of-
/// range scores lower the curve as they lower the bars. Scores with fewer than 8 distinct values
/// get no KDE: a smooth density would misrepresent them.
func scoreDensity(_ scores: [Double], range: (lower: Double, upper: Double), bins: Int = 40) -> ScoreDensity {
    let finite = scores.filter(\.isFinite)
    let n = finite.count
    let width = (range.upper - range.lower) / Double(bins)
    let edges = (0...bins).map { range.lower + Double($0) * width }
    var counts = [Double](repeating: 0, count: bins)
    var outside = 0
    for s in finite {
        guard s >= range.lower, s <= range.upper else { outside += 1; continue }
        counts[min(Int((s - range.lower) / width), bins - 1)] += 1
    }
    let histogram = counts.map { n > 0 ? $0 / (Double(n) * width) : 0 }

    var grid: [Double] = [], kde: [Double] = []
    let sorted = finite.sorted()
    var distinct = 0
    for k in sorted.indices where k == 0 || sorted[k] != sorted[k - 1] { distinct += 1; if distinct >= 8 { break } }
    if n > 1, distinct >= 8 {
        let mean = sorted.reduce(0, +) / Double(n)
        let sd = (sorted.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)).squareRoot()
        let iqr = quantile(sorted, 0.75) - quantile(sorted, 0.25)
        let spread = iqr > 0 ? min(sd, iqr / 1.34) : sd
        let h = 0.9 * spread * pow(Double(n), -0.2)
        if h > 0 {
            let fineLower = range.lower - 4 * h, fineUpper = range.upper + 4 * h
            let fineBins = 1024
            let fineWidth = (fineUpper - fineLower) / Double(fineBins)
            var fine = [Double](repeating: 0, count: fineBins)
            for s in sorted where s >= fineLower && s < fineUpper {
                fine[min(Int((s - fineLower) / fineWidth), fineBins - 1)] += 1
            }
            let norm = 1 / (Double(n) * h * (2 * Double.pi).squareRoot())
            for g in 0..<200 {
                let xg = range.lower + (range.upper - range.lower) * Double(g) / 199
                var sum = 0.0
                for b in 0..<fineBins where fine[b] > 0 {
                    let u = (xg - (fineLower + (Double(b) + 0.5) * fineWidth)) / h
                    if abs(u) < 8 { sum += fine[b] * exp(-0.5 * u * u) }
                }
                grid.append(xg)
                kde.append(sum * norm)
            }
        }
    }
    return ScoreDensity(edges: edges, histogram: histogram, grid: grid, kde: kde, count: n, outside: outside)
}
