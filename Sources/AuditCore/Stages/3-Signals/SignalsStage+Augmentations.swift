import Foundation
import Kernels
import PluginKit

/// Query augmentations (`audit.augmentations`): every model is asked about transformed copies
/// of each audit and population record, and the signals gain an augmentation axis.
///
/// The host builds the views itself from the records (`ImageShift`: mirror, pixel shifts) and
/// calls the model backend's ordinary `predict` on them, so every backend answers them with no
/// change of its own (the native one, a Python worker, an http target, whose budget and cache
/// count them as ordinary queries). View 0 is the record itself and is never asked again: its
/// logits are the model's ordinary ones, so slice 0 of every augmented array equals the
/// un-augmented signals bit for bit.
///
/// Layout: augmentation-major, `[A, N, C]` and `[A, R, N, C]` (`[A, P, C]`, `[A, R, P, C]` for
/// the population): each augmentation's slice is contiguous in the layout of the un-augmented
/// array, so an attack walks one augmentation with its ordinary code (`Signals.augmentation`).
/// A model's views are kept in the store beside its logits (`logits-<N>-<P>-aug-<views>.npy`,
/// [A, N + P, C], with its checksum), so a second run asks no model again.
extension SignalsStage {
    /// Adds the augmented logits of every model of `models` to `s` and changes its key to
    /// cover the augmentations; writes `signals/augmented_*.npy`.
    func addAugmentations(_ s: SignalSet, _ population: Population, _ models: AuditModels) throws {
        let augmentations = config.augmentations
        guard let image = QueryAugmentations.imageSize(population.info.featureShape) else {
            throw PluginError(
                .invalidArgument,
                "`audit.augmentations` needs image records ([C, H, W] or [H, W]); the dataset's records have shape \(population.info.featureShape)"
            )
        }
        guard augmentations.shift < min(image.height, image.width) else {
            throw PluginError(
                .invalidArgument,
                "`audit.augmentations`: shift \(augmentations.shift) is not smaller than the \(image.height)×\(image.width) images"
            )
        }
        let n = population.auditCount, p = population.populationCount, c = s.classCount, a = augmentations.count
        let total = n + p, r = models.references.count
        let files = try models.all.enumerated().map { m, model in
            try augmentedLogitsFile(model, external: m == 0 && plan.targetChoice != nil, population, models.spec, image)
        }
        // The target's views in memory; every reference model's written augmentation-major, read
        // from its file through a mapping (one model's views resident at a time).
        var targetAudit: [Float] = [], targetPopulation: [Float] = []
        let targetMapping = try NpyMapping(path: files[0])  // alive while its buffer is read
        try withExtendedLifetime(targetMapping) {
            let target = try targetMapping.buffer(Float.self)
            for v in 0..<a {
                targetAudit += target[(v * total * c)..<((v * total + n) * c)]
                targetPopulation += target[((v * total + n) * c)..<((v + 1) * total * c)]
            }
        }
        func path(_ name: String) -> String { (signalsFolder as NSString).appendingPathComponent(name) }
        try Npy.write(targetAudit, shape: [a, n, c], to: path("augmented_target_logits.npy"))
        try Npy.write(targetPopulation, shape: [a, p, c], to: path("augmented_population_target_logits.npy"))
        let auditWriter = try NpyWriter<Float>(path: path("augmented_reference_logits.npy"), shape: [a, r, n, c])
        let populationWriter = try NpyWriter<Float>(
            path: path("augmented_population_reference_logits.npy"), shape: [a, r, p, c])
        let mappings = try files.dropFirst().map { try NpyMapping(path: $0) }  // alive to the end of the function
        for v in 0..<a {
            for m in mappings {
                let views = try m.buffer(Float.self)
                try auditWriter.append(UnsafeBufferPointer(rebasing: views[(v * total * c)..<((v * total + n) * c)]))
                try populationWriter.append(
                    UnsafeBufferPointer(rebasing: views[((v * total + n) * c)..<((v + 1) * total * c)]))
                m.releaseAll()
            }
        }
        try auditWriter.finish()
        try populationWriter.finish()
        s.augmented = AugmentedSignals(
            augmentations: augmentations, targetLogits: targetAudit, populationTargetLogits: targetPopulation,
            referenceLogits: try SignalArray.mapping(path("augmented_reference_logits.npy")),
            populationReferenceLogits: try SignalArray.mapping(path("augmented_population_reference_logits.npy")))
        s.key = SignalSet.augmentedKey(s.key, augmentations)
        logger.info("signals: \(a) query views per record (\(augmentations)), view 0 the record itself")
    }

    /// The `signals/augmented_*.npy` files, removed: an earlier run in this folder may have left
    /// them, and they must not stand beside signals that have no augmentations.
    static let augmentedFiles = [
        "augmented_target_logits.npy", "augmented_reference_logits.npy", "augmented_population_target_logits.npy",
        "augmented_population_reference_logits.npy",
    ]

    func removeAugmentedFiles() {
        for name in Self.augmentedFiles { unlink((signalsFolder as NSString).appendingPathComponent(name)) }
    }

    /// The file of `model`'s logits on every view of every audit and population record,
    /// [A, N + P, C]: from the store when it holds them intact, else computed (view 0 copied
    /// from the model's ordinary logits, the others asked of the backend's `predict`) and kept
    /// there. A target trained elsewhere is asked every run (its views go to `signals/`).
    func augmentedLogitsFile(
        _ model: TrainedModel, external: Bool, _ population: Population, _ spec: ModelSpec,
        _ image: (channels: Int, height: Int, width: Int)
    ) throws -> String {
        let augmentations = config.augmentations
        let n = population.auditCount, p = population.populationCount, total = n + p, c = spec.classCount
        let name = "logits-\(n)-\(p)-aug-\(augmentations.fileTag).npy"
        let folder = external ? signalsFolder : store.folder(model.key)
        let file = (folder as NSString).appendingPathComponent(external ? "target-" + name : name)
        let shape = [augmentations.count, total, c]
        if !external && reusableLogits(file, shape: shape) { return file }
        let backend = try ModelsStage(context).loadTarget(spec, storeKey: external ? nil : model.key)
        var logits = try model.loadLogits()
        guard logits.count == total * c else {
            throw PluginError(.internal, "\(model.role): \(logits.count) logits, expected [\(total), \(c)]")
        }
        logits.reserveCapacity(augmentations.count * total * c)
        for view in augmentations.views.dropFirst() {
            let images = population.features.withUnsafeBufferPointer { f in
                ImageShift.apply(
                    UnsafeBufferPointer(rebasing: f[0..<(total * spec.featureSize)]), count: total,
                    channels: image.channels,
                    height: image.height, width: image.width, mirror: view.mirror, dy: view.dy, dx: view.dx)
            }
            logits += try backend.predict(features: images, count: total)
            if cancellation.isCancelled {
                throw PluginError(.cancelled, "the run was interrupted; models are kept in the store")
            }
        }
        try storeLogits(logits, shape: shape, to: file)
        logger.info("\(model.role): logits on \(augmentations.count - 1) augmented views of \(total) records")
        return file
    }
}
