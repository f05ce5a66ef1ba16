import Foundation
import Kernels
import PluginKit

/// A binary attack model: fitted on feature rows labelled member (1) / non-member (0), it gives
/// each row a member probability in [0, 1]. Rows are [count, width] f64, row-major; every model
/// but the random forest (which is invariant to rescaling) standardises each column by the
/// training mean and deviation first.
protocol BinaryClassifier {
    mutating func fit(_ x: [Double], width: Int, labels: [UInt8], seed: UInt64) throws
    func memberProbability(_ x: [Double], width: Int) -> [Double]
}

/// The kind of attack model, by its option value.
public enum AttackModelKind: String, Sendable, CaseIterable {
    case logisticRegression = "logistic_regression"
    case mlp
    case knn
    case randomForest = "random_forest"

    /// The options every trained-classifier attack shares.
    static func options(defaultModel: AttackModelKind) -> [OptionSpec] {
        [
            OptionSpec(
                "model", .string, default: "\"\(defaultModel.rawValue)\"", choices: allCases.map(\.rawValue),
                "attack model: logistic_regression (L2, Newton), mlp (one ReLU hidden layer, Adam), knn or random_forest (Gini trees on bootstrap samples)"
            ),
            OptionSpec("hidden_units", .int, default: "32", "mlp: width of the hidden layer").within(1...65536),
            OptionSpec("epochs", .int, default: "50", "mlp: passes over the training rows (batches of 64)").within(
                1...1_000_000),
            OptionSpec("neighbors", .int, default: "5", "knn: number of nearest neighbours (Euclidean, standardised)")
                .within(1...1_000_000),
            OptionSpec("trees", .int, default: "50", "random_forest: number of trees, each on a bootstrap sample")
                .within(1...100_000),
            OptionSpec("max_depth", .int, default: "8", "random_forest: largest depth of a tree (1 = a single split)")
                .within(1...64),
            OptionSpec("min_leaf", .int, default: "5", "random_forest: fewest training rows in a leaf").atLeast(1),
        ]
    }
}

/// The attack model an attack's options ask for.
struct AttackModelOptions {
    var kind: AttackModelKind
    var hiddenUnits: Int
    var epochs: Int
    var neighbors: Int
    var trees: Int
    var maxDepth: Int
    var minLeaf: Int

    init(_ options: PluginOptions, defaultModel: AttackModelKind) throws {
        let name = options.has("model") ? try options.string("model") : defaultModel.rawValue
        guard let kind = AttackModelKind(rawValue: name) else {
            throw PluginError(
                .invalidArgument,
                "option `model` must be one of \(AttackModelKind.allCases.map(\.rawValue)), got \"\(name)\"")
        }
        self.kind = kind
        hiddenUnits = options.has("hidden_units") ? try options.int("hidden_units") : 32
        epochs = options.has("epochs") ? try options.int("epochs") : 50
        neighbors = options.has("neighbors") ? try options.int("neighbors") : 5
        guard hiddenUnits >= 1 else { throw PluginError(.invalidArgument, "option `hidden_units` must be at least 1") }
        guard epochs >= 1 else { throw PluginError(.invalidArgument, "option `epochs` must be at least 1") }
        trees = options.has("trees") ? try options.int("trees") : 50
        maxDepth = options.has("max_depth") ? try options.int("max_depth") : 8
        minLeaf = options.has("min_leaf") ? try options.int("min_leaf") : 5
        guard neighbors >= 1 else { throw PluginError(.invalidArgument, "option `neighbors` must be at least 1") }
        guard trees >= 1 else { throw PluginError(.invalidArgument, "option `trees` must be at least 1") }
        guard maxDepth >= 1 else { throw PluginError(.invalidArgument, "option `max_depth` must be at least 1") }
        guard minLeaf >= 1 else { throw PluginError(.invalidArgument, "option `min_leaf` must be at least 1") }
    }

    func make() -> any BinaryClassifier {
        switch kind {
        case .logisticRegression: LogisticRegression()
        case .mlp: SmallMLP(hiddenUnits: hiddenUnits, epochs: epochs)
        case .knn: NearestNeighbors(k: neighbors)
        case .randomForest: RandomForest(trees: trees, maxDepth: maxDepth, minLeaf: minLeaf)
        }
    }
}

/// Column means and deviations of the training rows (deviation 1 for a constant column).
struct Standardizer {
    var mean: [Double]
    var scale: [Double]

    init(_ x: [Double], width: Int) {
        let n = max(1, x.count / max(width, 1))
        mean = [Double](repeating: 0, count: width)
        scale = [Double](repeating: 0, count: width)
        for i in 0..<(x.count / max(width, 1)) { for j in 0..<width { mean[j] += x[i * width + j] } }
        for j in 0..<width { mean[j] /= Double(n) }
        for i in 0..<(x.count / max(width, 1)) {
            for j in 0..<width {
                let d = x[i * width + j] - mean[j]
                scale[j] += d * d
            }
        }
        for j in 0..<width {
            let sd = (scale[j] / Double(n)).squareRoot()
            scale[j] = sd > 1e-12 ? 1 / sd : 1
        }
    }

    func apply(_ x: [Double], width: Int) -> [Double] {
        var out = x
        for i in 0..<(x.count / max(width, 1)) {
            for j in 0..<width { out[i * width + j] = (x[i * width + j] - mean[j]) * scale[j] }
        }
        return out
    }
}

