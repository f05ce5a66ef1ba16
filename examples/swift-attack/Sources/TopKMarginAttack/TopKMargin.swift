import PluginKit

/// `top-k-margin`: the target's logit of the true label minus the mean of the `k` largest
/// logits of the other classes.
///
/// score_i = z_{i,y_i} - (1/k) * sum of the k largest z_{i,j}, j != y_i
///
/// Higher means "member". With k = 1 it is the logit margin that Carlini et al. (2022, "Membership
/// Inference Attacks From First Principles") use as their per-example signal; larger k averages
/// over the close competitors. `k` is clipped to the number of other classes; with one class the
/// score is the logit itself. Logits are used as they are (no softmax), so nothing can overflow.
final class TopKMargin: AttackStrategy {
    static let name = "top-k-margin"
    static let summary = "true-label logit minus the mean of the k largest other logits (higher means member)"
    static let options = [OptionSpec("k", .int, default: "1", "how many of the largest other logits to average")]

    let k: Int

    init(options: PluginOptions, host: HostServices) throws {
        k = options.has("k") ? try options.int("k") : 1
        guard k >= 1 else {
            throw PluginError(.invalidArgument, "top-k-margin: option `k` must be at least 1, got \(k)")
        }
    }

    var requirements: AttackRequirements { [] }

    func score(
        _ signals: Signals, into scores: UnsafeMutableBufferPointer<Double>,
        evaluationMask: UnsafeMutableBufferPointer<UInt8>
    ) throws {
        let c = signals.classCount
        var others = [Float](repeating: 0, count: max(c - 1, 0))
        for i in 0..<signals.recordCount {
            let row = signals.targetRow(i)
            let y = Int(signals.labels[i])
            guard y >= 0, y < c else {
                throw PluginError(.invalidArgument, "top-k-margin: record \(i) has label \(y), outside [0, \(c))")
            }
            var n = 0
            for j in 0..<c where j != y {
                others[n] = row[j]
                n += 1
            }
            let m = min(k, n)
            guard m > 0 else {
                scores[i] = Double(row[y])
                continue
            }
            others.sort(by: >)
            let top = others.prefix(m).reduce(0.0) { $0 + Double($1) } / Double(m)
            scores[i] = Double(row[y]) - top
        }
    }
}

/// The plugin's one exported symbol.
@c(mia_plugin_entry)
public func miaPluginEntry(_ major: UInt32, _ minor: UInt32) -> UnsafeRawPointer? {
    PluginExport.entry(
        hostMajor: major,
        PluginDefinition(name: "example-swift-attack", version: "1.0.0", components: [.attack(TopKMargin.self)]))
}
