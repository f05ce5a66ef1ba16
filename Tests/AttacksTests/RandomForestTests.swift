import AttacksClassifier
import Foundation
import Kernels
import PluginKit
import Testing

@Suite struct RandomForestTests {
    /// One tree of depth 1 on every row (no bootstrap), x = 1…7, labels 0 0 1 0 1 1 1, plus a
    /// constant column that cannot split. Weighted Gini Σ n·2p(1-p) of each threshold, by hand:
    /// 1.5: 0 + 6·2·(4/6)(2/6) = 2.667;  2.5: 0 + 5·2·(4/5)(1/5) = 1.6;
    /// 3.5: 3·2·(1/3)(2/3) + 4·2·(3/4)(1/4) = 1.333 + 1.5 = 2.833;  4.5: 4·2·(1/4)(3/4) + 0 = 1.5;
    /// 5.5: 5·2·(2/5)(3/5) + 0 = 2.4;  6.5: 6·2·(3/6)(3/6) + 0 = 3.
    /// The best is 4.5: left leaf {0 0 1 0} has value 1/4, right leaf {1 1 1} value 1.
    @Test func aStumpSplitsAtTheBestGiniThreshold() throws {
        let xs: [Double] = [1, 2, 3, 4, 5, 6, 7]
        let y: [UInt8] = [0, 0, 1, 0, 1, 1, 1]
        var rows: [Double] = []
        for v in xs { rows += [0.5, v] }
        var stump = RandomForest(trees: 1, maxDepth: 1, minLeaf: 1, bootstrap: false, featuresPerSplit: 2)
        try stump.fit(rows, width: 2, labels: y, seed: 1)
        let p = stump.memberProbability([0.5, 4.49, 0.5, 4.51, 0.5, -10, 0.5, 10], width: 2)
        #expect(p == [0.25, 1, 0.25, 1])
        // min_leaf 4: no split of 7 rows leaves 4 on each side, so the tree is one leaf of value 4/7.
        var leaf = RandomForest(trees: 1, maxDepth: 1, minLeaf: 4, bootstrap: false, featuresPerSplit: 2)
        try leaf.fit(rows, width: 2, labels: y, seed: 1)
        #expect(leaf.memberProbability([0.5, 1, 0.5, 7], width: 2) == [4.0 / 7, 4.0 / 7])
        // min_leaf 3: thresholds 3.5 (2.833) and 4.5 (1.5) remain; 4.5 wins.
        var three = RandomForest(trees: 1, maxDepth: 1, minLeaf: 3, bootstrap: false, featuresPerSplit: 2)
        try three.fit(rows, width: 2, labels: y, seed: 1)
        #expect(three.memberProbability([0.5, 4.49, 0.5, 4.51], width: 2) == [0.25, 1])
    }

    /// XOR of the signs of two coordinates, kept away from the axes: separable, but by no
    /// single split and no linear model.
    static func xorProblem(_ n: Int, seed: UInt64) -> (x: [Double], y: [UInt8]) {
        var rng = SeededRandom(seed: seed)
        var x: [Double] = [], y: [UInt8] = []
        for _ in 0..<n {
            let a = (0.1 + rng.nextDouble()) * (rng.nextInt(below: 2) == 0 ? -1 : 1)
            let b = (0.1 + rng.nextDouble()) * (rng.nextInt(below: 2) == 0 ? -1 : 1)
            x += [a, b, rng.nextGaussian()]
            y.append(a * b > 0 ? 1 : 0)
        }
        return (x, y)
    }

    @Test func deepTreesFitASeparableProblemAndGeneralise() throws {
        let (x, y) = Self.xorProblem(400, seed: 3)
        var forest = RandomForest(trees: 25, maxDepth: 12, minLeaf: 1)
        try forest.fit(x, width: 3, labels: y, seed: 5)
        func accuracy(_ x: [Double], _ y: [UInt8]) -> Double {
            let p = forest.memberProbability(x, width: 3)
            return Double(zip(p, y).filter { ($0 > 0.5) == ($1 != 0) }.count) / Double(y.count)
        }
        let train = accuracy(x, y)
        let (tx, ty) = Self.xorProblem(400, seed: 4)
        let test = accuracy(tx, ty)
        #expect(train >= 0.99, "training accuracy \(train)")
        #expect(test >= 0.9, "test accuracy \(test)")
        // A single stump cannot do better than chance on XOR.
        var stump = RandomForest(trees: 1, maxDepth: 1, minLeaf: 1, bootstrap: false, featuresPerSplit: 3)
        try stump.fit(x, width: 3, labels: y, seed: 5)
        let p = stump.memberProbability(x, width: 3)
        #expect(Double(zip(p, y).filter { ($0 > 0.5) == ($1 != 0) }.count) / 400 < 0.7)
    }

