import Kernels
import PluginKit

/// The DP-SGD step (`dp_sgd: true`; Abadi et al. 2016).
///
/// Each epoch has `round(n / batch_size)` steps. A step samples its records (`poisson`: each
/// record independently with probability q = batch_size / n; `shuffle`: consecutive slices of
/// a seeded permutation), computes `ĝ = (Σ_r clip_C(g_r) + N(0, σ²C² I)) / B` with B the
/// expected batch size (batch_size), and hands ĝ to the configured optimizer. The privacy
/// spent is `RDPAccountant.epsilon(q, σ, steps, δ)` over the steps run (all of them, also the
/// epochs after the best one when early stopping ends the training: the choice of the epoch
/// saw them); for shuffled batches the log says it is computed as if the batches were Poisson.
/// Every epoch's record carries the ε spent by the end of that epoch. The final log line also
/// gives the PLD accountant's ε (`PLDAccountant`, tighter) beside the RDP one. The history's train
/// figures are means over the records the steps drew (in training mode). With Dirac gradient
/// canaries (`DiracCanaries`) each step's sum gets them before the noise, and they score the
/// privatised gradient.
final class DPSGDStep: TrainingStep {
    let records: TrainingRecords
    var sampling: BatchSampler.Plan { model.settings.privacy.sampling == .poisson ? .poisson : .slices }
    private let model: NativeModel
    private var clipper: PerExampleGradients?
    private var noise = SeededRandom(seed: 0)
    private var sum = Buffer<Float>(0)
    private var batchSize = 1
    /// The host's gradient canaries (ABI 1.4), nil for none.
    let canaries: DiracCanaries?

    init(_ model: NativeModel, _ data: TrainingData) throws {
        self.model = model
        records = try model.privateRecords(data)
        canaries = try data.gradientCanaries.map {
            try DiracCanaries(
                $0, parameterCount: model.network.parameterCount, clipNorm: model.settings.privacy.clipNorm)
        }
    }

    private var q: Double { Double(batchSize) / Double(records.count) }
    private var stepsPerEpoch: Int { max(1, Int((Double(records.count) / Double(batchSize)).rounded())) }
    private var samplingText: String {
        model.settings.privacy.sampling == .poisson
            ? "Poisson sampling" : "shuffled batches (epsilon computed as if Poisson)"
    }

    func prepare(batch: Int, seed: UInt64) {
        batchSize = batch
        let clipper = PerExampleGradients(network: model.network, clipNorm: Float(model.settings.privacy.clipNorm))
        self.clipper = clipper
        noise = SeededRandom.derive(seed: seed, 2)
        sum = Buffer<Float>(model.network.parameterCount)
        let dp = model.settings.privacy
        model.host.log(
            .info,
            "DP-SGD: C = \(dp.clipNorm), sigma = \(dp.noiseMultiplier), q = \(q), \(stepsPerEpoch) steps per epoch, \(samplingText), per-example gradients \(clipper.isBatched ? "batched (dense layers)" : "one record at a time")"
        )
    }

    func step(_ batch: Batch) -> (loss: Double, correct: Int) {
        let r = model.noisyGradient(
            records.features, records.labels, members: batch.indices, count: batch.count, clipper: clipper!,
            smoothing: Float(model.settings.labelSmoothing), noise: &noise, denominator: Double(batchSize),
            sum: sum.pointer,
            beforeNoise: canaries.map { c in { c.insert(into: $0, q: self.q) } })
        canaries?.observe(model.network.gradients.pointer)
        return r
    }

    func complete(_ record: inout EpochRecord) {
        let dp = model.settings.privacy
        record.dpEpsilon =
            RDPAccountant.epsilon(q: q, sigma: dp.noiseMultiplier, steps: record.epoch * stepsPerEpoch, delta: dp.delta)
            .epsilon
    }

    func finish(epochs: Int) -> Double? {
        let dp = model.settings.privacy
        let steps = epochs * stepsPerEpoch
        // No step, nothing released: epsilon 0 (the formula's minimum over orders is not).
        let spent =
            steps == 0
            ? (epsilon: 0.0, order: 0)
            : RDPAccountant.epsilon(q: q, sigma: dp.noiseMultiplier, steps: steps, delta: dp.delta)
        let pld = PLDAccountant.epsilon(q: q, sigma: dp.noiseMultiplier, steps: steps, delta: dp.delta)
        model.host.log(
            .info,
            "DP-SGD: claimed epsilon (RDP) = \(spent.epsilon), (PLD) = \(pld.epsilon) at delta = \(dp.delta), q = \(q), steps = \(steps), sigma = \(dp.noiseMultiplier), \(samplingText), add/remove-one neighbours (RDP: integer orders 2-256, best order \(spent.order), conversion eps = rdp + log(1/delta)/(order - 1); PLD: privacy loss distribution, grid \(pld.discretisation), the tighter upper bound; the history records the RDP figure)"
        )
        return spent.epsilon
    }
}

extension NativeModel {
    /// One DP-SGD gradient into `network.gradients`: the clipped per-example gradients of
    /// `members[0 ..< count]` summed, plus N(0, (σC)²) per coordinate, divided by `denominator`.
    /// `beforeNoise` may add to the clipped sum before the noise (gradient canaries).
    /// Returns the records' summed loss and correct count. Uses `sum` [parameterCount] as scratch.
    func noisyGradient(
        _ x: UnsafePointer<Float>, _ y: UnsafePointer<Int32>, members: UnsafePointer<Int32>, count m: Int,
        clipper: PerExampleGradients, smoothing: Float, noise: inout SeededRandom, denominator: Double,
        sum: UnsafeMutablePointer<Float>, beforeNoise: ((UnsafeMutablePointer<Float>) -> Void)? = nil
    ) -> (loss: Double, correct: Int) {
        let p = network.parameterCount
        sum.update(repeating: 0, count: p)
        var loss = 0.0
        var correct = 0
        var first = 0
        while first < m {
            let chunk = min(clipper.capacity, m - first)
            let r = clipper.accumulate(
                x, y, indices: members, first: first, count: chunk, smoothing: smoothing, into: sum)
            loss += r.loss
            correct += r.correct
            first += chunk
        }
        beforeNoise?(sum)
        let dp = settings.privacy
        noise.addGaussian(to: sum, count: p, standardDeviation: dp.noiseMultiplier * dp.clipNorm)
        let g = network.gradients.pointer
        let scale = Float(1 / denominator)
        for i in 0..<p { g[i] = sum[i] * scale }
        return (loss, correct)
    }
}
