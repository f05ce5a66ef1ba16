import Foundation

/// `audit.augmentations`: the transformed copies of each record that every model (target and
/// references) is also asked about, so that LiRA and RMIA can score a record over several
/// queries (Carlini et al. 2022, § 5.3; Zarifzadeh et al. 2024).
///
/// The list's terms combine as a product, as in LiRA's code: `flip` adds the left-right mirror,
/// `shift:K` every move by (dy, dx) with |dy|, |dx| ≤ K pixels (reflect padding). So
/// `[flip, shift:1]` gives 2 × 9 = 18 views, `[flip]` 2, `[shift:2]` 25. View 0 is always the
/// record itself. The host builds the views from the records (`ImageShift`) and asks the model
/// backend's ordinary `predict` about them, so every backend (native, Python worker, http)
/// answers them with no change; records must be images ([C, H, W] or [H, W]).
struct QueryAugmentations: Equatable, Sendable, CustomStringConvertible {
    /// One view: mirrored or not, then moved `dy` rows down and `dx` columns right.
    struct View: Equatable, Sendable {
        var mirror: Bool
        var dy: Int
        var dx: Int
    }

    var flip = false
    var shift = 0

    static let none = QueryAugmentations()
    /// The largest `shift:K` accepted.
    static let maxShift = 8

    init(flip: Bool = false, shift: Int = 0) {
        self.flip = flip
        self.shift = shift
    }

    /// Every view, the record itself first, then mirror-major, rows, columns ascending.
    var views: [View] {
        var all: [View] = []
        for mirror in flip ? [false, true] : [false] {
            for dy in -shift...shift {
                for dx in -shift...shift { all.append(View(mirror: mirror, dy: dy, dx: dx)) }
            }
        }
        let identity = View(mirror: false, dy: 0, dx: 0)
        return [identity] + all.filter { $0 != identity }
    }

    /// Views A (1 when none were asked for).
    var count: Int { (flip ? 2 : 1) * (2 * shift + 1) * (2 * shift + 1) }
    var isEmpty: Bool { count == 1 }

    /// The canonical list, as in a config (`flip, shift:1`); part of the signals' key.
    var description: String {
        ([flip ? "flip" : nil, shift > 0 ? "shift:\(shift)" : nil] as [String?]).compactMap { $0 }.joined(
            separator: ", ")
    }

    /// The views in a file name: `flip-shift1`.
    var fileTag: String {
        ([flip ? "flip" : nil, shift > 0 ? "shift\(shift)" : nil] as [String?]).compactMap { $0 }.joined(separator: "-")
    }

    /// `height` × `width` of records of `featureShape` ([C, H, W] or [H, W]), or nil when they
    /// are not images.
    static func imageSize(_ featureShape: [Int]) -> (channels: Int, height: Int, width: Int)? {
        switch featureShape.count {
        case 2: return (1, featureShape[0], featureShape[1])
        case 3: return (featureShape[0], featureShape[1], featureShape[2])
        default: return nil
        }
    }
}

extension AuditConfig {
    /// Reads `audit.augmentations`: a list of `flip` and `shift: K` (1 ≤ K ≤ 8; also written
    /// `shift:K`, which YAML reads as that mapping inside `[...]`), each at most once; refused
    /// beside what cannot carry them yet (signals from a folder, checkpoints, output defences).
    static func parseAugmentations(_ node: ConfigNode, _ top: ConfigNode) throws -> QueryAugmentations {
        let usage = "the choices are `flip` and `shift: K` (e.g. [flip, shift:1])"
        var a = QueryAugmentations()
        var seen: Set<String> = []
        for item in try node.list() {
            // `flip`, `shift:K` as one word, or the one-key mapping `shift: K`.
            let term: String, value: String?, at: ConfigNode
            if item.isScalar {
                let text = try item.string().trimmingCharacters(in: .whitespaces)
                let parts = text.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                (term, value, at) = (parts[0], parts.count > 1 ? parts[1] : nil, item)
            } else {
                let entries = try item.entries()
                guard entries.count == 1, let (key, v, _) = entries.first else {
                    throw item.error("an augmentation is one word; \(usage)")
                }
                (term, value, at) = (key, try v.string(), v)
            }
            guard !seen.contains(term) else { throw at.error("`\(term)` is listed twice in `audit.augmentations`") }
            seen.insert(term)
            switch (term, value) {
            case ("flip", nil):
                a.flip = true
            case ("shift", let k?):
                guard let k = Int(k), (1...QueryAugmentations.maxShift).contains(k) else {
                    throw at.error(
                        "`shift: \(k)`: K is a whole number of pixels from 1 to \(QueryAugmentations.maxShift)")
                }
                a.shift = k
            default:
                throw at.error("unknown augmentation `\(term)\(value.map { ": \($0)" } ?? "")`; \(usage)")
            }
        }
        guard !a.isEmpty else { return a }
        for key in ["signals"] where top[key] != nil {
            throw node.error(
                "`audit.augmentations` needs models to query; with `\(key)` the logits were computed elsewhere")
        }
        let audit = top["audit"]
        if audit?["checkpoints"] != nil {
            throw node.error(
                "`audit.augmentations` cannot be combined with `audit.checkpoints` yet (the checkpoints' signals have no augmentations)"
            )
        }
        if audit?["output_defences"] != nil {
            throw node.error(
                "`audit.augmentations` cannot be combined with `audit.output_defences` yet (a defence is applied to un-augmented outputs only)"
            )
        }
        return a
    }
}
