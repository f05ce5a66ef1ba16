import Foundation
import Kernels
import PluginKit

extension NativeModel {
    /// Trains from scratch: initialises from `data.seed`, then `epochs` passes of mini-batch
    /// steps, reporting one `EpochRecord` per epoch (train figures are the running means over the
    /// epoch's batches, in training mode; held-out figures are measured after the epoch).
    /// With `epochs` 0 the model is the seeded initialisation.
    public func train(_ data: TrainingData, onEpoch: (EpochRecord) -> Void) throws {
        if settings.defences.distillation { return try trainDistilled(data, onEpoch: onEpoch) }
        if settings.defences.adversarial { return try trainAdversarially(data, onEpoch: onEpoch) }
        if settings.privacy.enabled { return try trainPrivately(data, onEpoch: onEpoch) }
        let n = data.count
        let k = spec.classCount
        try check(data.features, data.labels, what: "training")
        if let hf = data.heldoutFeatures, let hl = data.heldoutLabels {
            try check(hf, hl, what: "held-out")
        }
        guard n > 0, let x = data.features.baseAddress, let y = data.labels.baseAddress else {
            throw PluginError(.invalidArgument, "no training records")
        }
        let batch = min(settings.batchSize, n)
        network.initialize(seed: data.seed)
        network.reserve(batch: batch)
        let optimizer = makeOptimizer(count: network.parameterCount)
        var order = SeededRandom.derive(seed: data.seed, 1)
        let indices = Buffer<Int32>(n, zero: 0)
        for i in 0..<n { indices.pointer[i] = Int32(i) }
        // Batches are `batch` records, never `network.capacity`: a `predict` at a checkpoint may
        // grow the network's buffers, and the training must not change with it.
        let batchLabels = Buffer<Int32>(batch, zero: 0)
        let smoothing = Float(settings.labelSmoothing)
        let params = network.parameters.pointer
        let grads = network.gradients.pointer
        let count = network.parameterCount
        let clock = ContinuousClock()
        var best: BestEpoch?

        for epoch in stride(from: 1, through: settings.epochs, by: 1) {
            let start = clock.now
            let lr = Float(settings.learningRate(epoch: epoch))
            if settings.shuffle { shuffle(indices.pointer, count: n, &order) }
            var loss = 0.0
            var correct = 0
            var first = 0
            while first < n {
                if host.isCancelled { throw PluginError(.cancelled, "training was cancelled") }
                let m = min(batch, n - first)
                network.load(x, indices: indices.pointer, first: first, batch: m)
                for r in 0..<m { batchLabels.pointer[r] = y[Int(indices.pointer[first + r])] }
                let logits = network.forward(batch: m, training: true)
                let r = SoftmaxCrossEntropy.evaluate(
                    logits: logits, labels: batchLabels.pointer, rows: m, classes: k, smoothing: smoothing,
                    gradient: network.logitGradient, scale: 1 / Float(m))
                loss += r.loss
                correct += r.correct
                network.backward(batch: m)
                optimizer.step(params, grads, count: count, lr: lr)
                first += m
            }
            var record = EpochRecord(
                epoch: epoch, trainLoss: loss / Double(n), trainAccuracy: Double(correct) / Double(n), seconds: 0)
            if try endEpoch(&record, started: start, data, best: &best, onEpoch: onEpoch) { break }
        }
        markReady()
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
                "\(what) features hold \(features.count) floats, expected \(labels.count) records of \(spec.featureSize)")
        }
        if let bad = labels.firstIndex(where: { $0 < 0 || Int($0) >= spec.classCount }) {
            throw PluginError(.invalidArgument, "\(what) record \(bad) has label \(labels[bad]), outside 0..<\(spec.classCount)")
        }
    }

    /// Fisher-Yates on `count` indices.
    func shuffle(_ a: UnsafeMutablePointer<Int32>, count: Int, _ rng: inout SeededRandom) {
        guard count > 1 else { return }
        for i in stride(from: count - 1, to: 0, by: -1) {
            a.swapAt(i, rng.nextInt(below: i + 1))
        }
    }
}

extension UnsafeMutablePointer {
    fileprivate func swapAt(_ i: Int, _ j: Int) {
        let t = self[i]
        self[i] = self[j]
        self[j] = t
    }
}
