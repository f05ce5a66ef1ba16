import Kernels
import PluginKit

extension NativeModel {
    /// Adversarial regularization (`adversarial_regularization: λ > 0`; Nasr, Shokri and
    /// Houmansadr 2018, "Machine Learning with Membership Privacy using Adversarial
    /// Regularization", Algorithm 1): min over the classifier f of
    /// `CE(f) + λ · max over h of gain(h, f)`, trained by alternating steps.
    ///
    /// Before every classifier step (one batch of the epoch's shuffled pass over the private
    /// records), `adversarial_steps` (k) steps of the inference model h (`InferenceModel`), each
    /// on m members drawn uniformly (with replacement) from the private records and m
    /// references drawn likewise from the public (auxiliary) records, m the batch's size, with
    /// the classifier in inference mode. The classifier step then descends
    /// `(1/m) Σ_batch [CE(f(x), y) + λ · log h(f(x), y)]`, the gradient of the gain flowing
    /// through h and the softmax into the classifier's logits. The history's train loss is the
    /// cross-entropy alone; the log reports the last epoch's mean gain and h's loss.
    func trainAdversarially(_ data: TrainingData, onEpoch: (EpochRecord) -> Void) throws {
        let defence = settings.defences
        guard let rf = data.auxiliaryFeatures, let rl = data.auxiliaryLabels, data.auxiliaryCount > 0,
            let rx = rf.baseAddress, let ry = rl.baseAddress
        else {
            throw DefenceOptions.missingPublicRecords("`adversarial_regularization` (its inference model needs reference non-members)")
        }
        let n = data.count
        let k = spec.classCount
        try check(data.features, data.labels, what: "training")
        if let hf = data.heldoutFeatures, let hl = data.heldoutLabels { try check(hf, hl, what: "held-out") }
        try check(rf, rl, what: "public")
        guard n > 0, let x = data.features.baseAddress, let y = data.labels.baseAddress else {
            throw PluginError(.invalidArgument, "no training records")
        }
        let batch = min(settings.batchSize, n)
        network.initialize(seed: data.seed)
        network.reserve(batch: batch)
        let optimizer = makeOptimizer(count: network.parameterCount)
        let inference = InferenceModel(
            classes: k, hiddenSizes: defence.adversarialHiddenSizes, learningRate: defence.adversarialLearningRate)
        var inferenceSeed = SeededRandom.derive(seed: data.seed, 4)
        inference.initialize(seed: inferenceSeed.next())
        inference.reserve(rows: 2 * batch)
        var order = SeededRandom.derive(seed: data.seed, 1)
        var draws = SeededRandom.derive(seed: data.seed, 5)
        let indices = Buffer<Int32>(n, zero: 0)
        for i in 0..<n { indices.pointer[i] = Int32(i) }
        let drawn = Buffer<Int32>(batch, zero: 0)
        let drawnLabels = Buffer<Int32>(batch, zero: 0)
        let batchLabels = Buffer<Int32>(batch, zero: 0)
        let smoothing = Float(settings.labelSmoothing)
        let lambda = Float(defence.adversarialLambda)
        var best: BestEpoch?

        /// Draws m records of `count` into `drawn`, runs the classifier on them in inference
        /// mode and writes h's input rows from `offset`.
        func attackerRows(_ features: UnsafePointer<Float>, _ labels: UnsafePointer<Int32>, count: Int, m: Int, offset: Int) {
            for r in 0..<m {
                let i = draws.nextInt(below: count)
                drawn.pointer[r] = Int32(i)
                drawnLabels.pointer[r] = labels[i]
            }
            network.load(features, indices: drawn.pointer, first: 0, batch: m)
            let z = network.forward(batch: m, training: false)
            inference.setInputs(logits: z, labels: drawnLabels.pointer, rows: m, offset: offset)
        }

        for epoch in stride(from: 1, through: settings.epochs, by: 1) {
            let start = ContinuousClock.now
            let lr = Float(settings.learningRate(epoch: epoch))
            if settings.shuffle { shuffle(indices.pointer, count: n, &order) }
            var loss = 0.0
            var correct = 0
            var gain = 0.0
            var attackLoss = 0.0
            var steps = 0
            var first = 0
            while first < n {
                if host.isCancelled { throw PluginError(.cancelled, "training was cancelled") }
                let m = min(batch, n - first)
                for _ in 0..<defence.adversarialSteps {
                    attackerRows(x, y, count: n, m: m, offset: 0)
                    attackerRows(rx, ry, count: data.auxiliaryCount, m: m, offset: m)
                    attackLoss += inference.trainStep(members: m, references: m)
                }
                let r = regularizedGradient(
                    x, y, indices: indices.pointer, first: first, count: m, labels: batchLabels.pointer, inference: inference,
                    lambda: lambda, smoothing: smoothing)
                gain += r.gain
                loss += r.loss
                correct += r.correct
                steps += 1
                optimizer.step(network.parameters.pointer, network.gradients.pointer, count: network.parameterCount, lr: lr)
                first += m
            }
            var record = EpochRecord(
                epoch: epoch, trainLoss: loss / Double(n), trainAccuracy: Double(correct) / Double(n), seconds: 0)
            let stop = try endEpoch(&record, started: start, data, best: &best, onEpoch: onEpoch)
            if stop || epoch == settings.epochs {
                host.log(
                    .info,
                    "adversarial regularization: epoch \(epoch), mean gain on members (1/m) Σ log h = \(gain / Double(max(steps, 1))), inference model's loss \(attackLoss / Double(max(steps * defence.adversarialSteps, 1))) (ln 2 = 0.693 is chance)")
            }
            if stop { break }
        }
        markReady()
    }

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
            logits: z, labels: labels, rows: m, classes: spec.classCount, smoothing: smoothing, gradient: network.logitGradient,
            scale: 1 / Float(m))
        inference.setInputs(logits: z, labels: labels, rows: m, offset: 0)
        let gain = inference.addGainGradient(rows: m, weight: lambda, into: network.logitGradient)
        network.backward(batch: m)
        return (r.loss, r.correct, gain)
    }
}
