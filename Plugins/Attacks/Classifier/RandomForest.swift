import Foundation
import Kernels

/// A random forest of classification trees (Breiman 2001, "Random Forests"), the attack model
/// TensorFlow Privacy offers beside logistic regression, MLP and k-NN.
///
/// Each of `trees` trees is grown on a bootstrap sample of the training rows (N draws with
/// replacement; all rows once without `bootstrap`), to depth at most `maxDepth`, never leaving
/// fewer than `minLeaf` samples on either side of a split. At each node a fresh random subset
/// of `featuresPerSplit` features (default ⌊√d⌋, at least 1) is searched; the split minimises the
/// weighted Gini impurity n_L·2p_L(1-p_L) + n_R·2p_R(1-p_R). A node is a leaf when it is pure,
/// at the depth limit, smaller than 2·`minLeaf`, or no chosen feature has a valid split; its value
/// is the fraction of members among its samples. The member probability of a row is the mean
/// leaf value over the trees.
///
/// Split search per node sorts (value, label) pairs of the node's samples for each chosen
/// feature and sweeps the boundaries between distinct values, O(m·n log n) per node; the
/// threshold is the midpoint of the two values (`x <= threshold` goes left). Trees are
/// invariant to monotone rescaling, so rows are not standardised. Deterministic given the seed
/// (tree t draws from `SeededRandom.derive(seed:, t)`).
public struct RandomForest: BinaryClassifier {
    /// Number of trees.
    public var trees: Int
    /// Largest depth of a leaf (a single split has depth 1).
    public var maxDepth: Int
    /// Fewest training samples a leaf may hold.
    public var minLeaf: Int
    /// Whether each tree sees a bootstrap sample (true) or every row once (false).
    public var bootstrap: Bool
    /// Features searched per node; nil means max(1, ⌊√d⌋).
    public var featuresPerSplit: Int?

    struct Node {
        /// Split feature, or -1 for a leaf.
        var feature: Int
        var threshold: Double
        var left: Int
        var right: Int
        /// Member fraction of the training samples (leaves only).
        var value: Double
    }

    var forest: [[Node]] = []
    var width = 0

    /// A forest not yet fitted.
    public init(trees: Int = 50, maxDepth: Int = 8, minLeaf: Int = 5, bootstrap: Bool = true, featuresPerSplit: Int? = nil) {
        self.trees = trees
        self.maxDepth = maxDepth
        self.minLeaf = minLeaf
        self.bootstrap = bootstrap
        self.featuresPerSplit = featuresPerSplit
    }

    /// Grows the trees on rows `x` ([n, width], row-major) labelled 1 (member) or 0.
    public mutating func fit(_ x: [Double], width d: Int, labels y: [UInt8], seed: UInt64) throws {
        width = d
        let n = y.count
        let m = min(d, max(1, featuresPerSplit ?? Int(Double(d).squareRoot())))
        forest = []
        forest.reserveCapacity(trees)
        var builder = TreeBuilder(x: x, y: y, width: d, featuresPerSplit: m, maxDepth: maxDepth, minLeaf: max(1, minLeaf))
        for t in 0..<trees {
            var rng = SeededRandom.derive(seed: seed, UInt64(t))
            let sample = bootstrap ? (0..<n).map { _ in rng.nextInt(below: n) } : Array(0..<n)
            forest.append(builder.grow(sample: sample, rng: &rng))
        }
    }

    /// Mean over the trees of the leaf value each row reaches ([count]).
    public func memberProbability(_ x: [Double], width d: Int) -> [Double] {
        let count = x.count / max(d, 1)
        var out = [Double](repeating: 0, count: count)
        guard !forest.isEmpty else { return out }
        for tree in forest {
            for i in 0..<count {
                var node = 0
                while tree[node].feature >= 0 {
                    node = x[i * d + tree[node].feature] <= tree[node].threshold ? tree[node].left : tree[node].right
                }
                out[i] += tree[node].value
            }
        }
        let inv = 1 / Double(forest.count)
        for i in 0..<count { out[i] *= inv }
        return out
    }
}

