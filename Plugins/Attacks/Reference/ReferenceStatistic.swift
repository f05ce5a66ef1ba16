import Foundation
import Kernels
import PluginKit

/// One number per (model, record), computed from logits and the true label. A protocol with a
/// static function (not a stored closure) so that every loop over records is specialised for
/// its statistic and the statistic inlined into it.
protocol RecordStatistic {
    /// The statistic of one logits row ([C]) with true class y.
    static func value(_ row: UnsafeBufferPointer<Float>, _ y: Int) -> Double
}

extension RecordStatistic {
    /// Values of the target on every audit record ([N]).
    static func target(_ s: Signals) -> [Double] {
        let c = s.classCount
        return (0..<s.recordCount).map { i in
            value(UnsafeBufferPointer(rebasing: s.targetLogits[(i * c)..<((i + 1) * c)]), Int(s.labels[i]))
        }
    }

    /// Values of the target on every population record ([P]); the population must be present.
    static func populationTarget(_ s: Signals) -> [Double] {
        let c = s.classCount
        let logits = s.populationTargetLogits!, labels = s.populationLabels!
        return (0..<s.populationCount).map { j in
            value(UnsafeBufferPointer(rebasing: logits[(j * c)..<((j + 1) * c)]), Int(labels[j]))
        }
    }

    /// Values of every reference model on `range` of `records`, into `out` as [R, range.count]
    /// row-major (`out` is resized; reuse it across chunks to allocate once). Reads model by
    /// model (`Signals.forEachReferenceModel`), releasing each model's mapped pages once read.
    static func references(_ s: Signals, _ records: Signals.Records, _ range: Range<Int>, into out: inout [Double]) {
        let k = range.count, r = s.referenceCount
        if out.count != r * k { out = [Double](repeating: 0, count: r * k) }
        let labels = records == .audit ? s.labels : s.populationLabels!
        let c = s.classCount, lo = range.lowerBound
        out.withUnsafeMutableBufferPointer { o in
            s.forEachReferenceModel(of: records, in: range) { m, rows in
                for i in range {
                    let start = (i - lo) * c
                    o[m * k + (i - lo)] = value(
                        UnsafeBufferPointer(rebasing: rows[start..<(start + c)]), Int(labels[i]))
                }
            }
        }
    }
}

/// `log(p_y / (1 - p_y))` (LiRA).
enum LogitScaledConfidence: RecordStatistic {
    @inline(__always) static func value(_ row: UnsafeBufferPointer<Float>, _ y: Int) -> Double {
        Probability.logitScaledConfidence(row, label: y)
    }
}

/// Cross-entropy loss `-log p_y` (attack R).
enum CrossEntropy: RecordStatistic {
    @inline(__always) static func value(_ row: UnsafeBufferPointer<Float>, _ y: Int) -> Double {
        Probability.crossEntropy(row, label: y)
    }
}

/// `log p_y` (RMIA).
enum LogProbability: RecordStatistic {
    @inline(__always) static func value(_ row: UnsafeBufferPointer<Float>, _ y: Int) -> Double {
        Probability.logProbability(row, label: y)
    }
}

/// Which reference models trained on which audit records ([R, N], 1 = IN), lent by the host
/// without a copy; every model is OUT when the host gave no membership.
struct ReferenceMembership {
    let mask: UnsafeBufferPointer<UInt8>?
    let records: Int

    @inline(__always) func isIn(_ m: Int, _ i: Int) -> Bool { mask.map { $0[m * records + i] != 0 } ?? false }
}

/// Checks the shapes an attack on reference models relies on; returns the reference membership.
func referenceInputs(_ s: Signals, attack: String) throws -> ReferenceMembership {
    guard s.referenceCount > 0, s.referenceLogits != nil else {
        throw PluginError(.invalidArgument, "\(attack) needs the logits of at least one reference model")
    }
    guard s.classCount >= 2 else { throw PluginError(.invalidArgument, "\(attack) needs at least 2 classes") }
    if let bad = s.labels.firstIndex(where: { $0 < 0 || Int($0) >= s.classCount }) {
        throw PluginError(
            .invalidArgument, "audit label \(s.labels[bad]) at record \(bad) is outside 0..<\(s.classCount)")
    }
    return ReferenceMembership(mask: s.referenceMembership, records: s.recordCount)
}

