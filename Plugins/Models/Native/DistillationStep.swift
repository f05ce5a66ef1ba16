import Kernels
import PluginKit

/// What a distillation's teacher hands the student: soft targets on the public records and the
/// privacy the teacher spent (when it was trained with DP-SGD).
struct TeacherOutputs {
    /// softmax(z_teacher / T) on the public records, [publicCount, classes].
    var softTargets: [Float]
    var dpEpsilon: Double?
}

/// The student's step of knowledge distillation: the soft-target loss T²·KL at temperature T
/// (`SoftTargets`) on a batch of the student's records, over passes of them as in plain
/// training. Two students use it: the defence (`distillation: true`: the teacher is trained when
/// the strategy is made, the student trains on the public records) and a student the host asks
/// for through the ABI (1.5 `soft_targets`, `TrainingData.softTargets`: the host's teacher
/// probabilities on the training records, as the loss-trajectory attack's distillation asks).
///
/// The student's epochs are the history (train figures: the soft-target loss and the accuracy
/// against the records' labels; held-out figures: cross-entropy on the held-out records), and
/// the checkpoints refer to them. A DP-SGD teacher's ε is the student's too (the student is
/// post-processing of the teacher's outputs and of public records), so every student epoch
/// reports it.
final class DistillationStep: TrainingStep {
    let records: TrainingRecords
    var sampling: BatchSampler.Plan { .passes(shuffle: model.settings.shuffle) }
    private let model: NativeModel
    private let teacher: TeacherOutputs
    private let temperature: Float
    private var labels = Buffer<Int32>(0, zero: 0)
    private var targets = Buffer<Float>(0)

    /// A student of `records` on `teacher`'s soft targets (one row of `classCount` per record) at `temperature`.
    init(_ model: NativeModel, records: TrainingRecords, teacher: TeacherOutputs, temperature: Float) throws {
        guard teacher.softTargets.count == records.count * model.spec.classCount else {
            throw PluginError(
                .invalidArgument,
                "distillation: \(teacher.softTargets.count) soft-target floats for \(records.count) records of \(model.spec.classCount) classes"
            )
        }
        self.model = model
        self.records = records
        self.teacher = teacher
        self.temperature = temperature
    }

    /// The defence: checks the public records, then runs `teacher` on `data` (the private records
    /// reach the student only through its outputs).
    convenience init(_ model: NativeModel, _ data: TrainingData, teacher: (TrainingData) throws -> TeacherOutputs)
        throws
    {
        guard let pf = data.auxiliaryFeatures, let pl = data.auxiliaryLabels, data.auxiliaryCount > 0,
            let x = pf.baseAddress, let y = pl.baseAddress
        else {
            throw DefenceOptions.missingPublicRecords(
                "`distillation: true` (the student trains on the public records only)")
        }
        try model.check(pf, pl, what: "public")
        let records = TrainingRecords(features: x, labels: y, count: data.auxiliaryCount)
        try self.init(
            model, records: records, teacher: teacher(data), temperature: Float(model.settings.defences.temperature))
    }

    /// The host's student (ABI 1.5): the training records on the host's soft targets, at the
    /// host's temperature; refused next to the options that change the step (defences, DP-SGD).
    convenience init(_ model: NativeModel, _ data: TrainingData, softTargets soft: TeacherTargets) throws {
        let s = model.settings
        guard !s.defences.distillation, !s.defences.adversarial, !s.privacy.enabled, data.gradientCanaries == nil
        else {
            throw PluginError(
                .invalidArgument,
                "soft targets (a distillation student) train with plain steps: they cannot be combined with `distillation`, `adversarial`, `dp_sgd` or gradient canaries"
            )
        }
        try model.check(data.features, data.labels, what: "training")
        guard data.count > 0, let x = data.features.baseAddress, let y = data.labels.baseAddress else {
            throw PluginError(.invalidArgument, "soft targets: no training records")
        }
        let k = model.spec.classCount
        guard soft.probabilities.count == data.count * k else {
            throw PluginError(
                .invalidArgument,
                "soft targets hold \(soft.probabilities.count) floats, expected [\(data.count), \(k)] (one row per training record)"
            )
        }
        try self.init(
            model, records: TrainingRecords(features: x, labels: y, count: data.count),
            teacher: TeacherOutputs(softTargets: Array(soft.probabilities), dpEpsilon: nil),
            temperature: Float(soft.temperature))
    }

    func prepare(batch: Int, seed: UInt64) {
        labels = Buffer<Int32>(batch, zero: 0)
        targets = Buffer<Float>(batch * model.spec.classCount)
    }

    func step(_ batch: Batch) -> (loss: Double, correct: Int) {
        let network = model.network
        let k = model.spec.classCount
        let m = batch.count
        network.load(records.features, indices: batch.indices, first: 0, batch: m)
        teacher.softTargets.withUnsafeBufferPointer { soft in
            for r in 0..<m {
                let i = Int(batch.indices[r])
                labels.pointer[r] = records.labels[i]
                (targets.pointer + r * k).update(from: soft.baseAddress! + i * k, count: k)
            }
        }
        let logits = network.forward(batch: m, training: true)
        let r = SoftTargets.evaluate(
            logits: logits, targets: targets.pointer, rows: m, classes: k,
            temperature: temperature,
            labels: labels.pointer, gradient: network.logitGradient, scale: 1 / Float(m))
        network.backward(batch: m)
        return (r.loss, r.correct)
    }

    func complete(_ record: inout EpochRecord) { record.dpEpsilon = teacher.dpEpsilon }

    func finish(epochs: Int) -> Double? { teacher.dpEpsilon }
}

extension NativeModel {
    /// Knowledge distillation with the teacher given (tests put a fixed one in its place): the
    /// student sees the private records only through `teacher`'s outputs.
    func trainDistilled(
        _ data: TrainingData, onEpoch: (EpochRecord) -> Void, teacher: (TrainingData) throws -> TeacherOutputs
    ) throws {
        try run(DistillationStep(self, data, teacher: teacher), data, onEpoch: onEpoch)
    }

    /// Trains the teacher on `data`'s private records (and its held-out and public records, for
    /// the history and for adversarial regularization) and returns its soft targets on the
    /// public records.
    ///
    /// The teacher has this model's options with `epochs` = `teacher_epochs` (when set), no
    /// checkpoints, and its own seed (derived from `data.seed`); it may use DP-SGD or
    /// adversarial regularization.
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
                "distillation: teacher trained \(last.epoch) epochs on \(data.count) private records (train accuracy \(last.trainAccuracy), held-out accuracy \(last.heldoutAccuracy))"
            )
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
}