    @Test func theSeedDeterminesTheForest() throws {
        let (x, y) = Self.xorProblem(200, seed: 8)
        func probabilities(_ seed: UInt64) throws -> [Double] {
            var forest = RandomForest(trees: 10, maxDepth: 4, minLeaf: 2)
            try forest.fit(x, width: 3, labels: y, seed: seed)
            return forest.memberProbability(x, width: 3)
        }
        let a = try probabilities(11)
        #expect(try probabilities(11) == a)
        #expect(try probabilities(12) != a)
        #expect(a.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    @Test func optionsAreChecked() throws {
        for bad in [["trees": OptionValue.int(0)], ["max_depth": .int(0)], ["min_leaf": .int(0)]] {
            var o = bad
            o["model"] = .string("random_forest")
            #expect(throws: PluginError.self) { try ClassifierAttack(options: opts(o), host: .standalone) }
        }
        let s = syntheticSignals(n: 200, c: 3, r: 0, p: 0, memberBoost: 4, seed: 5)
        let attack = try ClassifierAttack(
            options: opts(["model": .string("random_forest"), "trees": .int(20)]), host: .standalone)
        let (scores, mask) = try s.score(with: attack, seed: 1)
        #expect(bruteForceAUC(scores: scores, membership: s.targetMembership, mask: mask) > 0.8)
    }

    /// The forest against a second, naive implementation written here: the same random draws
    /// (tree t: bootstrap from `derive(seed, t)`, then per node, depth first, left before right,
    /// a partial Fisher-Yates pick of features), but each node sorts its own samples afresh.
    @Test(arguments: [(1, 3), (5, 1)])
    func matchesANaiveForest(minLeaf: Int, depth: Int) throws {
        // Rounded values make ties, which splits must never separate.
        var rng = SeededRandom(seed: 31)
        let n = 150, d = 5
        let x = (0..<(n * d)).map { _ in (rng.nextGaussian() * 4).rounded() / 4 }
        let y = (0..<n).map { i in UInt8(x[i * d] + x[i * d + 3] * x[i * d + 4] + rng.nextGaussian() > 0 ? 1 : 0) }
        var forest = RandomForest(trees: 7, maxDepth: depth, minLeaf: minLeaf)
        try forest.fit(x, width: d, labels: y, seed: 9)
        let probes = (0..<(40 * d)).map { _ in (rng.nextGaussian() * 4).rounded() / 4 + 0.125 }
        let fast = forest.memberProbability(probes + x, width: d)
        let naive = NaiveForest(x: x, y: y, d: d, maxDepth: depth, minLeaf: minLeaf, m: 2)
            .probabilities(trees: 7, seed: 9, rows: probes + x)
        for (a, b) in zip(fast, naive) { #expect(abs(a - b) < 1e-12) }
    }
}

/// The reference for `matchesANaiveForest`.
struct NaiveForest {
    let x: [Double], y: [UInt8], d: Int, maxDepth: Int, minLeaf: Int, m: Int

    indirect enum Tree {
        case leaf(Double)
        case split(feature: Int, threshold: Double, left: Tree, right: Tree)

        func value(_ row: ArraySlice<Double>) -> Double {
            switch self {
            case .leaf(let v): v
            case .split(let f, let t, let l, let r): row[row.startIndex + f] <= t ? l.value(row) : r.value(row)
            }
        }
    }

    func probabilities(trees: Int, seed: UInt64, rows: [Double]) -> [Double] {
        let n = y.count
        let forest = (0..<trees).map { t -> Tree in
            var rng = SeededRandom.derive(seed: seed, UInt64(t))
            let sample = (0..<n).map { _ in rng.nextInt(below: n) }
            var features = Array(0..<d)
            return grow(sample, depth: 0, features: &features, rng: &rng)
        }
        return (0..<(rows.count / d)).map { i in
            forest.map { $0.value(rows[(i * d)..<((i + 1) * d)]) }.reduce(0, +) / Double(trees)
        }
    }

    func grow(_ sample: [Int], depth: Int, features: inout [Int], rng: inout SeededRandom) -> Tree {
        let positives = sample.filter { y[$0] != 0 }.count, n = sample.count
        let value = Double(positives) / Double(n)
        guard depth < maxDepth, n >= 2 * minLeaf, positives > 0, positives < n else { return .leaf(value) }
        for j in 0..<m { features.swapAt(j, j + rng.nextInt(below: d - j)) }
        var best: (f: Int, t: Double, gini: Double)?
        for f in features.prefix(m) {
            let sorted = sample.sorted { x[$0 * d + f] < x[$1 * d + f] }
            for nl in minLeaf...(n - minLeaf) {
                let a = x[sorted[nl - 1] * d + f], b = x[sorted[nl] * d + f]
                guard a < b else { continue }
                let pl = Double(sorted.prefix(nl).filter { y[$0] != 0 }.count), pr = Double(positives) - pl
                let nr = Double(n - nl)
                let gini = 2 * (pl * (Double(nl) - pl) / Double(nl) + pr * (nr - pr) / nr)
                if best == nil || gini < best!.gini { best = (f, (a + b) / 2, gini) }
            }
        }
        guard let best else { return .leaf(value) }
        let left = grow(
            sample.filter { x[$0 * d + best.f] <= best.t }, depth: depth + 1, features: &features, rng: &rng)
        let right = grow(
            sample.filter { x[$0 * d + best.f] > best.t }, depth: depth + 1, features: &features, rng: &rng)
        return .split(feature: best.f, threshold: best.t, left: left, right: right)
    }
}
