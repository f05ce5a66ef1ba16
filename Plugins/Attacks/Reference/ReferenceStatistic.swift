import Foundation
import Kernels
import PluginKit

/// One number per (model, record), computed from logits and the true label.
struct RecordStatistic {
    /// The statistic of one logits row ([C]) with true class y.
    let f: (UnsafeBufferPointer<Float>, Int) -> Double

    /// Values on `logits` ([count, C]) for `labels` ([count]) repeated over `models` blocks:
    /// the result is [models, count], row-major.
    func values(_ logits: UnsafeBufferPointer<Float>, labels: UnsafeBufferPointer<Int32>, models: Int, classCount c: Int) -> [Double] {
        let n = labels.count
        var out = [Double](repeating: 0, count: models * n)
        for m in 0..<models {
            for i in 0..<n {
                let start = (m * n + i) * c
                out[m * n + i] = f(UnsafeBufferPointer(rebasing: logits[start..<(start + c)]), Int(labels[i]))
            }
        }
        return out
    }

    static let logitScaledConfidence = RecordStatistic { Probability.logitScaledConfidence($0, label: $1) }
    static let crossEntropy = RecordStatistic { Probability.crossEntropy($0, label: $1) }
    static let logProbability = RecordStatistic { Probability.logProbability($0, label: $1) }
}

/// Checks the shapes an attack on reference models relies on; returns the membership [R, N]
/// (all zeros, i.e. every reference model OUT, when the host gave none).
func referenceInputs(_ s: Signals, attack: String) throws -> (logits: UnsafeBufferPointer<Float>, membership: [UInt8]) {
    guard s.referenceCount > 0, let logits = s.referenceLogits else {
        throw PluginError(.invalidArgument, "\(attack) needs the logits of at least one reference model")
    }
    guard s.classCount >= 2 else { throw PluginError(.invalidArgument, "\(attack) needs at least 2 classes") }
    if let bad = s.labels.firstIndex(where: { $0 < 0 || Int($0) >= s.classCount }) {
        throw PluginError(.invalidArgument, "audit label \(s.labels[bad]) at record \(bad) is outside 0..<\(s.classCount)")
    }
    let membership = s.referenceMembership.map(Array.init) ?? [UInt8](repeating: 0, count: s.referenceCount * s.recordCount)
    return (logits, membership)
}

/// Mean and variance of the IN or OUT values of each record, with pooled (global) statistics.
///
/// `values` and `membership` are [R, N]; `wantIn` picks IN (membership 1) or OUT values.
/// Per record: count, mean, and unbiased variance (ddof 1, 0 with fewer than 2 values).
/// Pooled: the mean of every selected value, and the pooled within-record variance
/// `Σ_i Σ_r (v_ri - mean_i)² / Σ_i (k_i - 1)` over records with k_i ≥ 2.
struct GroupStatistics {
    var count: [Int]
    var mean: [Double]
    var variance: [Double]
    var pooledMean: Double
    var pooledVariance: Double

    init(values: [Double], membership: [UInt8], models r: Int, records n: Int, wantIn: Bool) {
        count = [Int](repeating: 0, count: n)
        mean = [Double](repeating: 0, count: n)
        variance = [Double](repeating: 0, count: n)
        var total = 0.0, totalCount = 0
        for m in 0..<r {
            for i in 0..<n where (membership[m * n + i] != 0) == wantIn {
                count[i] += 1
                mean[i] += values[m * n + i]
            }
        }
        for i in 0..<n where count[i] > 0 {
            total += mean[i]
            totalCount += count[i]
            mean[i] /= Double(count[i])
        }
        for m in 0..<r {
            for i in 0..<n where (membership[m * n + i] != 0) == wantIn {
                let d = values[m * n + i] - mean[i]
                variance[i] += d * d
            }
        }
        var ss = 0.0, dof = 0
        for i in 0..<n {
            if count[i] >= 2 {
                ss += variance[i]
                dof += count[i] - 1
                variance[i] /= Double(count[i] - 1)
            } else {
                variance[i] = 0
            }
        }
        pooledMean = totalCount > 0 ? total / Double(totalCount) : .nan
        pooledVariance = dof > 0 ? ss / Double(dof) : .nan
    }
}
