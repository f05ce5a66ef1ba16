import Foundation

/// What a prediction API answers per record, and how it becomes logits.
///
/// The host's signals are logits; an API's answer is turned into log-probabilities, which are
/// valid logits (their softmax gives the probabilities back). A zero probability is clamped to
/// the smallest positive float, so every logit is finite (log is about -103.3).
enum ResponseShape: String, CaseIterable {
    /// `[p_0, ..., p_{k-1}]`: logits are `log p`.
    case probabilities
    /// `[[class, p], ...]` for the k most likely classes: those get `log p`; the classes not
    /// listed share the remaining mass `1 - sum(p)` evenly.
    case topK = "top_k"
    /// A class index: logit 0 for it, log(smallest float) for the others (only the argmax means
    /// anything: for label-only attacks).
    case label

    static let floor = log(Float.leastNonzeroMagnitude)

    /// Logits for one record's answer `value` (parsed JSON), `classCount` wide, into `out`.
    func logits(_ value: Any, classCount k: Int, into out: UnsafeMutableBufferPointer<Float>) throws {
        switch self {
        case .probabilities:
            guard let row = value as? [Any], row.count == k else {
                throw ShapeError("expected a list of \(k) probabilities, got \(short(value))")
            }
            for (c, item) in row.enumerated() {
                guard let p = number(item), p >= 0, p <= 1.0001 else {
                    throw ShapeError("`\(short(item))` is not a probability")
                }
                out[c] = max(log(Float(p)), Self.floor)
            }
        case .topK:
            guard let pairs = value as? [Any], !pairs.isEmpty, pairs.count <= k else {
                throw ShapeError("expected a list of [class, probability] pairs, got \(short(value))")
            }
            var listed = [Bool](repeating: false, count: k)
            var mass = 0.0
            for pair in pairs {
                guard let p = pair as? [Any], p.count == 2, let c = number(p[0]).map({ Int($0) }), c >= 0, c < k,
                    !listed[c],
                    let q = number(p[1]), q >= 0, q <= 1.0001
                else {
                    throw ShapeError(
                        "`\(short(pair))` is not a [class, probability] pair of a class below \(k) listed once")
                }
                listed[c] = true
                mass += q
                out[c] = max(log(Float(q)), Self.floor)
            }
            let rest = listed.filter { !$0 }.count
            if rest > 0 {
                let share = Float(max(0, 1 - mass) / Double(rest))
                for c in 0..<k where !listed[c] { out[c] = max(log(share), Self.floor) }
            }
        case .label:
            guard let c = number(value).map({ Int($0) }), c >= 0, c < k else {
                throw ShapeError("expected a class index below \(k), got \(short(value))")
            }
            for i in 0..<k { out[i] = Self.floor }
            out[c] = 0
        }
    }
}

func number(_ v: Any) -> Double? {
    if let d = v as? Double { return d.isFinite ? d : nil }
    if let i = v as? Int { return Double(i) }
    if let n = v as? NSNumber { return n.doubleValue }
    return nil
}

func short(_ v: Any) -> String {
    let text = "\(v)".replacingOccurrences(of: "\n", with: " ")
    return text.count > 80 ? String(text.prefix(80)) + "…" : text
}

/// An answer that does not have the configured shape.
struct ShapeError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
