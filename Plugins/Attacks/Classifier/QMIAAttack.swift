import Foundation
import Kernels
import PluginKit

/// QMIA (Bertran et al. 2023, "Scalable Membership Inference Attacks via Quantile Regression"):
/// no reference models. A quantile regressor, trained on public non-members (the population
/// set), predicts from a record (its features and its label) the (1 - α)-quantile of the
/// target's score on non-members like it; a record whose score exceeds its predicted quantile
/// is called a member at false-positive rate about α.
///
/// Score of the target on a record: the hinge `s(x, y) = z_y - max_{j≠y} z_j` of the target's
/// logits (the paper's choice). Regressor input: the record's features (flattened) and the
/// one-hot label; `QuantileRegressor` (pinball loss at τ = 1 - α). Attack score:
/// `s(x, y) - q̂_{1-α}(x, y)`, so that the threshold 0 is the paper's decision rule and a
/// threshold sweep gives the ROC. The audit records are never trained on. Higher score = member.
public final class QMIAAttack: AttackStrategy {
    public static let name = "qmia"
    public static let summary =
        "QMIA (Bertran et al. 2023): hinge score of the target minus its (1 - alpha)-quantile on non-members, predicted from the record by a quantile regressor trained on the population; no reference models; higher score = member"
    public static let options: [OptionSpec] = [
        OptionSpec(
            "alpha", .float, default: "0.01",
            "target false-positive rate α: the regressor predicts the (1 - α)-quantile"
        ).within(1e-4...0.5),
        OptionSpec(
            "model", .string, default: "\"mlp\"", choices: ["linear", "mlp"],
            "the quantile regressor: linear, or one ReLU hidden layer of `hidden_units`"),
        OptionSpec("hidden_units", .int, default: "32", "mlp: hidden units").within(1...1024),
        OptionSpec("epochs", .int, default: "30", "passes over the population set").within(1...10_000),
        OptionSpec("learning_rate", .float, default: "0.003", "Adam's initial learning rate (cosine-decayed to 0)")
            .within(1e-6...1),
        OptionSpec("l2", .float, default: "0.0001", "L2 penalty on the regressor's weights").within(0...10),
    ]

    /// The options, decoded.
    public let alpha: Double
    public let linear: Bool
    public let hiddenUnits: Int
    public let epochs: Int
    public let learningRate: Double
    public let l2: Double
    let host: HostServices

    public init(options: PluginOptions, host: HostServices) throws {
        self.host = host
        alpha = options.has("alpha") ? try options.double("alpha") : 0.01
        let model = options.has("model") ? try options.string("model") : "mlp"
        guard ["linear", "mlp"].contains(model) else {
            throw PluginError(.invalidArgument, "option `model` must be linear or mlp, got \"\(model)\"")
        }
        linear = model == "linear"
        hiddenUnits = options.has("hidden_units") ? try options.int("hidden_units") : 32
        epochs = options.has("epochs") ? try options.int("epochs") : 30
        learningRate = options.has("learning_rate") ? try options.double("learning_rate") : 0.003
        l2 = options.has("l2") ? try options.double("l2") : 1e-4
        guard alpha > 0 && alpha < 1 else {
            throw PluginError(.invalidArgument, "option `alpha` must be in (0, 1), got \(alpha)")
        }
        guard hiddenUnits >= 1, epochs >= 1 else {
            throw PluginError(.invalidArgument, "options `hidden_units` and `epochs` must be at least 1")
        }
        guard learningRate > 0 && learningRate.isFinite, l2 >= 0 && l2.isFinite else {
            throw PluginError(.invalidArgument, "option `learning_rate` must be > 0 and `l2` >= 0")
        }
    }

    public var requirements: AttackRequirements { [.population, .features] }

    /// The hinge `z_y - max_{j≠y} z_j` of one logits row.
    static func hinge(_ z: UnsafeBufferPointer<Float>, _ y: Int) -> Double {
        var other = -Double.infinity
        for j in z.indices where j != y { other = max(other, Double(z[j])) }
        return Double(z[y]) - other
    }

    /// Regressor inputs: each record's features, then its one-hot label ([n, d + C]).
    static func inputs(features: UnsafeBufferPointer<Float>, labels: UnsafeBufferPointer<Int32>, classCount c: Int) -> (
        x: [Double], width: Int
    ) {
        let n = labels.count, d = features.count / max(n, 1)
        var x = [Double](repeating: 0, count: n * (d + c))
        for i in 0..<n {
            for j in 0..<d { x[i * (d + c) + j] = Double(features[i * d + j]) }
            x[i * (d + c) + d + Int(labels[i])] = 1
        }
        return (x, d + c)
    }

    public func score(
        _ signals: Signals, into scores: UnsafeMutableBufferPointer<Double>,
        evaluationMask: UnsafeMutableBufferPointer<UInt8>
    ) throws {
        let n = signals.recordCount, p = signals.populationCount, c = signals.classCount
        guard c >= 2 else { throw PluginError(.invalidArgument, "\(Self.name) needs at least 2 classes") }
        try checkLabels(signals.labels, classCount: c, what: "audit")
        guard p >= 2, let popLabels = signals.populationLabels, let popLogits = signals.populationTargetLogits,
            let popFeatures = signals.populationFeatures
        else {
            throw PluginError(
                .invalidArgument,
                "\(Self.name) needs a population set of at least 2 records with features, labels and target logits")
        }
        guard let features = signals.features else {
            throw PluginError(.invalidArgument, "\(Self.name) needs the audit records' features")
        }
        try checkLabels(popLabels, classCount: c, what: "population")
        let d = features.count / max(n, 1)
        guard d > 0, d * n == features.count, popFeatures.count == p * d else {
            throw PluginError(
                .invalidArgument,
                "\(Self.name): audit features (\(features.count) floats for \(n) records) and population features (\(popFeatures.count) for \(p)) do not share one record size"
            )
        }
        let popScores = (0..<p).map { j in
            Self.hinge(UnsafeBufferPointer(rebasing: popLogits[(j * c)..<((j + 1) * c)]), Int(popLabels[j]))
        }
        let train = Self.inputs(features: popFeatures, labels: popLabels, classCount: c)
        var regressor = QuantileRegressor(
            quantile: 1 - alpha, hiddenUnits: linear ? 0 : hiddenUnits, epochs: epochs, learningRate: learningRate,
            l2: l2)
        var seeds = SeededRandom.derive(seed: signals.seed, 0)
        regressor.fit(train.x, width: train.width, targets: popScores, seed: seeds.next())
        try host.checkCancellation()
        let audit = Self.inputs(features: features, labels: signals.labels, classCount: c)
        let quantiles = regressor.predict(audit.x, width: audit.width)
        let fitted = regressor.predict(train.x, width: train.width)
        let above = zip(popScores, fitted).filter { $0 > $1 }.count
        host.log(
            .info,
            "\(Self.name): quantile regressor on \(p) population records; \(above) of them (\(String(format: "%.2f", 100 * Double(above) / Double(p))) %, aim \(100 * alpha) %) score above their predicted quantile"
        )
        for i in 0..<n { scores[i] = Self.hinge(signals.targetRow(i), Int(signals.labels[i])) - quantiles[i] }
    }
}