/// Logistic regression with an L2 penalty λ = 1e-2 on the weights (not the intercept), fitted by
/// Newton's method (at most 50 steps, until the step's largest entry is below 1e-9). The penalty
/// keeps it finite on separable data.
struct LogisticRegression: BinaryClassifier {
    var standardizer = Standardizer([], width: 0)
    /// Weights, then the intercept last.
    var weights: [Double] = []
    static let lambda = 1e-2

    mutating func fit(_ x: [Double], width d: Int, labels y: [UInt8], seed: UInt64) throws {
        standardizer = Standardizer(x, width: d)
        let z = standardizer.apply(x, width: d)
        let n = y.count, m = d + 1
        var w = [Double](repeating: 0, count: m)
        var row = [Double](repeating: 1, count: m)
        for _ in 0..<50 {
            var grad = [Double](repeating: 0, count: m)
            var hess = [Double](repeating: 0, count: m * m)
            for i in 0..<n {
                for j in 0..<d { row[j] = z[i * d + j] }
                var t = 0.0
                for j in 0..<m { t += w[j] * row[j] }
                let p = sigmoid(t)
                let r = p - Double(y[i]), s = max(p * (1 - p), 1e-12)
                for j in 0..<m {
                    grad[j] += r * row[j]
                    let sj = s * row[j]
                    for k in 0...j { hess[j * m + k] += sj * row[k] }
                }
            }
            for j in 0..<d {
                grad[j] += Self.lambda * w[j]
                hess[j * m + j] += Self.lambda
            }
            hess[(m - 1) * m + (m - 1)] += 1e-9
            for j in 0..<m { for k in 0..<j { hess[k * m + j] = hess[j * m + k] } }
            guard let step = choleskySolve(hess, grad, m) else { break }
            var largest = 0.0
            for j in 0..<m {
                w[j] -= step[j]
                largest = max(largest, abs(step[j]))
            }
            if largest < 1e-9 { break }
        }
        weights = w
    }

    func memberProbability(_ x: [Double], width d: Int) -> [Double] {
        let z = standardizer.apply(x, width: d)
        return (0..<(x.count / max(d, 1))).map { i in
            var t = weights[d]
            for j in 0..<d { t += weights[j] * z[i * d + j] }
            return sigmoid(t)
        }
    }
}

@inline(__always) func sigmoid(_ t: Double) -> Double { t >= 0 ? 1 / (1 + exp(-t)) : exp(t) / (1 + exp(t)) }

/// Solves `A x = b` for symmetric positive definite `A` ([m, m]); nil when A is not.
func choleskySolve(_ a: [Double], _ b: [Double], _ m: Int) -> [Double]? {
    var l = [Double](repeating: 0, count: m * m)
    for i in 0..<m {
        for j in 0...i {
            var s = a[i * m + j]
            for k in 0..<j { s -= l[i * m + k] * l[j * m + k] }
            if i == j {
                guard s > 0 else { return nil }
                l[i * m + i] = s.squareRoot()
            } else {
                l[i * m + j] = s / l[j * m + j]
            }
        }
    }
    var y = b
    for i in 0..<m {
        for k in 0..<i { y[i] -= l[i * m + k] * y[k] }
        y[i] /= l[i * m + i]
    }
    for i in stride(from: m - 1, through: 0, by: -1) {
        for k in (i + 1)..<m { y[i] -= l[k * m + i] * y[k] }
        y[i] /= l[i * m + i]
    }
    return y
}

/// k nearest neighbours on standardised rows (Euclidean): the member probability is the fraction
/// of members among the k nearest training rows (ties in distance broken by training order).
/// Brute force, O(rows × training rows × width).
struct NearestNeighbors: BinaryClassifier {
    var k: Int
    var standardizer = Standardizer([], width: 0)
    var train: [Double] = []
    var labels: [UInt8] = []

    init(k: Int) { self.k = k }

    mutating func fit(_ x: [Double], width d: Int, labels y: [UInt8], seed: UInt64) throws {
        standardizer = Standardizer(x, width: d)
        train = standardizer.apply(x, width: d)
        labels = y
    }

    func memberProbability(_ x: [Double], width d: Int) -> [Double] {
        let z = standardizer.apply(x, width: d)
        let n = labels.count, kk = min(k, n)
        var dist = [Double](repeating: 0, count: n)
        var best = [Int](repeating: 0, count: kk)
        return (0..<(x.count / max(d, 1))).map { i in
            for t in 0..<n {
                var s = 0.0
                for j in 0..<d {
                    let u = z[i * d + j] - train[t * d + j]
                    s += u * u
                }
                dist[t] = s
            }
            // Partial selection of the kk smallest distances (kk is small).
            var count = 0
            for t in 0..<n {
                var pos = count
                if count < kk { count += 1 } else if dist[t] >= dist[best[kk - 1]] { continue } else { pos = kk - 1 }
                while pos > 0 && dist[best[pos - 1]] > dist[t] {
                    best[pos] = best[pos - 1]
                    pos -= 1
                }
                best[pos] = t
            }
            var members = 0
            for t in best.prefix(count) where labels[t] != 0 { members += 1 }
            return Double(members) / Double(max(count, 1))
        }
    }
}