/// Grows one tree at a time, reusing its scratch buffers.
struct TreeBuilder {
    let x: [Double]
    let y: [UInt8]
    let width: Int
    let featuresPerSplit: Int
    let maxDepth: Int
    let minLeaf: Int
    var featureOrder: [Int]
    var pairs: [(value: Double, label: UInt8)] = []

    init(x: [Double], y: [UInt8], width: Int, featuresPerSplit: Int, maxDepth: Int, minLeaf: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.featuresPerSplit = featuresPerSplit
        self.maxDepth = maxDepth
        self.minLeaf = minLeaf
        featureOrder = Array(0..<width)
    }

    /// One tree on the rows of `sample` (repeats allowed), nodes in depth-first order, root first.
    mutating func grow(sample: [Int], rng: inout SeededRandom) -> [RandomForest.Node] {
        var rows = sample
        var nodes: [RandomForest.Node] = []
        pairs = Array(repeating: (0, 0), count: rows.count)
        _ = build(&rows, 0..<rows.count, depth: 0, nodes: &nodes, rng: &rng)
        return nodes
    }

    /// Builds the subtree of `rows[range]` and returns its index in `nodes`.
    private mutating func build(
        _ rows: inout [Int], _ range: Range<Int>, depth: Int, nodes: inout [RandomForest.Node], rng: inout SeededRandom
    ) -> Int {
        let n = range.count
        var positives = 0
        for r in range where y[rows[r]] != 0 { positives += 1 }
        let index = nodes.count
        nodes.append(.init(feature: -1, threshold: 0, left: -1, right: -1, value: n > 0 ? Double(positives) / Double(n) : 0))
        guard depth < maxDepth, n >= 2 * minLeaf, positives > 0, positives < n,
            let split = bestSplit(rows, range, positives: positives, rng: &rng)
        else { return index }
        // Partition rows[range] so that rows going left come first.
        var lo = range.lowerBound, hi = range.upperBound - 1
        while lo <= hi {
            if x[rows[lo] * width + split.feature] <= split.threshold { lo += 1 } else {
                rows.swapAt(lo, hi)
                hi -= 1
            }
        }
        let left = build(&rows, range.lowerBound..<lo, depth: depth + 1, nodes: &nodes, rng: &rng)
        let right = build(&rows, lo..<range.upperBound, depth: depth + 1, nodes: &nodes, rng: &rng)
        nodes[index].feature = split.feature
        nodes[index].threshold = split.threshold
        nodes[index].left = left
        nodes[index].right = right
        return index
    }

    /// The split of least weighted Gini impurity over a random subset of the features (the
    /// first one found on ties), or nil when no chosen feature splits the node validly.
    private mutating func bestSplit(
        _ rows: [Int], _ range: Range<Int>, positives: Int, rng: inout SeededRandom
    ) -> (feature: Int, threshold: Double)? {
        let n = range.count
        var best: (feature: Int, threshold: Double)?
        var bestImpurity = Double.infinity
        // Partial Fisher-Yates: the first `featuresPerSplit` entries become a uniform random subset.
        for j in 0..<featuresPerSplit { featureOrder.swapAt(j, j + rng.nextInt(below: width - j)) }
        for j in 0..<featuresPerSplit {
            let f = featureOrder[j]
            pairs.withUnsafeMutableBufferPointer { p in
                for (k, r) in range.enumerated() { p[k] = (x[rows[r] * width + f], y[rows[r]]) }
                p[0..<n].sort { $0.value < $1.value }
                var leftPositives = 0
                for k in 0..<(n - 1) {
                    leftPositives += Int(p[k].label)
                    let nl = k + 1, nr = n - nl
                    guard nl >= minLeaf, nr >= minLeaf, p[k].value < p[k + 1].value else { continue }
                    let pl = Double(leftPositives), pr = Double(positives - leftPositives)
                    // Σ n·2p(1-p) = 2·(P_L(n_L-P_L)/n_L + P_R(n_R-P_R)/n_R).
                    let impurity = 2 * (pl * (Double(nl) - pl) / Double(nl) + pr * (Double(nr) - pr) / Double(nr))
                    if impurity < bestImpurity {
                        bestImpurity = impurity
                        let mid = 0.5 * (p[k].value + p[k + 1].value)
                        best = (f, mid < p[k + 1].value ? mid : p[k].value)
                    }
                }
            }
        }
        return best
    }
}
