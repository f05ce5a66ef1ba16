import Foundation

/// An output-time defence: what the attacker sees of a model's prediction instead of its logits.
///
/// Applied by the host to every model output an attack receives (the target's, and the reference
/// models', since an attacker calibrating against its own models post-processes them the same
/// way), whatever the backend. The released values p' cross as log-probabilities
/// `max(log p', log 1e-12)`: top-k releases the k largest probabilities as they are (not
/// renormalised, as in Shokri et al.), so an attack sees exactly those values; its softmax
/// renormalises them.
enum OutputDefence: Equatable, Sendable, CustomStringConvertible {
    /// Only the k largest probabilities are released, unchanged (Shokri et al. 2017's top-k
    /// mitigation): top-1 still reveals the top probability, so it hides little from an attack
    /// on the true label's confidence when the model is right.
    case topK(Int)
    /// Probabilities rounded to `decimals` decimal places.
    case rounding(Int)
    /// Softmax at temperature T: logits / T (T > 1 flattens the output).
    case temperature(Double)
    /// Only the predicted label: a one-hot output.
    case labelOnly

    /// The floor of released probabilities, so that their logarithm is finite.
    static let floor: Double = 1e-12

    var description: String {
        switch self {
        case .topK(let k): "top-\(k)"
        case .rounding(let d): "round-\(d)"
        case .temperature(let t): "temperature-\(t)"
        case .labelOnly: "label-only"
        }
    }

    /// Defends `logits` ([n, c] row-major); returns the log-probabilities the attacker sees.
    func apply(_ logits: [Float], classCount c: Int) -> [Float] {
        var out = [Float](repeating: 0, count: logits.count)
        logits.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { apply(src, classCount: c, into: $0) }
        }
        return out
    }

    /// Defends `logits` ([n, c] row-major) into `out` (as many values). Rows are independent,
    /// so defending an array in blocks of whole rows gives the same values as defending it whole.
    func apply(_ logits: UnsafeBufferPointer<Float>, classCount c: Int, into out: UnsafeMutableBufferPointer<Float>) {
        precondition(out.count == logits.count, "defended output must have as many values as the logits")
        let n = c == 0 ? 0 : logits.count / c
        var p = [Double](repeating: 0, count: c)
        for i in 0..<n {
            let row = i * c
            var top = -Double.infinity
            var best = 0
            for k in 0..<c {
                var z = Double(logits[row + k])
                if case .temperature(let t) = self { z /= t }
                p[k] = z
                if z > top { top = z; best = k }
            }
            var sum = 0.0
            for k in 0..<c { p[k] = exp(p[k] - top); sum += p[k] }
            for k in 0..<c { p[k] /= sum }
            switch self {
            case .topK(let kept):
                let order = (0..<c).sorted { p[$0] != p[$1] ? p[$0] > p[$1] : $0 < $1 }
                for k in order.dropFirst(kept) { p[k] = 0 }
            case .rounding(let decimals):
                let scale = pow(10.0, Double(decimals))
                for k in 0..<c { p[k] = (p[k] * scale).rounded() / scale }
            case .labelOnly:
                for k in 0..<c { p[k] = k == best ? 1 : 0 }
            case .temperature:
                break
            }
            for k in 0..<c { out[row + k] = Float(log(max(p[k], OutputDefence.floor))) }
        }
    }
}
