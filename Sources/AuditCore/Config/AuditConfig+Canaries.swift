import Foundation

/// `audit.canaries`: a one-run DP audit (Steinke, Nasr and Jagielski 2023). `count` of the audit
/// records become canaries of `kind`; each is put in the target's training set by its own seeded
/// coin flip (probability 1/2) instead of the target's half split; every attack's scores on them
/// give a one-run ε lower bound (`OneRunEpsilon.swift`).
struct CanaryConfig: Sendable, Equatable {
    /// What a canary is made of.
    enum Kind: String, Sendable, CaseIterable {
        /// The record with a label drawn uniformly from the other classes.
        case mislabelled
        /// An all-zero input with a uniformly drawn label.
        case oodBlank = "ood_blank"
        /// Uniform noise over the audit records' feature range, with a uniformly drawn label.
        case oodNoise = "ood_noise"
        /// The record as it is (a natural held-out record).
        case natural
        /// A Dirac gradient canary (white-box, DP-SGD only): the vector with one parameter
        /// coordinate set to the clipping norm, added to the clipped gradient sum of the DP-SGD
        /// steps it is sampled in; no record changes (`ModelsStage+DiracCanaries`).
        case dirac
    }

    /// m: canaries, among the audit records.
    var count: Int
    var kind: Kind
    /// Seeds which records become canaries, their coin flips and their new labels or inputs.
    var seed: UInt64
    /// The guess counts k tried (k "in", k "out"); fixed here, before any score is seen.
    var guesses: [Int]
    var confidence: Double

    static let keys = ["count", "kind", "seed", "guesses", "confidence"]

    /// The line the store's keys hash for a model trained with these canaries (`Provenance`).
    func provenanceLine(auditRecords: Int) -> String {
        "canaries count=\(count) kind=\(kind.rawValue) seed=\(seed) audit_records=\(auditRecords)\n"
    }
}

extension AuditConfig {
    /// Reads `audit.canaries`. Needs models this audit trains (no `signals`, no `target`), and at
    /// most as many canaries as audit records.
    static func parseCanaries(_ node: ConfigNode, _ top: ConfigNode, auditRecords: Int, runSeed: UInt64) throws
        -> CanaryConfig
    {
        for key in ["signals", "target"] where top[key] != nil {
            throw node.error(
                "`audit.canaries` needs a target this audit trains; with `\(key)` it was trained elsewhere")
        }
        try node.checkKeys(CanaryConfig.keys)
        let countNode = try node.require("count")
        let count = try countNode.count(in: 2...CountLimits.records.upperBound)
        let kindNode = try node.require("kind")
        let kindText = try kindNode.string()
        guard let kind = CanaryConfig.Kind(rawValue: kindText) else {
            let names = CanaryConfig.Kind.allCases.map(\.rawValue)
            throw kindNode.error(
                "unknown canary kind `\(kindText)` (one of \(names.joined(separator: ", ")))"
                    + didYouMean(kindText, names))
        }
        if kind == .dirac {
            try checkDiracModel(kindNode, top)
        } else if count > auditRecords {
            throw countNode.error(
                "\(count) canaries but only \(auditRecords) audit records (`dataset.audit_records`); canaries are audit records"
            )
        }
        var seed = runSeed
        if let s = node["seed"] {
            let v = try s.int()
            guard v >= 0 else { throw s.error("must be a non-negative integer") }
            seed = UInt64(v)
        }
        var guesses = defaultOneRunGuessCounts(canaries: count)
        if let g = node["guesses"] {
            let items = try g.list()
            guard !items.isEmpty else { throw g.error("must list at least one guess count (or leave the key out)") }
            guesses = []
            for item in items {
                let k = try item.int()
                guard k >= 1, 2 * k <= count else {
                    throw item.error("a guess count k must be in [1, \(count / 2)] (k in, k out, of \(count) canaries)")
                }
                guard !guesses.contains(k) else { throw item.error("guess count \(k) is listed twice") }
                guesses.append(k)
            }
        }
        var confidence = 0.95
        if let c = node["confidence"] {
            confidence = try c.double()
            guard confidence > 0, confidence < 1 else { throw c.error("must be between 0 and 1 (exclusive)") }
        }
        return CanaryConfig(count: count, kind: kind, seed: seed, guesses: guesses, confidence: confidence)
    }
}
