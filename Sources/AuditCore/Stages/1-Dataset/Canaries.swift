import Foundation
import Kernels

/// The canaries of a one-run DP audit (`audit.canaries`): which audit records they are, what
/// they were turned into, and which of them the target trains on. Everything follows from the
/// config (its seed and the audit-record count), so every process that reads the config (a run,
/// a `train --shard` worker, `plan`) makes the same canaries.
///
/// The dataset stage turns the chosen records into canaries (`insert`), for every model: the
/// reference models train on the same canaries, each a member of half of them like any record,
/// so reference-based attacks score canaries as they score other records. The models stage gives
/// the target its coin flips (`place`); the evaluation bounds ε from the scores on the canaries
/// and leaves the canaries out of the ordinary metrics.
struct CanarySet: Sendable, Equatable {
    var config: CanaryConfig
    /// Audit-record positions of the canaries, ascending.
    var indices: [Int]
    /// Per canary: whether the target's training set holds it (an independent fair coin).
    var included: [Bool]

    /// Dirac canaries (`dirac`) are no records: `indices` is empty, `included` has one coin per
    /// canary, and the target's training gets them (`ModelsStage+DiracCanaries`).
    init(_ config: CanaryConfig, auditRecords n: Int) {
        self.config = config
        var choose = SeededRandom.derive(seed: config.seed, 40_000)
        indices = config.kind == .dirac ? [] : Array(choose.permutation(n).prefix(config.count)).sorted()
        var coins = SeededRandom.derive(seed: config.seed, 40_001)
        included = (0..<config.count).map { _ in coins.nextDouble() < 0.5 }
    }

    /// Turns the chosen audit records of `population` into canaries of the configured kind.
    func insert(into population: inout Population) {
        let size = population.info.featureShape.reduce(1, *)
        let classes = population.info.classCount
        let audit = population.features.prefix(population.auditCount * size)
        let low = audit.min() ?? 0, high = audit.max() ?? 1
        var rng = SeededRandom.derive(seed: config.seed, 40_002)
        for i in indices {
            let label = Int(population.labels[i])
            switch config.kind {
            case .natural, .dirac:
                continue
            case .mislabelled:
                guard classes > 1 else { continue }
                population.labels[i] = Int32((label + 1 + rng.nextInt(below: classes - 1)) % classes)
            case .oodBlank:
                for j in 0..<size { population.features[i * size + j] = 0 }
                population.labels[i] = Int32(rng.nextInt(below: classes))
            case .oodNoise:
                for j in 0..<size { population.features[i * size + j] = low + (high - low) * rng.nextFloat() }
                population.labels[i] = Int32(rng.nextInt(below: classes))
            }
        }
    }

    /// Gives the target the canaries' coin flips in place of its half split on those records.
    func place(in memberships: inout Memberships) {
        for (c, i) in indices.enumerated() { memberships.target[i] = included[c] }
    }

    /// Writes `canaries.json` in the run folder: the canaries, their coin flips and labels.
    func record(in folder: String, labels: [Int32]) throws {
        let records: [[String: Any]] = indices.enumerated().map { c, i in
            ["index": i, "included": included[c], "label": Int(labels[i])]
        }
        let object: [String: Any] = [
            "kind": config.kind.rawValue, "count": config.count, "seed": config.seed, "inclusion_probability": 0.5,
            "records": records,
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(data, to: (folder as NSString).appendingPathComponent("canaries.json"))
    }
}

extension Memberships {
    /// The memberships of `config`'s audit: the seeded splits, then the canaries' coin flips.
    static func of(_ config: AuditConfig, recordCount n: Int) -> Memberships {
        var m = Memberships(recordCount: n, referenceCount: config.referenceCount, seed: config.seed)
        if let canaries = config.canaries { CanarySet(canaries, auditRecords: n).place(in: &m) }
        return m
    }
}
