import Foundation
import Kernels
import PluginKit

/// Model-based data synthesis, Algorithm 1 of Shokri et al. 2017 ("Membership Inference
/// Attacks Against Machine Learning Models"): shadow training data made by querying the target,
/// without access to the population.
///
/// For a wanted class c, a walk starts from a random record (every feature uniform in [0, 1]),
/// k = `kMax`, best confidence y* = 0, and repeats, at most `iterationsMax` times:
/// query the target on x and take its softmax probabilities y;
/// - if y_c >= y* (accept): when y_c > `confidenceMin` and c is the argmax of y, keep x as a
///   record of class c with probability y_c (the paper's random selection step) and end the walk;
///   otherwise x* = x, y* = y_c, rejections = 0;
/// - else (reject): after more than `rejectionsMax` consecutive rejections, k = max(`kMin`, ⌈k/2⌉)
///   and rejections = 0;
/// then x = x* with k distinct random features redrawn uniformly in [0, 1]. A walk that ends
/// without a record starts again from a new random record.
///
/// Features are taken to lie in [0, 1] (pixel intensities); the paper's features were binary
/// and its randomisation drew them from {0, 1}. Walks run side by side, up to `batchSize` of them,
/// one per record still wanted (classes interleaved), so each call to `predictTarget` carries a
/// batch. Every query counts against `queryBudget`; synthesis stops when every class has
/// `recordsPerClass` records or the budget is spent, never querying beyond it.
public struct ShadowSynthesis: Sendable {
    /// Records wanted per class.
    public var recordsPerClass: Int
    /// Features redrawn per step at first (capped at the feature count).
    public var kMax: Int
    /// Fewest features redrawn per step.
    public var kMin: Int
    /// Consecutive rejections tolerated before k halves.
    public var rejectionsMax: Int
    /// Confidence the wanted class must exceed for a record to be kept.
    public var confidenceMin: Double
    /// Queries per walk before it starts again from a new random record.
    public var iterationsMax: Int
    /// Total target queries the synthesis may make.
    public var queryBudget: Int
    /// Most walks queried in one call.
    public var batchSize: Int

    /// The attack options that set a synthesis (prefix `synthesis_`, and `query_budget`).
    static let options: [OptionSpec] = [
        OptionSpec("synthesis_records_per_class", .int, default: "100", "synthesis: records to synthesise per class")
            .atLeast(1),
        OptionSpec("synthesis_k_max", .int, default: "128", "synthesis: features redrawn per step at first").atLeast(1),
        OptionSpec("synthesis_k_min", .int, default: "4", "synthesis: fewest features redrawn per step").atLeast(1),
        OptionSpec(
            "synthesis_rejections_max", .int, default: "10",
            "synthesis: consecutive rejections before the step size k halves"
        ).atLeast(1),
        OptionSpec(
            "synthesis_confidence_min", .float, default: "0.5",
            "synthesis: target confidence in the wanted class a record must exceed"
        ).within(0...1),
        OptionSpec(
            "synthesis_iterations_max", .int, default: "1000",
            "synthesis: queries per walk before it restarts from a new random record"
        ).atLeast(1),
        OptionSpec(
            "query_budget", .int, default: "1000000",
            "synthesis: total target queries allowed; too few records when it runs out is an error"
        ).atLeast(1),
    ]

    /// A synthesis with the given settings (the defaults are the option defaults).
    public init(
        recordsPerClass: Int = 100, kMax: Int = 128, kMin: Int = 4, rejectionsMax: Int = 10,
        confidenceMin: Double = 0.5,
        iterationsMax: Int = 1000, queryBudget: Int = 1_000_000, batchSize: Int = 1024
    ) {
        self.recordsPerClass = recordsPerClass
        self.kMax = kMax
        self.kMin = kMin
        self.rejectionsMax = rejectionsMax
        self.confidenceMin = confidenceMin
        self.iterationsMax = iterationsMax
        self.queryBudget = queryBudget
        self.batchSize = batchSize
    }

    /// The synthesis the attack options ask for.
    init(_ options: PluginOptions) throws {
        func int(_ key: String, _ fallback: Int, least: Int) throws -> Int {
            let v = options.has(key) ? try options.int(key) : fallback
            guard v >= least else {
                throw PluginError(.invalidArgument, "option `\(key)` must be at least \(least), got \(v)")
            }
            return v
        }
        self.init(
            recordsPerClass: try int("synthesis_records_per_class", 100, least: 2),
            kMax: try int("synthesis_k_max", 128, least: 1),
            kMin: try int("synthesis_k_min", 4, least: 1),
            rejectionsMax: try int("synthesis_rejections_max", 10, least: 0),
            confidenceMin: options.has("synthesis_confidence_min")
                ? try options.double("synthesis_confidence_min") : 0.5,
            iterationsMax: try int("synthesis_iterations_max", 1000, least: 1),
            queryBudget: try int("query_budget", 1_000_000, least: 1))
        guard kMin <= kMax else {
            throw PluginError(
                .invalidArgument, "option `synthesis_k_min` (\(kMin)) must not exceed `synthesis_k_max` (\(kMax))")
        }
        guard confidenceMin >= 0 && confidenceMin < 1 else {
            throw PluginError(
                .invalidArgument, "option `synthesis_confidence_min` must be in [0, 1), got \(confidenceMin)")
        }
    }

