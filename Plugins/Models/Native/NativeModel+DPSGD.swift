import Kernels
import PluginKit

extension NativeModel {
    /// Trains with DP-SGD (`dp_sgd: true`; Abadi et al. 2016), then logs and keeps the epsilon.
    ///
    /// Each epoch has `round(n / batch_size)` steps. A step samples its records (`poisson`: each
    /// record independently with probability q = batch_size / n; `shuffle`: consecutive slices of
    /// a seeded permutation), computes `ĝ = (Σ_r clip_C(g_r) + N(0, σ²C² I)) / B` with B the
    /// expected batch size (batch_size), and hands ĝ to the configured optimizer. The privacy
    /// spent is `RDPAccountant.epsilon(q, σ, steps, δ)`; for shuffled batches the log says it is
    /// computed as if the batches were Poisson. Every epoch's record carries the ε spent by the end
    /// of that epoch (`EpochRecord.dpEpsilon`, the same accountant). The history's train figures are means over the
    /// records the steps drew (in training mode).
    func trainPrivately(_ data: TrainingData, onEpoch: (EpochRecord) -> Void) throws {
        let n = data.count
        try check(data.features, data.labels, what: "training")
        if let hf = data.heldoutFeatures, let hl = data.heldoutLabels {
            try check(hf, hl, what: "held-out")
        }
        guard n > 0, let x = data.features.baseAddress, let y = data.labels.baseAddress else {
            throw PluginError(.invalidArgument, "no training records")
        }
        let dp = settings.privacy
        let batch = min(settings.batchSize, n)
        let q = Double(batch) / Double(n)
        let stepsPerEpoch = max(1, Int((Double(n) / Double(batch)).rounded()))
        network.initialize(seed: data.seed)
        network.reserve(batch: batch)
        dpEpsilon = nil
        let optimizer = makeOptimizer(count: network.parameterCount)
        let clipper = PerExampleGradients(network: network, clipNorm: Float(dp.clipNorm))
        var sampler = SeededRandom.derive(seed: data.seed, 1)
        var noise = SeededRandom.derive(seed: data.seed, 2)
        let order = Buffer<Int32>(n, zero: 0)
        for i in 0..<n { order.pointer[i] = Int32(i) }
        let members = Buffer<Int32>(n, zero: 0)
        let smoothing = Float(settings.labelSmoothing)
        let sum = Buffer<Float>(network.parameterCount)
        let clock = ContinuousClock()
        let sampling = dp.sampling == .poisson ? "Poisson sampling" : "shuffled batches (epsilon computed as if Poisson)"
        host.log(
            .info,
            "DP-SGD: C = \(dp.clipNorm), sigma = \(dp.noiseMultiplier), q = \(q), \(stepsPerEpoch) steps per epoch, \(sampling), per-example gradients \(clipper.isBatched ? "batched (dense layers)" : "one record at a time")")

        var noBest: BestEpoch?  // no early stopping under DP-SGD
        for epoch in stride(from: 1, through: settings.epochs, by: 1) {
            let start = clock.now
            let lr = Float(settings.learningRate(epoch: epoch))
            if dp.sampling == .shuffle { shuffle(order.pointer, count: n, &sampler) }
            var loss = 0.0
            var correct = 0
            var seen = 0
            for step in 0..<stepsPerEpoch {
                if host.isCancelled { throw PluginError(.cancelled, "training was cancelled") }
                let m: Int
                let chosen: UnsafePointer<Int32>
                switch dp.sampling {
                case .poisson:
                    var k = 0
                    for i in 0..<n where sampler.nextDouble() < q {
                        members.pointer[k] = Int32(i)
                        k += 1
                    }
                    m = k
                    chosen = UnsafePointer(members.pointer)
                case .shuffle:
                    let first = min(step * batch, n)
                    m = min(batch, n - first)
                    chosen = UnsafePointer(order.pointer + first)
                }
                let r = noisyGradient(
                    x, y, members: chosen, count: m, clipper: clipper, smoothing: smoothing, noise: &noise,
                    denominator: Double(batch), sum: sum.pointer)
                loss += r.loss
                correct += r.correct
                seen += m
                optimizer.step(network.parameters.pointer, network.gradients.pointer, count: network.parameterCount, lr: lr)
            }
            var record = EpochRecord(
                epoch: epoch, trainLoss: loss / Double(max(seen, 1)), trainAccuracy: Double(correct) / Double(max(seen, 1)),
                seconds: 0,
                dpEpsilon: RDPAccountant.epsilon(q: q, sigma: dp.noiseMultiplier, steps: epoch * stepsPerEpoch, delta: dp.delta).epsilon)
            _ = try endEpoch(&record, started: start, data, best: &noBest, earlyStopping: false, onEpoch: onEpoch)
        }
        let steps = settings.epochs * stepsPerEpoch
        // No step, nothing released: epsilon 0 (the formula's minimum over orders is not).
        let spent = steps == 0
            ? (epsilon: 0.0, order: 0)
            : RDPAccountant.epsilon(q: q, sigma: dp.noiseMultiplier, steps: steps, delta: dp.delta)
        dpEpsilon = spent.epsilon
        host.log(
            .info,
            "DP-SGD: epsilon = \(spent.epsilon) at delta = \(dp.delta), q = \(q), steps = \(steps), sigma = \(dp.noiseMultiplier), \(sampling) (Renyi DP, integer orders 2-256, best order \(spent.order), conversion eps = rdp + log(1/delta)/(order - 1))")
        markReady()
    }

    /// One DP-SGD gradient into `network.gradients`: the clipped per-example gradients of
    /// `members[0 ..< count]` summed, plus N(0, (σC)²) per coordinate, divided by `denominator`.
    /// Returns the records' summed loss and correct count. Uses `sum` [parameterCount] as scratch.
    func noisyGradient(
        _ x: UnsafePointer<Float>, _ y: UnsafePointer<Int32>, members: UnsafePointer<Int32>, count m: Int,
        clipper: PerExampleGradients, smoothing: Float, noise: inout SeededRandom, denominator: Double,
        sum: UnsafeMutablePointer<Float>
    ) -> (loss: Double, correct: Int) {
        let p = network.parameterCount
        sum.update(repeating: 0, count: p)
        var loss = 0.0
        var correct = 0
        var first = 0
        while first < m {
            let chunk = min(clipper.capacity, m - first)
            let r = clipper.accumulate(x, y, indices: members, first: first, count: chunk, smoothing: smoothing, into: sum)
            loss += r.loss
            correct += r.correct
            first += chunk
        }
        let dp = settings.privacy
        noise.addGaussian(to: sum, count: p, standardDeviation: dp.noiseMultiplier * dp.clipNorm)
        let g = network.gradients.pointer
        let scale = Float(1 / denominator)
        for i in 0..<p { g[i] = sum[i] * scale }
        return (loss, correct)
    }
}
