import Foundation
import Kernels
import PluginKit

/// The label-only search for the distance from a record to the target's decision boundary, in
/// the style of HopSkipJump (Chen, Jordan and Wainwright 2020, untargeted, L2), as the boundary
/// attacks of Choquette-Choo et al. 2021 and Li and Zhang 2021 use it. Only predicted labels
/// are read. Owned by `BoundaryDistanceAttack`; the tests drive it with a known boundary.
///
/// Per record x of label y (queries in brackets):
/// 1. [1] the label of x; if it is not y the distance is 0 and the search stops.
/// 2. [2 `initialTries`] x ± σ_k e_k, e_k ~ N(0, I) fresh, σ_k = `initialScale` 2^k (both signs,
///    so that a boundary on either side is met): the first (smallest σ, + before -) whose label
///    is not y is the starting adversarial point; with none, the distance is the norm of the
///    largest perturbation tried (a record that far out is beyond what the search can tell
///    apart) and the search stops.
/// 3. [`binarySteps`] bisection of the segment from x to the adversarial point: the boundary
///    point x_b, on the adversarial side.
/// 4. While the budget allows `gradientQueries + stepTrials + binarySteps` more: estimate the
///    boundary's normal at x_b from the labels at x_b + δ u_b (u_b uniform unit vectors,
///    δ = ‖x_b - x‖ / d), as the sum of (φ_b - φ̄) u_b with φ = +1 off label y and -1 on it;
///    step from x_b along it by ξ = ‖x_b - x‖ / √t, halving ξ up to `stepTrials` times until
///    the label is not y (all candidates in one batch); bisect the segment from x to that point.
/// The distance is the smallest ‖x_b - x‖ found, an upper bound of the true L2 distance that
/// the iterations bring down. Records run in lockstep, `batchRecords` at a time, so that every
/// round is one batch of queries; every record of a block gets the same number of rounds.
public struct BoundarySearch: Sendable {
    public var queryBudget: Int
    public var gradientQueries: Int
    public var binarySteps: Int
    public var initialScale: Double
    public var initialTries = 12
    public var stepTrials = 6
    public var batchRecords = 64

    public init(queryBudget: Int, gradientQueries: Int, binarySteps: Int, initialScale: Double, batchRecords: Int = 64)
    {
        self.queryBudget = queryBudget
        self.gradientQueries = gradientQueries
        self.binarySteps = binarySteps
        self.initialScale = initialScale
        self.batchRecords = batchRecords
    }

    /// Queries every record needs before the first iteration (steps 1 to 3).
    public var setupQueries: Int { 1 + 2 * initialTries + binarySteps }
    public var iterationQueries: Int { gradientQueries + stepTrials + binarySteps }

    public struct Result: Sendable {
        /// [n] estimated L2 distance to the boundary (0 where the record's label is wrong).
        public var distances: [Double]
        /// [n] label queries spent on each record.
        public var queries: [Int]
    }

    /// Searches every record of `features` ([n, d]) with true `labels` ([n]); `predict` gives
    /// the predicted labels of a batch of rows ([count, d], count); `progress` hears the
    /// records done after each block.
    public func run(
        features: [Float], labels: [Int32], width d: Int, seed: UInt64,
        progress: (Int, Int) -> Void = { _, _ in }, predict: ([Float], Int) throws -> [Int]
    ) throws -> Result {
        let n = labels.count
        var result = Result(distances: [Double](repeating: 0, count: n), queries: [Int](repeating: 0, count: n))
        var start = 0, block: UInt64 = 0
        while start < n {
            let range = start..<min(n, start + max(1, batchRecords))
            var rng = SeededRandom.derive(seed: seed, block)
            try searchBlock(range, features: features, labels: labels, d: d, rng: &rng, predict: predict, into: &result)
            start = range.upperBound
            block += 1
            progress(start, n)
        }
        return result
    }