    /// What a synthesis made.
    public struct Result: Sendable {
        /// [count, featureSize] records, grouped by nothing in particular (order of completion).
        public var features: [Float]
        /// [count] the class each record was synthesised for.
        public var labels: [Int32]
        /// Records per class ([C]).
        public var perClass: [Int]
        /// Target queries made.
        public var queries: Int
        /// Whether the synthesis stopped because the budget was spent.
        public var budgetExhausted: Bool
    }

    /// One hill-climbing walk towards a record of class `label`.
    struct Walk {
        var label: Int
        /// The record to query next.
        var candidate: [Float]
        /// x*, the last accepted record.
        var best: [Float]
        /// y*_c, the target's confidence in `label` for `best` (0 before any query).
        var bestConfidence = 0.0
        var k: Int
        var rejections = 0
        var iterations = 0
    }

    /// Synthesises records of each of `classCount` classes by querying `target`.
    ///
    /// - Parameters:
    ///   - featureSize: features per record, each in [0, 1].
    ///   - rng: every random choice (starting records, features redrawn, the selection step).
    ///   - released: the target answers with what an output defence released
    ///     (`Signals.releasedProbabilities`): its confidences are `exp` of the answers, not a softmax.
    ///   - progress: called after each batch with (records made, records wanted).
    /// - Returns: the records made; fewer than wanted when the budget ran out first.
    /// - Throws: what the target's queries throw.
    public func run(
        target: any TargetQueries, featureSize d: Int, classCount c: Int, rng: inout SeededRandom,
        released: Bool = false,
        progress: (Int, Int) throws -> Void = { _, _ in }
    ) throws -> Result {
        precondition(d > 0 && c > 0)
        let kStart = min(kMax, d), kFloor = min(kMin, d)
        var result = Result(
            features: [], labels: [], perClass: [Int](repeating: 0, count: c), queries: 0, budgetExhausted: false)
        // Records still to start a walk for, classes interleaved.
        var queue: [Int] = []
        for _ in 0..<recordsPerClass { queue.append(contentsOf: 0..<c) }
        var next = 0
        var walks: [Walk] = []
        var scratch = Array(0..<d)
        func randomRecord(_ rng: inout SeededRandom) -> [Float] { (0..<d).map { _ in rng.nextFloat() } }
        func fresh(_ label: Int, _ rng: inout SeededRandom) -> Walk {
            let x = randomRecord(&rng)
            return Walk(label: label, candidate: x, best: x, k: kStart)
        }
        var batch: [Float] = []
        var probabilities = [Double](repeating: 0, count: c)
        while true {
            while walks.count < batchSize && next < queue.count {
                walks.append(fresh(queue[next], &rng))
                next += 1
            }
            if walks.isEmpty { break }
            let q = min(walks.count, queryBudget - result.queries)
            if q == 0 {
                result.budgetExhausted = true
                break
            }
            batch.removeAll(keepingCapacity: true)
            for w in walks.prefix(q) { batch.append(contentsOf: w.candidate) }
            let logits = try target.predictTarget(features: batch, count: q)
            result.queries += q
            guard logits.count == q * c else {
                throw PluginError(
                    .internal, "the target returned \(logits.count) logits for \(q) records of \(c) classes")
            }
            var finished: [Int] = []
            logits.withUnsafeBufferPointer { z in
                probabilities.withUnsafeMutableBufferPointer { p in
                    for i in 0..<q {
                        let row = UnsafeBufferPointer(rebasing: z[(i * c)..<((i + 1) * c)])
                        if released {
                            for j in 0..<c { p[j] = exp(Double(row[j])) }
                        } else {
                            Probability.softmax(row, into: p)
                        }
                        var w = walks[i]
                        let yc = p[w.label]
                        w.iterations += 1
                        if yc >= w.bestConfidence {
                            if yc > confidenceMin && Probability.argmax(row) == w.label && rng.nextDouble() < yc {
                                result.features.append(contentsOf: w.candidate)
                                result.labels.append(Int32(w.label))
                                result.perClass[w.label] += 1
                                finished.append(i)
                                continue
                            }
                            w.best = w.candidate
                            w.bestConfidence = yc
                            w.rejections = 0
                        } else {
                            w.rejections += 1
                            if w.rejections > rejectionsMax {
                                w.k = max(kFloor, (w.k + 1) / 2)
                                w.rejections = 0
                            }
                        }
                        if w.iterations >= iterationsMax {
                            w = fresh(w.label, &rng)
                        } else {
                            w.candidate = w.best
                            // Partial Fisher-Yates on the scratch permutation: k distinct features.
                            for j in 0..<w.k {
                                scratch.swapAt(j, j + rng.nextInt(below: d - j))
                                w.candidate[scratch[j]] = rng.nextFloat()
                            }
                        }
                        walks[i] = w
                    }
                }
            }
            for i in finished.reversed() { walks.remove(at: i) }
            try progress(result.labels.count, recordsPerClass * c)
        }
        return result
    }
}
