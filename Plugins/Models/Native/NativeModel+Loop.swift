import Kernels
import PluginKit

/// The early-stopping state of a training: the best held-out loss, its epoch and weights.
typealias BestEpoch = (loss: Double, epoch: Int, weights: [UInt8])

extension NativeModel {
    /// The one training loop, for every kind of training (`TrainingStep`): initialises the
    /// network from `data.seed`, then `epochs` passes of steps, each the strategy's gradient of
    /// one batch and the optimizer's step; after every epoch, `endEpoch` (history, held-out
    /// figures, checkpoints, early stopping). Marks the model ready (also after epoch 0: the
    /// seeded initialisation) and keeps the strategy's ε in `dpEpsilon`.
    func run(_ strategy: TrainingStep, _ data: TrainingData, onEpoch: (EpochRecord) -> Void) throws {
        dpEpsilon = nil
        if let hf = data.heldoutFeatures, let hl = data.heldoutLabels { try check(hf, hl, what: "held-out") }
        let records = strategy.records
        // Batches are `batch` records, never `network.capacity`: a `predict` at a checkpoint may
        // grow the network's buffers, and the training must not change with it.
        let batch = min(settings.batchSize, records.count)
        network.initialize(seed: data.seed)
        network.reserve(batch: batch)
        let optimizer = makeOptimizer(count: network.parameterCount)
        let sampler = BatchSampler(strategy.sampling, count: records.count, batch: batch, seed: data.seed)
        strategy.prepare(batch: batch, seed: data.seed)
        let params = network.parameters.pointer
        let grads = network.gradients.pointer
        let count = network.parameterCount
        let clock = ContinuousClock()
        var best: BestEpoch?
        var trained = 0

        for epoch in stride(from: 1, through: settings.epochs, by: 1) {
            let start = clock.now
            let lr = Float(settings.learningRate(epoch: epoch))
            sampler.beginEpoch()
            strategy.beginEpoch(epoch)
            var loss = 0.0
            var correct = 0
            var seen = 0
            for step in 0..<sampler.steps {
                if host.isCancelled { throw PluginError(.cancelled, "training was cancelled") }
                let b = sampler.batch(step)
                let r = strategy.step(b)
                loss += r.loss
                correct += r.correct
                seen += b.count
                optimizer.step(params, grads, count: count, lr: lr)
            }
            var record = EpochRecord(
                epoch: epoch, trainLoss: loss / Double(max(seen, 1)),
                trainAccuracy: Double(correct) / Double(max(seen, 1)),
                seconds: 0)
            strategy.complete(&record)
            trained = epoch
            let stop = try endEpoch(&record, started: start, data, best: &best, onEpoch: onEpoch)
            strategy.epochEnded(record, last: stop || epoch == settings.epochs)
            if stop { break }
        }
        dpEpsilon = strategy.finish(epochs: trained)
        markReady()
    }

    /// What the loop does after an epoch's steps: held-out figures, time, the divergence check,
    /// `onEpoch`, the `checkpoint_epochs` file, the host's checkpoint (`data.reachedEpoch`, with
    /// the model ready to predict and save: its weights are this epoch's), and early stopping.
    ///
    /// - Returns: true when early stopping ends the training (the best epoch's weights are back
    ///   in the network).
    func endEpoch(
        _ record: inout EpochRecord, started: ContinuousClock.Instant, _ data: TrainingData, best: inout BestEpoch?,
        onEpoch: (EpochRecord) -> Void
    ) throws -> Bool {
        let epoch = record.epoch
        // Every `heldout_every`-th epoch and the last: inference only, so the weights and the
        // rest of the training do not depend on which epochs are evaluated.
        let evaluated = epoch % settings.heldoutEvery == 0 || epoch == settings.epochs
        if evaluated, let hf = data.heldoutFeatures?.baseAddress, let hl = data.heldoutLabels?.baseAddress,
            data.heldoutCount > 0
        {
            let h = evaluate(hf, hl, count: data.heldoutCount)
            record.heldoutLoss = h.loss
            record.heldoutAccuracy = h.accuracy
        }
        let elapsed = ContinuousClock.now - started
        record.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        guard record.trainLoss.isFinite else {
            throw PluginError(
                .internal, "training diverged at epoch \(epoch) (loss is not finite); lower learning_rate")
        }
        onEpoch(record)
        markReady()
        if settings.checkpointEpochs.contains(epoch) { try saveCheckpoint(epoch: epoch) }
        try data.reachedEpoch(epoch)
        guard settings.earlyStoppingPatience > 0, record.heldoutLoss.isFinite else { return false }
        if best == nil || record.heldoutLoss < best!.loss {
            best = (record.heldoutLoss, epoch, ModelFile.encode(network))
        } else if epoch - best!.epoch >= settings.earlyStoppingPatience {
            try ModelFile.decode(best!.weights, into: network, path: "(best epoch \(best!.epoch) in memory)")
            host.log(
                .info,
                "native: early stopping after epoch \(epoch); kept epoch \(best!.epoch) (held-out loss \(best!.loss))")
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

    /// `data`'s private records, checked: the records of the plain, DP-SGD and adversarial steps.
    func privateRecords(_ data: TrainingData) throws -> TrainingRecords {
        try check(data.features, data.labels, what: "training")
        guard data.count > 0, let x = data.features.baseAddress, let y = data.labels.baseAddress else {
            throw PluginError(.invalidArgument, "no training records")
        }
        return TrainingRecords(features: x, labels: y, count: data.count)
    }
}
