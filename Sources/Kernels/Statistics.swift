#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

/// Summary statistics, sorted-array counting and a Gaussian kernel density estimate.
///
/// Means and variances accumulate in f64 with a two-pass formula (mean first, then squared
/// deviations), exact to rounding for the sizes an audit sees; tests compare with hand sums to 1e-12.
public enum Statistics {
    /// Mean and variance of `x` (variance divided by `n - ddof`; 0 when `n ≤ ddof`). NaN mean
    /// when `x` is empty.
    @inlinable
    public static func meanVariance<C: Collection>(_ x: C, ddof: Int = 0) -> (mean: Double, variance: Double)
    where C.Element == Double {
        let n = x.count
        guard n > 0 else { return (.nan, 0) }
        var sum = 0.0
        for v in x { sum += v }
        let mean = sum / Double(n)
        guard n > ddof else { return (mean, 0) }
        var ss = 0.0
        for v in x { ss += (v - mean) * (v - mean) }
        return (mean, ss / Double(n - ddof))
    }

    /// Number of elements of ascending `sorted` strictly less than `x` (binary search, O(log n)).
    @inlinable
    public static func countLess(_ sorted: UnsafeBufferPointer<Double>, _ x: Double) -> Int {
        var lo = 0, hi = sorted.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if sorted[mid] < x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Number of elements of ascending `sorted` less than or equal to `x` (binary search).
    @inlinable
    public static func countLessOrEqual(_ sorted: UnsafeBufferPointer<Double>, _ x: Double) -> Int {
        var lo = 0, hi = sorted.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if sorted[mid] <= x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The q-quantile of ascending `sorted` with linear interpolation between order statistics
    /// (position `q (n - 1)`, as numpy's default). `sorted` must not be empty.
    @inlinable
    public static func quantile(sorted: [Double], _ q: Double) -> Double {
        precondition(!sorted.isEmpty, "quantile of an empty sample")
        let pos = min(max(q, 0), 1) * Double(sorted.count - 1)
        let lo = Int(pos.rounded(.down))
        let hi = min(lo + 1, sorted.count - 1)
        return sorted[lo] + (pos - Double(lo)) * (sorted[hi] - sorted[lo])
    }
}

/// A one-dimensional Gaussian kernel density estimate.
///
/// `f(x) = 1/(n h) Σ_i φ((x - x_i) / h)`. The bandwidth defaults to Silverman's rule of thumb
/// `h = 0.9 min(σ, IQR / 1.34) n^(-1/5)` (σ with ddof 1); when that is 0 (all samples equal, or
/// the IQR is 0 with σ > 0) it falls back to σ, then to 1e-6 · max(1, |x̄|).
/// `logDensity` is a log-sum-exp over samples anchored at the nearest sample, so it stays finite
/// far outside the data. Cost O(n) per evaluation after an O(n log n) sort.
public struct GaussianKDE: Sendable {
    /// The samples, ascending.
    public let samples: [Double]
    /// h, in the samples' unit.
    public let bandwidth: Double

    /// Estimates from `samples` (at least one) with `bandwidth`, or Silverman's rule when nil.
    public init(samples: [Double], bandwidth: Double? = nil) {
        precondition(!samples.isEmpty, "a density needs at least one sample")
        let sorted = samples.sorted()
        self.samples = sorted
        self.bandwidth = bandwidth ?? GaussianKDE.silvermanBandwidth(sorted: sorted)
    }

    /// Silverman's rule of thumb for ascending samples (see the type's discussion).
    public static func silvermanBandwidth(sorted: [Double]) -> Double {
        let n = sorted.count
        let (mean, variance) = Statistics.meanVariance(sorted, ddof: 1)
        let sd = variance.squareRoot()
        let iqr = n > 1 ? Statistics.quantile(sorted: sorted, 0.75) - Statistics.quantile(sorted: sorted, 0.25) : 0
        var spread = iqr > 0 ? min(sd, iqr / 1.34) : sd
        if !(spread > 0) { spread = 1e-6 * max(1, abs(mean)) * pow(Double(n), 0.2) / 0.9 }
        return 0.9 * spread * pow(Double(n), -0.2)
    }

    /// `log f(x)`.
    public func logDensity(_ x: Double) -> Double {
        let n = samples.count
        // The nearest sample gives the largest kernel term: anchor the log-sum-exp there.
        let k = samples.withUnsafeBufferPointer { Statistics.countLess($0, x) }
        var nearest = Double.infinity
        if k < n { nearest = min(nearest, abs(samples[k] - x)) }
        if k > 0 { nearest = min(nearest, abs(samples[k - 1] - x)) }
        let inv = 1 / bandwidth
        let top = -0.5 * (nearest * inv) * (nearest * inv)
        var sum = 0.0
        for s in samples {
            let u = (x - s) * inv
            sum += exp(-0.5 * u * u - top)
        }
        return top + log(sum) - log(Double(n) * bandwidth) - 0.918_938_533_204_672_7
    }

    /// `f(x)`.
    public func density(_ x: Double) -> Double { exp(logDensity(x)) }
}
