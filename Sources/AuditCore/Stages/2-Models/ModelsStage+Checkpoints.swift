import Foundation
import Kernels
import PluginKit

// Checkpoints (`audit.checkpoints`). Every model of the audit trains with the same checkpoint
// epochs; at each, the host saves the model to `model-epoch<E>.bin` in its store folder, loads
// that file into a fresh instance and writes its logits on every audit and population record to
// `logits-<N>-<P>-epoch<E>.npy` (both atomically). Predicting from a fresh instance leaves the
// training instance's buffers alone, so the training goes on exactly as without checkpoints.
//
// The store key does not include the checkpoint list: a model is the same model whether or not
// checkpoints were taken, and audits with and without them share it. A stored model that lacks
// a checkpoint asked for is trained again (under a claim, like a missing one) unless its record
// says that training was already asked for that epoch (the backend never offered it) or its
// history ended before it (early stopping). A run killed meanwhile leaves the old record, so the
// next run trains it again.
extension ModelsStage {
    /// Checkpoint epochs asked for that the stored model `key` lacks and could still get by training again.
    func missingCheckpoints(_ key: String, _ record: ModelRecord) -> [Int] {
        let asked = Set(record.checkpointEpochs ?? [])
        let last = record.history.last?.epoch
        return config.checkpoints.filter { e in
            !FileManager.default.fileExists(atPath: store.checkpointModelPath(key, epoch: e)) && !asked.contains(e)
                && (last.map { e <= $0 } ?? true)
        }
    }

    /// Whether the store holds `job`'s model with every checkpoint this audit asks for.
    func isComplete(_ job: ModelJob) -> Bool {
        guard let record = store.record(job.key), hasGradientCanaries(job) else { return false }
        return config.checkpoints.isEmpty || missingCheckpoints(job.key, record).isEmpty
    }

    /// Called by a training at the end of a checkpoint epoch: keeps the model and its logits.
    func saveCheckpoint(_ model: DynamicModel, _ job: ModelJob, epoch: Int, _ population: Population, _ spec: ModelSpec)
        throws
    {
        try store.saveFile(model, to: store.checkpointModelPath(job.key, epoch: epoch))
        try checkpointLogits(
            job.key, role: job.role, epoch: epoch, plan.model, populationRecords: population.populationCount,
            population, spec)
        logger.info("\(job.role): checkpoint of epoch \(epoch) kept")
    }

    /// The logits of the stored checkpoint of `key` at `epoch`, from a fresh instance of `backend`,
    /// on the audit records and the first `p` population records (all of them for the audit's
    /// models, none for a distillation student): computed, stored (`logits-<N>-<p>-epoch<E>.npy`)
    /// and returned.
    @discardableResult
    func checkpointLogits(
        _ key: String, role: String, epoch: Int, _ backend: ResolvedComponent, populationRecords p: Int,
        _ population: Population, _ spec: ModelSpec
    ) throws -> [Float] {
        let n = population.auditCount
        let copy = try DynamicModel(
            backend.info, optionsJSON: backend.optionsJSON, spec: spec, bridge: bridge("\(role) epoch \(epoch)"))
        try copy.load(from: store.checkpointModelPath(key, epoch: epoch))
        let logits = try copy.predict(features: population.features, count: n + p)
        let path = store.checkpointLogitsPath(key, audit: n, population: p, epoch: epoch)
        try storeLogits(logits, shape: [n + p, spec.classCount], to: path)
        return logits
    }

    /// The file of `model`'s logits at `epoch`: stored, or computed from its stored checkpoint
    /// (and stored); nil when the store holds neither.
    func checkpointLogitsFile(_ model: TrainedModel, epoch: Int, _ population: Population, _ spec: ModelSpec) throws
        -> String?
    {
        let total = population.auditCount + population.populationCount
        let path = store.checkpointLogitsPath(
            model.key, audit: population.auditCount, population: population.populationCount, epoch: epoch)
        let justWritten = !model.cached && ArtifactChecksum.verify(path) == .intact
        if justWritten || reusableLogits(path, shape: [total, spec.classCount]) { return path }
        guard FileManager.default.fileExists(atPath: store.checkpointModelPath(model.key, epoch: epoch)) else {
            return nil
        }
        try checkpointLogits(
            model.key, role: model.role, epoch: epoch, plan.model, populationRecords: population.populationCount,
            population, spec)
        return path
    }
}
