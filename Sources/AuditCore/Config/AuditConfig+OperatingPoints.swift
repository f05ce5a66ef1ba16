import Foundation

extension AuditConfig {
    /// Reads `audit.priors`: membership priors π in (0, 1) at which the PPV of each FPR row is
    /// reported, no duplicates; default [0.01, 0.1]; an empty list turns the PPV rows off.
    static func parsePriors(_ node: ConfigNode?) throws -> [Double] {
        guard let node else { return [0.01, 0.1] }
        var priors: [Double] = []
        for item in try node.list() {
            let v = try item.double()
            guard v > 0 && v < 1 else {
                throw item.error("a membership prior must be between 0 and 1 (exclusive), not \(v)")
            }
            guard !priors.contains(v) else { throw item.error("prior \(v) is listed twice") }
            priors.append(v)
        }
        return priors
    }

    /// Reads `audit.pseudo_targets`: how many reference models (the first ones) are attacked as
    /// if each were the target, to choose each reference attack's threshold without the target's
    /// membership; default 4 (all reference models when fewer), 0 turns it off. More than the
    /// reference models is refused when the config says how many there are (`referenceCount`;
    /// nil with `signals:`, whose folder says it, and the run uses at most that many).
    static func parsePseudoTargets(_ node: ConfigNode?, referenceCount: Int?) throws -> Int {
        guard let node else { return 4 }
        let k = try node.int()
        guard k >= 0 else { throw node.error("must be >= 0, not \(k)") }
        if let referenceCount, k > referenceCount {
            throw node.error(
                "asks for \(k) pseudo-targets but the audit has \(referenceCount) reference model(s) (`reference_models.count`)"
            )
        }
        return k
    }
}