    private func searchBlock(
        _ range: Range<Int>, features: [Float], labels: [Int32], d: Int, rng: inout SeededRandom,
        predict: ([Float], Int) throws -> [Int], into result: inout Result
    ) throws {
        func row(_ i: Int) -> [Float] { Array(features[(i * d)..<((i + 1) * d)]) }
        func norm(_ v: [Float]) -> Double { v.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot() }
        /// Queries `rows` (each d wide) for the records `owners`, counting one query each.
        func ask(_ rows: [Float], owners: [Int]) throws -> [Int] {
            for i in owners { result.queries[i] += 1 }
            let predicted = try predict(rows, owners.count)
            guard predicted.count == owners.count else {
                throw PluginError(
                    .internal, "the target answered \(predicted.count) labels for \(owners.count) queries")
            }
            return predicted
        }
        // 1. The records' own labels.
        var active = Array(range)
        let own = try ask(active.flatMap(row), owners: active)
        active = zip(active, own).filter { Int(labels[$0.0]) == $0.1 }.map(\.0)
        for (i, p) in zip(Array(range), own) where Int(labels[i]) != p { result.distances[i] = 0 }
        guard !active.isEmpty else { return }

        // 2. Random noise of growing scale, both signs, all tries at once.
        var batch: [Float] = [], owners: [Int] = []
        var noise: [[Float]] = []  // [active * 2 tries] perturbations: +e_0, -e_0, +e_1, ...
        let perRecord = 2 * initialTries
        for i in active {
            let x = row(i)
            for k in 0..<initialTries {
                let sigma = Float(initialScale * pow(2, Double(k)))
                let e = (0..<d).map { _ in Float(rng.nextGaussian()) * sigma }
                for sign: Float in [1, -1] {
                    let signed = e.map { sign * $0 }
                    noise.append(signed)
                    batch += zip(x, signed).map { $0 + $1 }
                    owners.append(i)
                }
            }
        }
        let tries = try ask(batch, owners: owners)
        var adversarial: [Int: [Float]] = [:]
        for (a, i) in active.enumerated() {
            if let k = (0..<perRecord).first(where: { tries[a * perRecord + $0] != Int(labels[i]) }) {
                adversarial[i] = zip(row(i), noise[a * perRecord + k]).map { $0 + $1 }
            } else {
                result.distances[i] = norm(noise[a * perRecord + perRecord - 1])
            }
        }
        active = active.filter { adversarial[$0] != nil }
        guard !active.isEmpty else { return }

        // 3. Bisection to the boundary.
        var boundary = try bisect(active, toward: adversarial, features: features, labels: labels, d: d, ask: ask)
        var best: [Int: Double] = [:]
        for i in active { best[i] = norm(zip(boundary[i]!, row(i)).map { $0 - $1 }) }

        // 4. Gradient estimate, geometric step, bisection; as many rounds as the budget allows.
        let rounds = max(0, (queryBudget - setupQueries) / iterationQueries)
        if rounds > 0 {
            for t in 1...rounds {
                var probes: [Float] = [], probeOwners: [Int] = [], directions: [[Float]] = []
                var delta: [Int: Float] = [:]
                for i in active {
                    let xb = boundary[i]!, dist = norm(zip(xb, row(i)).map { $0 - $1 })
                    delta[i] = Float(max(dist / Double(d), 1e-7))
                    for _ in 0..<gradientQueries {
                        var u = (0..<d).map { _ in Float(rng.nextGaussian()) }
                        let s = Float(norm(u))
                        u = u.map { $0 / max(s, 1e-20) }
                        directions.append(u)
                        probes += zip(xb, u).map { $0 + delta[i]! * $1 }
                        probeOwners.append(i)
                    }
                }
                let signs = try ask(probes, owners: probeOwners)
                var candidates: [Float] = [], candidateOwners: [Int] = []
                var steps: [Int: [[Float]]] = [:]
                for (a, i) in active.enumerated() {
                    let phi = (0..<gradientQueries).map {
                        signs[a * gradientQueries + $0] != Int(labels[i]) ? 1.0 : -1.0
                    }
                    let mean = phi.reduce(0, +) / Double(gradientQueries)
                    let centre = abs(mean) == 1 ? 0 : mean
                    var g = [Double](repeating: 0, count: d)
                    for b in 0..<gradientQueries {
                        let w = phi[b] - centre
                        let u = directions[a * gradientQueries + b]
                        for j in 0..<d { g[j] += w * Double(u[j]) }
                    }
                    let gn = g.reduce(0) { $0 + $1 * $1 }.squareRoot()
                    let xb = boundary[i]!
                    let dist = norm(zip(xb, row(i)).map { $0 - $1 })
                    var xi = dist / Double(t).squareRoot()
                    var mine: [[Float]] = []
                    for _ in 0..<stepTrials {
                        let c = (0..<d).map { j in xb[j] + Float(xi * (gn > 0 ? g[j] / gn : 0)) }
                        mine.append(c)
                        candidates += c
                        candidateOwners.append(i)
                        xi /= 2
                    }
                    steps[i] = mine
                }
                let stepLabels = try ask(candidates, owners: candidateOwners)
                var targets: [Int: [Float]] = [:]
                for (a, i) in active.enumerated() {
                    let k = (0..<stepTrials).first { stepLabels[a * stepTrials + $0] != Int(labels[i]) }
                    targets[i] = k.map { steps[i]![$0] } ?? boundary[i]!
                }
                boundary = try bisect(active, toward: targets, features: features, labels: labels, d: d, ask: ask)
                for i in active { best[i] = min(best[i]!, norm(zip(boundary[i]!, row(i)).map { $0 - $1 })) }
            }
        }
        for i in active { result.distances[i] = best[i]! }
    }

    /// `binarySteps` bisections of the segments from each record (label y) to its point in
    /// `toward` (label not y), all records in one batch per step: the end on the far side.
    private func bisect(
        _ active: [Int], toward: [Int: [Float]], features: [Float], labels: [Int32], d: Int,
        ask: ([Float], [Int]) throws -> [Int]
    ) throws -> [Int: [Float]] {
        var lo = [Int: Double](), hi = [Int: Double]()
        for i in active {
            lo[i] = 0
            hi[i] = 1
        }
        func point(_ i: Int, _ lambda: Double) -> [Float] {
            let x = features[(i * d)..<((i + 1) * d)], a = toward[i]!
            return zip(x, a).map { $0 + Float(lambda) * ($1 - $0) }
        }
        for _ in 0..<binarySteps {
            var batch: [Float] = []
            for i in active { batch += point(i, 0.5 * (lo[i]! + hi[i]!)) }
            let predicted = try ask(batch, active)
            for (a, i) in active.enumerated() {
                let mid = 0.5 * (lo[i]! + hi[i]!)
                if predicted[a] != Int(labels[i]) { hi[i] = mid } else { lo[i] = mid }
            }
        }
        var out: [Int: [Float]] = [:]
        for i in active { out[i] = point(i, hi[i]!) }
        return out
    }
}
