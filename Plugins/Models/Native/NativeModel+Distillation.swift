import Kernels
import PluginKit

/// What a distillation's teacher hands the student: soft targets on the public records and the
/// privacy the teacher spent (when it was trained with DP-SGD).
struct TeacherOutputs {
    /// softmax(z_teacher / T) on the public records, [publicCount, classes].
    var softTargets: [Float]
    var dpEpsilon: Double?
}

extension NativeModel {
    /// Knowledge distillation (`distillation: true`): trains a teacher on the private records,
    /// then trains this model, the student, only on the teacher's soft targets on the public
    /// (auxiliary) records, from a fresh initialisation.
    ///
    /// The teacher has this model's options with `epochs` = `teacher_epochs` (when set), no
    /// checkpoints, and its own seed (derived from `data.seed`); it may use DP-SGD or
    /// adversarial regularization. The student's epochs are the history (train figures: the
    /// soft-target loss T²·KL and the accuracy against the public records' labels; held-out
    /// figures: cross-entropy on the held-out records), and the checkpoints refer to them. A
    /// DP-SGD teacher's ε is the student's too (the student is post-processing of the teacher's
    /// outputs and of public records), so every student epoch reports it.
    func trainDistilled(_ data: TrainingData, onEpoch: (EpochRecord) -> Void) throws {
        try trainDistilled(data, onEpoch: onEpoch) { try self.teach($0) }
    }

    /// The same, with the teacher given (tests put a fixed one in its place): the student sees
    /// the private records only through `teacher`'s outputs.
    func trainDistilled(_ data: TrainingData, onEpoch: (EpochRecord) -> Void, teacher: (TrainingData) throws -> TeacherOutputs) throws {
        guard let pf = data.auxiliaryFeatures, let pl = data.auxiliaryLabels, data.auxiliaryCount > 0 else {
            throw DefenceOptions.missingPublicRecords("`distillation: true` (the student trains on the public records only)")
        }
        try check(pf, pl, what: "public")
        let outputs = try teacher(data)
        guard outputs.softTargets.count == data.auxiliaryCount * spec.classCount else {
            throw PluginError(.internal, "distillation: the teacher gave \(outputs.softTargets.count) soft-target floats for \(data.auxiliaryCount) public records")
        }
        dpEpsilon = outputs.dpEpsilon
        try outputs.softTargets.withUnsafeBufferPointer { soft in
            try trainStudent(data, softTargets: soft.baseAddress!, dpEpsilon: outputs.dpEpsilon, onEpoch: onEpoch)
        }
    }

    /// Trains the teacher on `data`'s private records (and its held-out and public records, for
    /// the history and for adversarial regularization) and returns its soft targets on the
    /// public records.
    func teach(_ data: TrainingData) throws -> TeacherOutputs {
        var options = settings
        options.defences.distillation = false
        options.epochs = settings.defences.teacherEpochs > 0 ? settings.defences.teacherEpochs : settings.epochs
        options.checkpointEpochs = []
        let teacher = try NativeModel(settings: options, spec: spec, host: host)
        var teacherData = data
        var seeds = SeededRandom.derive(seed: data.seed, 3)
        teacherData.seed = seeds.next()
        teacherData.checkpointEpochs = []
        teacherData.onCheckpoint = nil
        var last: EpochRecord?
        try teacher.train(teacherData) { last = $0 }
        if let last {
            host.log(
                .info,
                "distillation: teacher trained \(options.epochs) epochs on \(data.count) private records (train accuracy \(last.trainAccuracy), held-out accuracy \(last.heldoutAccuracy))")
        }
        let m = data.auxiliaryCount
        let k = spec.classCount
        var soft = [Float](repeating: 0, count: m * k)
        try soft.withUnsafeMutableBufferPointer { out in
            try teacher.predict(features: data.auxiliaryFeatures!, count: m, into: out)
            SoftTargets.soften(out.baseAddress!, rows: m, classes: k, temperature: Float(settings.defences.temperature))
        }
        return TeacherOutputs(softTargets: soft, dpEpsilon: teacher.dpEpsilon)
    }

    /// The student's training: `epochs` passes over the public records with the soft-target
    /// loss at temperature T (`SoftTargets`), every other setting as in the plain loop.
    func trainStudent(
        _ data: TrainingData, softTargets: UnsafePointer<Float>, dpEpsilon epsilon: Double?, onEpoch: (EpochRecord) -> Void
    ) throws {
        guard let x = data.auxiliaryFeatures?.baseAddress, let y = data.auxiliaryLabels?.baseAddress else {
            throw DefenceOptions.missingPublicRecords("`distillation: true`")
        }
        if let hf = data.heldoutFeatures, let hl = data.heldoutLabels { try check(hf, hl, what: "held-out") }
        let n = data.auxiliaryCount
        let k = spec.classCount
        let t = Float(settings.defences.temperature)
        network.initialize(seed: data.seed)
        network.reserve(batch: min(settings.batchSize, n))
        let optimizer = makeOptimizer(count: network.parameterCount)
        var order = SeededRandom.derive(seed: data.seed, 1)
        let indices = Buffer<Int32>(n, zero: 0)
        for i in 0..<n { indices.pointer[i] = Int32(i) }
        let batch = min(settings.batchSize, n)  // not network.capacity: see train
        let batchLabels = Buffer<Int32>(batch, zero: 0)
        let batchTargets = Buffer<Float>(batch * k)
        var best: BestEpoch?

        for epoch in stride(from: 1, through: settings.epochs, by: 1) {
            let start = ContinuousClock.now
            let lr = Float(settings.learningRate(epoch: epoch))
            if settings.shuffle { shuffle(indices.pointer, count: n, &order) }
            var loss = 0.0
            var correct = 0
            var first = 0
            while first < n {
                if host.isCancelled { throw PluginError(.cancelled, "training was cancelled") }
                let m = min(batch, n - first)
                network.load(x, indices: indices.pointer, first: first, batch: m)
                for r in 0..<m {
                    let i = Int(indices.pointer[first + r])
                    batchLabels.pointer[r] = y[i]
                    (batchTargets.pointer + r * k).update(from: softTargets + i * k, count: k)
                }
                let logits = network.forward(batch: m, training: true)
                let r = SoftTargets.evaluate(
                    logits: logits, targets: batchTargets.pointer, rows: m, classes: k, temperature: t, labels: batchLabels.pointer,
                    gradient: network.logitGradient, scale: 1 / Float(m))
                loss += r.loss
                correct += r.correct
                network.backward(batch: m)
                optimizer.step(network.parameters.pointer, network.gradients.pointer, count: network.parameterCount, lr: lr)
                first += m
            }
            var record = EpochRecord(
                epoch: epoch, trainLoss: loss / Double(n), trainAccuracy: Double(correct) / Double(n), seconds: 0, dpEpsilon: epsilon)
            if try endEpoch(&record, started: start, data, best: &best, onEpoch: onEpoch) { break }
        }
        markReady()
    }
}
