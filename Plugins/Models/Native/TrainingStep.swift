import Kernels
import PluginKit

/// What one kind of training does inside the one training loop (`NativeModel.run`): the loop
/// owns the epochs, the batches (`BatchSampler`), cancellation, the optimizer's step, the
/// history, held-out evaluation, early stopping, checkpoints and marking the model ready; a
/// step strategy owns the records it trains on and the gradient of one batch.
///
/// Strategies: `PlainStep` (cross-entropy), `DPSGDStep` (clipped per-example gradients plus
/// noise, ε in every epoch record), `DistillationStep` (the teacher trained first, the student
/// on its soft targets) and `AdversarialStep` (inference-model steps before every classifier
/// step).
protocol TrainingStep: AnyObject {
    /// The records the batches index ([count, featureSize] and [count]); count > 0, checked.
    var records: TrainingRecords { get }
    /// How an epoch's batches are drawn from `records`.
    var sampling: BatchSampler.Plan { get }
    /// Called once the network holds its seeded initialisation and room for `batch` records,
    /// before the first epoch: allocates the strategy's buffers.
    func prepare(batch: Int, seed: UInt64)
    /// Called before each epoch's first step.
    func beginEpoch(_ epoch: Int)
    /// Writes one batch's gradient into `network.gradients` (the loop then steps the optimizer);
    /// returns the batch's summed training loss and correct count.
    func step(_ batch: Batch) -> (loss: Double, correct: Int)
    /// Adds the strategy's figures to an epoch's record (train and held-out figures are set).
    func complete(_ record: inout EpochRecord)
    /// Called after an epoch's record went to the history and the checkpoints; `last` when no
    /// epoch follows (the last one, or early stopping).
    func epochEnded(_ record: EpochRecord, last: Bool)
    /// Called after the training's `epochs` epochs (fewer when it stopped early): the ε of the
    /// model's guarantee, nil when it has none.
    func finish(epochs: Int) -> Double?
}

extension TrainingStep {
    func prepare(batch: Int, seed: UInt64) {}
    func beginEpoch(_ epoch: Int) {}
    func complete(_ record: inout EpochRecord) {}
    func epochEnded(_ record: EpochRecord, last: Bool) {}
    func finish(epochs: Int) -> Double? { nil }
}

/// The records a strategy trains on (views valid during `train`).
struct TrainingRecords {
    let features: UnsafePointer<Float>
    let labels: UnsafePointer<Int32>
    let count: Int
}

/// One step's records: `indices[0 ..< count]` into the strategy's records.
struct Batch {
    let indices: UnsafePointer<Int32>
    let count: Int
}

/// The batches of every epoch, from the training's seed (stream 1 of `data.seed`).
final class BatchSampler {
    enum Plan {
        /// Every record once an epoch, in consecutive batches of `batch` records (the last may be
        /// smaller) of an order shuffled before each epoch when `shuffle` is true.
        case passes(shuffle: Bool)
        /// round(n / batch) steps an epoch; each record joins each step independently with
        /// probability q = batch / n (DP-SGD's `poisson`).
        case poisson
        /// round(n / batch) steps an epoch, consecutive slices of a permutation shuffled before
        /// each epoch (DP-SGD's `shuffle`).
        case slices
    }

    let plan: Plan
    let count: Int
    let batch: Int
    /// Steps per epoch.
    let steps: Int
    /// The chance of a record to be in a step's batch, batch / count.
    var rate: Double { Double(batch) / Double(count) }
    private var random: SeededRandom
    private let order: Buffer<Int32>
    private let members: Buffer<Int32>

    init(_ plan: Plan, count n: Int, batch: Int, seed: UInt64) {
        self.plan = plan
        count = n
        self.batch = batch
        switch plan {
        case .passes: steps = (n + batch - 1) / batch
        case .poisson, .slices: steps = max(1, Int((Double(n) / Double(batch)).rounded()))
        }
        random = SeededRandom.derive(seed: seed, 1)
        order = Buffer<Int32>(n, zero: 0)
        for i in 0..<n { order.pointer[i] = Int32(i) }
        if case .poisson = plan { members = Buffer<Int32>(n, zero: 0) } else { members = Buffer<Int32>(0, zero: 0) }
    }

    func beginEpoch() {
        switch plan {
        case .passes(let shuffle): if shuffle { Self.shuffle(order.pointer, count: count, &random) }
        case .slices: Self.shuffle(order.pointer, count: count, &random)
        case .poisson: break
        }
    }

    /// The records of step `step` (0-based) of the epoch; steps must be asked in order (Poisson
    /// draws them as they come).
    func batch(_ step: Int) -> Batch {
        switch plan {
        case .passes, .slices:
            let first = min(step * batch, count)
            return Batch(indices: order.pointer + first, count: min(batch, count - first))
        case .poisson:
            let q = rate
            var k = 0
            for i in 0..<count where random.nextDouble() < q {
                members.pointer[k] = Int32(i)
                k += 1
            }
            return Batch(indices: members.pointer, count: k)
        }
    }

    /// Fisher-Yates on `count` indices.
    static func shuffle(_ a: UnsafeMutablePointer<Int32>, count: Int, _ rng: inout SeededRandom) {
        guard count > 1 else { return }
        for i in stride(from: count - 1, to: 0, by: -1) {
            let j = rng.nextInt(below: i + 1)
            let t = a[i]
            a[i] = a[j]
            a[j] = t
        }
    }
}
