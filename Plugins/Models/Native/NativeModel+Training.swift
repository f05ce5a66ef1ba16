import Foundation
import Kernels
import PluginKit

extension NativeModel {
    /// Trains from scratch: initialises from `data.seed`, then `epochs` passes of mini-batch
    /// steps, reporting one `EpochRecord` per epoch (train figures are the running means over the
    /// epoch's batches, in training mode; held-out figures are measured after the epoch).
    /// With `epochs` 0 the model is the seeded initialisation.
    ///
    /// One loop (`run`) does every kind of training; the options choose its step
    /// (`TrainingStep`): a student on the host's soft targets (`data.softTargets`, ABI 1.5),
    /// distillation, adversarial regularization, DP-SGD or plain.
    /// Gradient canaries (`data.gradientCanaries`) need plain DP-SGD (`DPSGDStep`): refused otherwise.
    public func train(_ data: TrainingData, onEpoch: (EpochRecord) -> Void) throws {
        if data.gradientCanaries != nil {
            guard settings.privacy.enabled, !settings.defences.distillation, !settings.defences.adversarial else {
                throw PluginError(
                    .invalidArgument,
                    "gradient canaries go into DP-SGD steps: they need `dp_sgd: true` without `distillation` or `adversarial`"
                )
            }
        }
        let step: TrainingStep
        if let soft = data.softTargets {
            step = try DistillationStep(self, data, softTargets: soft)
            soft.markUsed()
        } else if settings.defences.distillation {
            step = try DistillationStep(self, data) { try self.teach($0) }
        } else if settings.defences.adversarial {
            step = try AdversarialStep(self, data)
        } else if settings.privacy.enabled {
            step = try DPSGDStep(self, data)
        } else {
            step = try PlainStep(self, data)
        }
        try run(step, data, onEpoch: onEpoch)
        try (step as? DPSGDStep)?.canaries?.report()
    }

    /// Writes the current weights to `<checkpoint_folder>/epoch-<epoch>.bin`.
    func saveCheckpoint(epoch: Int) throws {
        let folder = settings.checkpointFolder
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw PluginError(.io, "could not create checkpoint_folder \(folder): \(error.localizedDescription)")
        }
        let path = (folder as NSString).appendingPathComponent("epoch-\(epoch).bin")
        guard FileManager.default.createFile(atPath: path, contents: Data(ModelFile.encode(network))) else {
            throw PluginError(.io, "could not write the checkpoint \(path)")
        }
    }

    func check(_ features: UnsafeBufferPointer<Float>, _ labels: UnsafeBufferPointer<Int32>, what: String) throws {
        guard features.count == labels.count * spec.featureSize else {
            throw PluginError(
                .invalidArgument,
                "\(what) features hold \(features.count) floats, expected \(labels.count) records of \(spec.featureSize)"
            )
        }
        if let bad = labels.firstIndex(where: { $0 < 0 || Int($0) >= spec.classCount }) {
            throw PluginError(
                .invalidArgument, "\(what) record \(bad) has label \(labels[bad]), outside 0..<\(spec.classCount)")
        }
    }
}
