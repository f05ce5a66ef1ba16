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
/// Split search sweeps the node's samples in ascending order of each chosen feature (columns are
/// sorted once per fit and kept sorted per node by stable partitions, `TreeBuilder`) and tries
/// every boundary between distinct values; the threshold is the midpoint of the two values
/// (`x <= threshold` goes left). Trees are
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
    public init(
        trees: Int = 50, maxDepth: Int = 8, minLeaf: Int = 5, bootstrap: Bool = true, featuresPerSplit: Int? = nil
    ) {
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
        var builder = TreeBuilder(
            x: x, y: y, width: d, featuresPerSplit: m, maxDepth: maxDepth, minLeaf: max(1, minLeaf))
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
///
/// Every feature's column is argsorted once per fit. For a tree, each feature keeps the tree's
/// samples (bootstrap repeats expanded) in ascending order of that feature, in one segment of
/// `order` ([d, S]); a node is the same range [lo, hi) of every segment, so its samples come
/// already sorted for any feature, and a split is a stable partition of that range in each
/// segment (the split feature's first n_L samples go left). Per level: O(d·S) to partition,
/// O(m·S) to search; no sorting after the first.
struct TreeBuilder {
    let x: [Double]
    let y: [UInt8]
    let width: Int
    let featuresPerSplit: Int
    let maxDepth: Int
    let minLeaf: Int
    var featureOrder: [Int]
    /// Rows by ascending value, per feature ([d, n]).
    var sortedRows: [Int32]
    /// The tree's samples, per feature in ascending order of that feature ([d, S]).
    var order: [Int32] = []
    var scratch: [Int32] = []
    /// Whether a row goes left at the node being split ([n]).
    var goesLeft: [Bool]

    init(x: [Double], y: [UInt8], width: Int, featuresPerSplit: Int, maxDepth: Int, minLeaf: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.featuresPerSplit = featuresPerSplit
        self.maxDepth = maxDepth
        self.minLeaf = minLeaf
        featureOrder = Array(0..<width)
        let n = y.count
        goesLeft = [Bool](repeating: false, count: n)
        sortedRows = []
        sortedRows.reserveCapacity(n * width)
        for f in 0..<width {
            let rows = (0..<Int32(n)).sorted { x[Int($0) * width + f] < x[Int($1) * width + f] }
            sortedRows.append(contentsOf: rows)
        }
    }

    /// One tree on the rows of `sample` (repeats allowed), nodes in depth-first order, root first.
    mutating func grow(sample: [Int], rng: inout SeededRandom) -> [RandomForest.Node] {
        let n = y.count, s = sample.count
        var copies = [Int32](repeating: 0, count: n)
        for r in sample { copies[r] += 1 }
        order = []
        order.reserveCapacity(width * s)
        for f in 0..<width {
            for r in sortedRows[(f * n)..<((f + 1) * n)] {
                for _ in 0..<copies[Int(r)] { order.append(r) }
            }
        }
        scratch = [Int32](repeating: 0, count: s)
        featureOrder = Array(0..<width)
        var nodes: [RandomForest.Node] = []
        _ = build(0..<s, depth: 0, nodes: &nodes, rng: &rng)
        return nodes
    }

    /// Builds the subtree of the samples in `range` and returns its index in `nodes`.
    private mutating func build(
        _ range: Range<Int>, depth: Int, nodes: inout [RandomForest.Node], rng: inout SeededRandom
    ) -> Int {
        let n = range.count
        var positives = 0
        for k in range where y[Int(order[k])] != 0 { positives += 1 }
        let index = nodes.count
        nodes.append(
            .init(feature: -1, threshold: 0, left: -1, right: -1, value: n > 0 ? Double(positives) / Double(n) : 0))
        guard depth < maxDepth, n >= 2 * minLeaf, positives > 0, positives < n,
            let split = bestSplit(range, positives: positives, rng: &rng)
        else { return index }
        partition(range, feature: split.feature, leftCount: split.leftCount)
        let middle = range.lowerBound + split.leftCount
        let left = build(range.lowerBound..<middle, depth: depth + 1, nodes: &nodes, rng: &rng)
        let right = build(middle..<range.upperBound, depth: depth + 1, nodes: &nodes, rng: &rng)
        nodes[index].feature = split.feature
        nodes[index].threshold = split.threshold
        nodes[index].left = left
        nodes[index].right = right
        return index
    }

    /// Stable partition of `range` in every feature's segment: the first `leftCount` samples
    /// of `feature`'s segment (those below the threshold) first.
    private mutating func partition(_ range: Range<Int>, feature: Int, leftCount: Int) {
        let s = scratch.count
        let base = feature * s
        for k in range { goesLeft[Int(order[base + k])] = k - range.lowerBound < leftCount }
        for f in 0..<width where f != feature {
            let b = f * s
            var l = b + range.lowerBound, r = 0
            for k in range {
                let row = order[b + k]
                if goesLeft[Int(row)] {
                    order[l] = row
                    l += 1
                } else {
                    scratch[r] = row
                    r += 1
                }
            }
            for k in 0..<r { order[l + k] = scratch[k] }
        }
    }

    /// The split of least weighted Gini impurity over a random subset of the features (the
    /// first one found on ties), or nil when no chosen feature splits the node validly.
    private mutating func bestSplit(
        _ range: Range<Int>, positives: Int, rng: inout SeededRandom
    ) -> (feature: Int, threshold: Double, leftCount: Int)? {
        let n = range.count, s = scratch.count
        var best: (feature: Int, threshold: Double, leftCount: Int)?
        var bestImpurity = Double.infinity
        // Partial Fisher-Yates: the first `featuresPerSplit` entries become a uniform random subset.
        for j in 0..<featuresPerSplit { featureOrder.swapAt(j, j + rng.nextInt(below: width - j)) }
        for j in 0..<featuresPerSplit {
            let f = featureOrder[j]
            let base = f * s + range.lowerBound
            var leftPositives = 0
            var value = x[Int(order[base]) * width + f]
            for k in 0..<(n - 1) {
                let row = Int(order[base + k])
                leftPositives += Int(y[row])
                let next = x[Int(order[base + k + 1]) * width + f]
                defer { value = next }
                let nl = k + 1, nr = n - nl
                guard nl >= minLeaf, nr >= minLeaf, value < next else { continue }
                let pl = Double(leftPositives), pr = Double(positives - leftPositives)
                // Σ n·2p(1-p) = 2·(P_L(n_L-P_L)/n_L + P_R(n_R-P_R)/n_R).
                let impurity = 2 * (pl * (Double(nl) - pl) / Double(nl) + pr * (Double(nr) - pr) / Double(nr))
                if impurity < bestImpurity {
                    bestImpurity = impurity
                    let mid = 0.5 * (value + next)
                    best = (f, mid < next ? mid : value, nl)
                }
            }
        }
        return best
    }
}