/// Mean and variance of the IN or OUT values of each record, with pooled (global) statistics,
/// accumulated chunk of records by chunk of records (`add`, then `finish`).
///
/// Per record: count, mean, and variance (0 with fewer than 2 values), each summed over the
/// models in model order. The variance divides the squared deviations by `k - ddof`: `ddof` 1 is
/// the unbiased estimator, 0 the maximum-likelihood one. Pooled: the mean of every selected
/// value, and the pooled within-record variance `Σ_i Σ_r (v_ri - mean_i)² / Σ_i (k_i - ddof)`
/// over records with k_i ≥ 2, both summed over records in record order by `finish`. `add` writes only the state
/// of its own records, so chunks may be added from several threads at once, in any order; the
/// result is bit for bit the same whatever the chunks and their order.
final class GroupStatistics {
    let wantIn: Bool
    /// 1: unbiased variances (divide by k - 1); 0: maximum likelihood (divide by k).
    let ddof: Int
    let count: UnsafeMutableBufferPointer<Int>
    let mean: UnsafeMutableBufferPointer<Double>
    let variance: UnsafeMutableBufferPointer<Double>
    /// Per record: the sum of its values and of their squared deviations from its mean.
    private let sum: UnsafeMutableBufferPointer<Double>
    private let squares: UnsafeMutableBufferPointer<Double>
    private(set) var pooledMean = Double.nan
    private(set) var pooledVariance = Double.nan

    init(records n: Int, wantIn: Bool, ddof: Int = 1) {
        precondition(ddof == 0 || ddof == 1, "GroupStatistics: ddof is 0 or 1")
        self.wantIn = wantIn
        self.ddof = ddof
        count = .allocate(capacity: n)
        count.initialize(repeating: 0)
        mean = .allocate(capacity: n)
        mean.initialize(repeating: 0)
        variance = .allocate(capacity: n)
        variance.initialize(repeating: 0)
        sum = .allocate(capacity: n)
        sum.initialize(repeating: 0)
        squares = .allocate(capacity: n)
        squares.initialize(repeating: 0)
    }

    deinit {
        count.deallocate()
        mean.deallocate()
        variance.deallocate()
        sum.deallocate()
        squares.deallocate()
    }

    /// Adds the records of `range`: `values` are [R, range.count], as `RecordStatistic.references`.
    func add(_ values: [Double], _ range: Range<Int>, models r: Int, membership: ReferenceMembership) {
        let k = range.count, lo = range.lowerBound
        values.withUnsafeBufferPointer { v in
            for m in 0..<r {
                for i in range where membership.isIn(m, i) == wantIn {
                    count[i] += 1
                    sum[i] += v[m * k + i - lo]
                }
            }
            for i in range where count[i] > 0 { mean[i] = sum[i] / Double(count[i]) }
            for m in 0..<r {
                for i in range where membership.isIn(m, i) == wantIn {
                    let d = v[m * k + i - lo] - mean[i]
                    squares[i] += d * d
                }
            }
            for i in range { variance[i] = count[i] >= 2 ? squares[i] / Double(count[i] - ddof) : 0 }
        }
    }

    /// The pooled statistics, once every record was added (NaN where no value qualifies).
    func finish() {
        var total = 0.0, totalCount = 0, ss = 0.0, dof = 0
        for i in 0..<count.count where count[i] > 0 {
            total += sum[i]
            totalCount += count[i]
        }
        for i in 0..<count.count where count[i] >= 2 {
            ss += squares[i]
            dof += count[i] - ddof
        }
        pooledMean = totalCount > 0 ? total / Double(totalCount) : .nan
        pooledVariance = dof > 0 ? ss / Double(dof) : .nan
    }
}
