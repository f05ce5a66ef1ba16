import Kernels
import PluginKit

/// The step of adversarial regularization (`adversarial_regularization: λ > 0`; Nasr, Shokri
/// and Houmansadr 2018, "Machine Learning with Membership Privacy using Adversarial
/// Regularization", Algorithm 1): min over the classifier f of `CE(f) + λ · max over h of
/// gain(h, f)`, trained by alternating steps.
///
/// Before every classifier step (one batch of the epoch's pass over the private records),
/// `adversarial_steps` (k) steps of the inference model h (`InferenceModel`), each on m members
/// drawn uniformly (with replacement) from the private records and m references drawn likewise
/// from the public (auxiliary) records, m the batch's size, with the classifier in inference
/// mode. The classifier step then descends `(1/m) Σ_batch [CE(f(x), y) + λ · log h(f(x), y)]`,
/// the gradient of the gain flowing through h and the softmax into the classifier's logits. The
/// history's train loss is the cross-entropy alone; the log reports the last epoch's mean gain
/// and h's loss.
final class AdversarialStep: TrainingStep {
    let records: TrainingRecords
    var sampling: BatchSampler.Plan { .passes(shuffle: model.settings.shuffle) }
    private let model: NativeModel
    private let references: TrainingRecords
    private let inference: InferenceModel
    private var draws = SeededRandom(seed: 0)
    private var drawn = Buffer<Int32>(0, zero: 0)
    private var drawnLabels = Buffer<Int32>(0, zero: 0)
    private var labels = Buffer<Int32>(0, zero: 0)
    // This epoch's sums, for the log.
    private var gain = 0.0
    private var attackLoss = 0.0
    private var steps = 0

    init(_ model: NativeModel, _ data: TrainingData) throws {
        self.model = model
        let defence = model.settings.defences
        guard let rf = data.auxiliaryFeatures, let rl = data.auxiliaryLabels, data.auxiliaryCount > 0,
            let rx = rf.baseAddress, let ry = rl.baseAddress
        else {
            throw DefenceOptions.missingPublicRecords(
                "`adversarial_regularization` (its inference model needs reference non-members)")
        }
        try model.check(rf, rl, what: "public")
        records = try model.privateRecords(data)
        references = TrainingRecords(features: rx, labels: ry, count: data.auxiliaryCount)
        inference = InferenceModel(
            classes: model.spec.classCount, hiddenSizes: defence.adversarialHiddenSizes,
            learningRate: defence.adversarialLearningRate)
    }

    func prepare(batch: Int, seed: UInt64) {
        var inferenceSeed = SeededRandom.derive(seed: seed, 4)
        inference.initialize(seed: inferenceSeed.next())
        inference.reserve(rows: 2 * batch)
        draws = SeededRandom.derive(seed: seed, 5)
        drawn = Buffer<Int32>(batch, zero: 0)
        drawnLabels = Buffer<Int32>(batch, zero: 0)
        labels = Buffer<Int32>(batch, zero: 0)
    }

    func beginEpoch(_ epoch: Int) {
        gain = 0
        attackLoss = 0
        steps = 0
    }

    func step(_ batch: Batch) -> (loss: Double, correct: Int) {
        let m = batch.count
        for _ in 0..<model.settings.defences.adversarialSteps {
            attackerRows(records, m: m, offset: 0)
            attackerRows(references, m: m, offset: m)
            attackLoss += inference.trainStep(members: m, references: m)
        }
        let r = model.regularizedGradient(
            records.features, records.labels, indices: batch.indices, first: 0, count: m, labels: labels.pointer,
            inference: inference, lambda: Float(model.settings.defences.adversarialLambda),
            smoothing: Float(model.settings.labelSmoothing))
        gain += r.gain
        steps += 1
        return (r.loss, r.correct)
    }

    /// Draws m records of `from` into `drawn`, runs the classifier on them in inference mode and
    /// writes h's input rows from `offset`.
    private func attackerRows(_ from: TrainingRecords, m: Int, offset: Int) {
        for r in 0..<m {
            let i = draws.nextInt(below: from.count)
            drawn.pointer[r] = Int32(i)
            drawnLabels.pointer[r] = from.labels[i]
        }
        model.network.load(from.features, indices: drawn.pointer, first: 0, batch: m)
        let z = model.network.forward(batch: m, training: false)
        inference.setInputs(logits: z, labels: drawnLabels.pointer, rows: m, offset: offset)
    }

    func epochEnded(_ record: EpochRecord, last: Bool) {
        guard last else { return }
        let k = model.settings.defences.adversarialSteps
        model.host.log(
            .info,
            "adversarial regularization: epoch \(record.epoch), mean gain on members (1/m) Σ log h = \(gain / Double(max(steps, 1))), inference model's loss \(attackLoss / Double(max(steps * k, 1))) (ln 2 = 0.693 is chance)"
        )
    }
}

extension NativeModel {
    /// The classifier step's gradient, into `network.gradients`: of
    /// `(1/m) Σ_r [CE(f(x_r), y_r) + λ · log h(f(x_r), y_r)]` over records
    /// `indices[first ..< first + m]` (training mode), the second term back-propagated through
    /// h (`InferenceModel.addGainGradient`) and the softmax into the logits. `labels` [m] is scratch.
    ///
    /// - Returns: the summed cross-entropy, the correct count, and the gain G = (1/m) Σ log h.
    func regularizedGradient(
        _ x: UnsafePointer<Float>, _ y: UnsafePointer<Int32>, indices: UnsafePointer<Int32>, first: Int, count m: Int,
        labels: UnsafeMutablePointer<Int32>, inference: InferenceModel, lambda: Float, smoothing: Float
    ) -> (loss: Double, correct: Int, gain: Double) {
        network.load(x, indices: indices, first: first, batch: m)
        for r in 0..<m { labels[r] = y[Int(indices[first + r])] }
        let z = network.forward(batch: m, training: true)
        let r = SoftmaxCrossEntropy.evaluate(
            logits: z, labels: labels, rows: m, classes: spec.classCount, smoothing: smoothing,
            gradient: network.logitGradient,
            scale: 1 / Float(m))
        inference.setInputs(logits: z, labels: labels, rows: m, offset: 0)
        let gain = inference.addGainGradient(rows: m, weight: lambda, into: network.logitGradient)
        network.backward(batch: m)
        return (r.loss, r.correct, gain)
    }
}
