import Kernels

/// Per-class mean and deviation of a statistic over known non-members (see `ThresholdAttack`).
public struct ClassStandardiser: Sendable {
    /// μ_c and σ_c per class ([C]).
    public var mean: [Double]
    /// σ_c per class, never 0.
    public var deviation: [Double]

    /// Statistics of `values` ([P]) of records with `labels` ([P]) in 0..<classCount.
    public init(values: [Double], labels: UnsafeBufferPointer<Int32>, classCount c: Int) {
        let pooled = Statistics.meanVariance(values)
        let pooledSD = pooled.variance > 1e-24 ? pooled.variance.squareRoot() : 1
        var byClass = [[Double]](repeating: [], count: c)
        for (v, y) in zip(values, labels) { byClass[Int(y)].append(v) }
        mean = []
        deviation = []
        for k in 0..<c {
            let (m, v) = Statistics.meanVariance(byClass[k])
            if byClass[k].count >= 2 && v > 1e-24 {
                mean.append(m)
                deviation.append(v.squareRoot())
            } else {
                mean.append(byClass[k].count >= 2 ? m : pooled.mean)
                deviation.append(pooledSD)
            }
        }
    }

    /// `(value - μ_k) / σ_k`.
    public func callAsFunction(_ value: Double, class k: Int) -> Double { (value - mean[k]) / deviation[k] }
}
