import Kernels
import PluginKit

/// The early-stopping state of a training: the best held-out loss, its epoch and weights.
typealias BestEpoch = (loss: Double, epoch: Int, weights: [UInt8])

extension NativeModel {
    /// What every training loop does after an epoch's steps: held-out figures, time, the
    /// divergence check, `onEpoch`, the `checkpoint_epochs` file, the host's checkpoint
    /// (`data.reachedEpoch`, with the model ready to predict and save: its weights are this
    /// epoch's), and early stopping unless `earlyStopping` is false (DP-SGD: choosing the best
    /// epoch by held-out loss is not covered by its accountant).
    ///
    /// - Returns: true when early stopping ends the training (the best epoch's weights are back
    ///   in the network).
    func endEpoch(
        _ record: inout EpochRecord, started: ContinuousClock.Instant, _ data: TrainingData, best: inout BestEpoch?,
        earlyStopping: Bool = true, onEpoch: (EpochRecord) -> Void
    ) throws -> Bool {
        let epoch = record.epoch
        if let hf = data.heldoutFeatures?.baseAddress, let hl = data.heldoutLabels?.baseAddress, data.heldoutCount > 0 {
            let h = evaluate(hf, hl, count: data.heldoutCount)
            record.heldoutLoss = h.loss
            record.heldoutAccuracy = h.accuracy
        }
        let elapsed = ContinuousClock.now - started
        record.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        guard record.trainLoss.isFinite else {
            throw PluginError(.internal, "training diverged at epoch \(epoch) (loss is not finite); lower learning_rate")
        }
        onEpoch(record)
        markReady()
        if settings.checkpointEpochs.contains(epoch) { try saveCheckpoint(epoch: epoch) }
        try data.reachedEpoch(epoch)
        guard earlyStopping, settings.earlyStoppingPatience > 0, record.heldoutLoss.isFinite else { return false }
        if best == nil || record.heldoutLoss < best!.loss {
            best = (record.heldoutLoss, epoch, ModelFile.encode(network))
        } else if epoch - best!.epoch >= settings.earlyStoppingPatience {
            try ModelFile.decode(best!.weights, into: network, path: "(best epoch \(best!.epoch) in memory)")
            host.log(.info, "native: early stopping after epoch \(epoch); kept epoch \(best!.epoch) (held-out loss \(best!.loss))")
            return true
        }
        return false
    }

    /// The optimizer `settings` name, for `count` parameters.
    func makeOptimizer(count: Int) -> Optimizer {
        Optimizer(
            kind: settings.optimizer, count: count, momentum: Float(settings.momentum), nesterov: settings.nesterov,
            weightDecay: Float(settings.weightDecay))
    }
}
