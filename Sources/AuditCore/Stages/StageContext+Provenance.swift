import Foundation
import PluginKit

// What the run reuses from the store and earlier runs, and why: the hooks the stages call.
// The keys themselves are `Provenance`'s; the checks of stored files `ArtifactChecksum`'s.
// With `fresh` (`--fresh`), nothing is reused: every model, logits file and score is computed
// again, and written to the store as usual.
extension AuditStage {
    var provenance: Provenance { Provenance(store: config.modelStore) }

    /// The store key of model `index` (0 the target) with these members and seed.
    func modelKey(_ spec: ModelSpec, members: [Int], seed: UInt64) -> String {
        let first = config.auditRecords + config.populationRecords
        return provenance.modelKey(
            backend: plan.model, dataset: plan.dataset, spec: spec, members: members, seed: seed,
            publicRecords: config.publicRecords > 0 ? first..<(first + config.publicRecords) : nil,
            canaries: config.canaries?.provenanceLine(auditRecords: config.auditRecords))
    }

    /// Whether the stored logits file at `path` can be reused: not `fresh`, of the expected
    /// shape, and matching its checksum (a corrupt one is logged and computed again).
    func reusableLogits(_ path: String, shape: [Int]) -> Bool {
        guard !fresh, FileManager.default.fileExists(atPath: path) else { return false }
        return ArtifactChecksum.isIntact(path, logger: logger, then: "computing the logits again from the stored model")
            && Npy.holds(Float.self, shape: shape, at: path)
    }

    /// Writes logits into the store with their checksum.
    func storeLogits(_ logits: [Float], shape: [Int], to path: String) throws {
        try Npy.write(logits, shape: shape, to: path)
        try ArtifactChecksum.record(path)
    }

    /// Says, at the default level, which models came from the store and why.
    func logReuse(_ models: [TrainedModel]) {
        let reused = models.filter(\.cached)
        let why = "same data, plugin, options, seed"
        for m in reused where m.role == "target" { logger.notice("model target: reused from store \(m.key) (\(why))") }
        let references = reused.filter { $0.role != "target" }
        for m in references { logger.info("model \(m.role): reused from store \(m.key) (\(why))") }
        if !references.isEmpty {
            logger.notice(
                "models: \(references.count) reference model\(references.count == 1 ? "" : "s") reused from store \(config.modelStore) (\(why))"
            )
        }
    }

    /// Keeps the digests of the files hashed for the keys in the store (`ContentHashes`), so the
    /// next run need not read them again. A failure costs only time: it is a warning.
    func rememberDigests() {
        do { try provenance.save() } catch {
            logger.warning("cannot remember file digests in \(config.modelStore): \(error)")
        }
    }

    /// An attack's seed: from the run seed and the attack's name, never its place in the list.
    func attackSeed(_ name: String) -> UInt64 { Provenance.seed(run: config.seed, name: "attack \(name)") }

    /// The stored scores of an attack under `key` in files `path(suffix)`, when they can be
    /// reused: not `fresh`, same key, both files intact (a corrupt one is logged) and of `count` records.
    func reusableScores(key: String, count: Int, path: (String) -> String) -> (scores: [Double], mask: [UInt8])? {
        guard !fresh, let stored = try? String(contentsOfFile: path(".key"), encoding: .utf8), stored == key else {
            return nil
        }
        for suffix in [".npy", ".mask.npy"] {
            guard ArtifactChecksum.isIntact(path(suffix), logger: logger, then: "running the attack again") else {
                return nil
            }
        }
        guard let (scores, _) = try? Npy.read(Double.self, from: path(".npy")), scores.count == count,
            let (mask, _) = try? Npy.read(UInt8.self, from: path(".mask.npy")), mask.count == count
        else { return nil }
        return (scores, mask)
    }

    /// Writes an attack's scores and mask with their checksums, then the key that makes them reusable.
    func storeScores(_ scores: [Double], _ mask: [UInt8], key: String, path: (String) -> String) throws {
        unlink(path(".key"))
        try Npy.write(scores, shape: [scores.count], to: path(".npy"))
        try ArtifactChecksum.record(path(".npy"))
        try Npy.write(mask, shape: [mask.count], to: path(".mask.npy"))
        try ArtifactChecksum.record(path(".mask.npy"))
        try AtomicFile.write(key, to: path(".key"))
    }
}

extension ModelsStage {
    /// Whether `job`'s stored model can be reused (complete, and not `fresh`).
    func reusable(_ job: ModelJob) -> Bool { !fresh && isComplete(job) }
}
