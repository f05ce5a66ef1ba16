import Kernels
import PluginKit

/// The plain training step: the mean (label-smoothed) cross-entropy of a batch of the private
/// records, in training mode, over passes of the records (`shuffle`).
final class PlainStep: TrainingStep {
    let records: TrainingRecords
    var sampling: BatchSampler.Plan { .passes(shuffle: model.settings.shuffle) }
    private let model: NativeModel
    private var labels = Buffer<Int32>(0, zero: 0)

    init(_ model: NativeModel, _ data: TrainingData) throws {
        self.model = model
        records = try model.privateRecords(data)
    }

    func prepare(batch: Int, seed: UInt64) { labels = Buffer<Int32>(batch, zero: 0) }

    func step(_ batch: Batch) -> (loss: Double, correct: Int) {
        let network = model.network
        let m = batch.count
        network.load(records.features, indices: batch.indices, first: 0, batch: m)
        for r in 0..<m { labels.pointer[r] = records.labels[Int(batch.indices[r])] }
        let logits = network.forward(batch: m, training: true)
        let r = SoftmaxCrossEntropy.evaluate(
            logits: logits, labels: labels.pointer, rows: m, classes: model.spec.classCount,
            smoothing: Float(model.settings.labelSmoothing), gradient: network.logitGradient, scale: 1 / Float(m))
        network.backward(batch: m)
        return (r.loss, r.correct)
    }
}
