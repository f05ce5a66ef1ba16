import Foundation
import Kernels
import PluginKit
import Testing

@testable import ModelNative

/// softmax(v) in Double.
private func softmax(_ v: [Double]) -> [Double] {
    let m = v.max()!
    let e = v.map { exp($0 - m) }
    let s = e.reduce(0, +)
    return e.map { $0 / s }
}

/// T² · KL(p ‖ softmax(z / T)) of one row, in Double: the soft-target loss written anew.
private func distillationLoss(_ z: [Double], _ p: [Double], _ t: Double) -> Double {
    let zt = z.map { $0 / t }
    let m = zt.max()!
    let lse = m + log(zt.map { exp($0 - m) }.reduce(0, +))
    return t * t * zip(p, zt).reduce(0.0) { $0 + ($1.0 > 0 ? $1.0 * (log($1.0) - ($1.1 - lse)) : 0) }
}

/// Runs `body` with a training's views of the given arrays.
private func withData<R>(
    _ x: [Float], _ y: [Int32], public px: [Float]? = nil, _ py: [Int32]? = nil, heldout: ([Float], [Int32])? = nil,
    seed: UInt64,
    _ body: (TrainingData) throws -> R
) rethrows -> R {
    try x.withUnsafeBufferPointer { xp in
        try y.withUnsafeBufferPointer { yp in
            try (px ?? []).withUnsafeBufferPointer { pxp in
                try (py ?? []).withUnsafeBufferPointer { pyp in
                    try (heldout?.0 ?? []).withUnsafeBufferPointer { hxp in
                        try (heldout?.1 ?? []).withUnsafeBufferPointer { hyp in
                            try body(
                                TrainingData(
                                    features: xp, labels: yp, heldoutFeatures: heldout == nil ? nil : hxp,
                                    heldoutLabels: heldout == nil ? nil : hyp, seed: seed,
                                    auxiliaryFeatures: px == nil ? nil : pxp,
                                    auxiliaryLabels: py == nil ? nil : pyp))
                        }
                    }
                }
            }
        }
    }
}

private func weights(_ model: NativeModel) -> [Float] {
    Array(UnsafeBufferPointer(start: model.network.parameters.pointer, count: model.network.parameterCount))
}

// MARK: Distillation

@Test(arguments: [1.0, 4.0])
func softTargetLossAndGradientMatchADoubleComputation(_ t: Double) {
    let k = 5
    let rows = 3
    let z = randomFloats(rows * k, seed: 31).map { 3 * $0 }
    var teacher = randomFloats(rows * k, seed: 32).map { 4 * $0 }
    SoftTargets.soften(&teacher, rows: rows, classes: k, temperature: Float(t))
    var gradient = [Float](repeating: 0, count: rows * k)
    let r = SoftTargets.evaluate(
        logits: z, targets: teacher, rows: rows, classes: k, temperature: Float(t), gradient: &gradient, scale: 1)
    var expected = 0.0
    for row in 0..<rows {
        let zr = (0..<k).map { Double(z[row * k + $0]) }
        let pr = (0..<k).map { Double(teacher[row * k + $0]) }
        #expect(abs(pr.reduce(0, +) - 1) < 1e-6)
        expected += distillationLoss(zr, pr, t)
        // Central differences of the Double loss, step 1e-4: truncation ~1e-8, rounding ~1e-12.
        for j in 0..<k {
            var plus = zr
            plus[j] += 1e-4
            var minus = zr
            minus[j] -= 1e-4
            let numeric = (distillationLoss(plus, pr, t) - distillationLoss(minus, pr, t)) / 2e-4
            let analytic = Double(gradient[row * k + j])
            #expect(
                abs(numeric - analytic) <= 1e-5 + 1e-4 * abs(numeric),
                "row \(row) class \(j): \(numeric) vs \(analytic)")
        }
    }
    #expect(abs(r.loss - expected) <= 1e-5 * max(1, expected))
    // A student whose tempered softmax equals the targets has loss 0 and gradient 0.
    let matched = teacher.map { Float(t) * logf($0) }
    let m = SoftTargets.evaluate(
        logits: matched, targets: teacher, rows: rows, classes: k, temperature: Float(t), gradient: &gradient)
    #expect(abs(m.loss) < 1e-5)
    #expect(gradient.allSatisfy { abs($0) < 1e-5 })
}

@Test func softenIsTheTemperedSoftmax() {
    let logits = randomFloats(8, seed: 4).map { 10 * $0 }
    var z = logits
    SoftTargets.soften(&z, rows: 2, classes: 4, temperature: 3)
    let expected = softmax((0..<4).map { Double(logits[$0]) / 3 }) + softmax((4..<8).map { Double(logits[$0]) / 3 })
    for (a, b) in zip(z, expected) { #expect(abs(Double(a) - b) < 1e-6) }
}

private let distilled: [String: OptionValue] = [
    "architecture": .string("mlp"), "hidden_sizes": .list([.int(8)]), "epochs": .int(3), "batch_size": .int(16),
    "distillation": .bool(true), "distillation_temperature": .double(3), "teacher_epochs": .int(4),
]

@Test func distillationWithoutPublicRecordsIsRefusedNamingTheConfigKey() throws {
    let (x, y) = syntheticData(count: 40, features: 6, seed: 1)
    for publicRecords in [nil, 0] as [Int?] {
        let model = try makeModel(distilled, shape: [6])
        let px = publicRecords.map { [Float](repeating: 0, count: $0 * 6) }
        let py = publicRecords.map { [Int32](repeating: 0, count: $0) }
        #expect {
            try withData(x, y, public: px, py, seed: 1) { try model.train($0) { _ in } }
        } throws: { error in
            "\(error)".contains("dataset.public_records") && "\(error)".contains("distillation")
        }
    }
    var adversarial: [String: OptionValue] = ["hidden_sizes": .list([.int(4)]), "epochs": .int(1)]
    adversarial["adversarial_regularization"] = .double(1)
    let model = try makeModel(adversarial, shape: [6])
    #expect {
        try withData(x, y, seed: 1) { try model.train($0) { _ in } }
    } throws: { error in
        "\(error)".contains("dataset.public_records") && "\(error)".contains("adversarial_regularization")
    }
}

/// The student sees the private records only through the teacher: with the teacher's outputs
/// held fixed, two different private sets give bit-identical students; different outputs give
/// a different student.
@Test func theStudentDependsOnThePrivateRecordsOnlyThroughTheTeacher() throws {
    let (px, py) = syntheticData(count: 48, features: 6, seed: 2)
    let (x1, y1) = syntheticData(count: 40, features: 6, seed: 3)
    let (x2, _) = syntheticData(count: 25, features: 6, seed: 4)
    let y2 = [Int32](repeating: 2, count: 25)
    var soft = randomFloats(48 * 3, seed: 5).map { 3 * $0 }
    SoftTargets.soften(&soft, rows: 48, classes: 3, temperature: 3)
    func student(_ x: [Float], _ y: [Int32], _ targets: [Float]) throws -> [Float] {
        let model = try makeModel(distilled, shape: [6])
        var seen = 0
        try withData(x, y, public: px, py, seed: 9) { data in
            try model.trainDistilled(data, onEpoch: { _ in }) { given in
                seen = given.count
                return TeacherOutputs(softTargets: targets, dpEpsilon: nil)
            }
        }
        #expect(seen == y.count)  // the teacher did get the private records
        return weights(model)
    }
    let a = try student(x1, y1, soft)
    let b = try student(x2, y2, soft)
    #expect(a == b)
    var other = soft
    other.swapAt(0, 1)
    #expect(try student(x1, y1, other) != a)
}

/// The real teacher is the private records' model: its soft targets are softmax(z / T) of a
/// plain model trained on them with the teacher's seed and `teacher_epochs`.
@Test func theTeacherIsAPlainModelOfThePrivateRecords() throws {
    let (px, py) = syntheticData(count: 30, features: 6, seed: 2)
    let (x, y) = syntheticData(count: 40, features: 6, seed: 3)
    let model = try makeModel(distilled, shape: [6])
    let outputs = try withData(x, y, public: px, py, seed: 9) { try model.teach($0) }
    var plainOptions = distilled
    plainOptions["distillation"] = .bool(false)
    plainOptions["epochs"] = .int(4)
    let plain = try makeModel(plainOptions, shape: [6])
    var seeds = SeededRandom.derive(seed: 9, 3)
    try withData(x, y, seed: seeds.next()) { try plain.train($0) { _ in } }
    var logits = [Float](repeating: 0, count: 30 * 3)
    try px.withUnsafeBufferPointer { f in
        try logits.withUnsafeMutableBufferPointer { try plain.predict(features: f, count: 30, into: $0) }
    }
    for r in 0..<30 {
        let expected = softmax((0..<3).map { Double(logits[r * 3 + $0]) / 3 })
        for j in 0..<3 { #expect(abs(Double(outputs.softTargets[r * 3 + j]) - expected[j]) < 1e-6) }
    }
}

// MARK: Adversarial regularization

/// y = f(x Wᵀ + b) for the dense layers of a network, in Double, from its flat parameters.
private func denseForward(_ network: Network, _ input: [Double], hiddenActivation: (Double) -> Double) -> [Double] {
    var a = input
    var offset = 0
    let p = network.parameters.pointer
    for (i, layer) in network.layers.enumerated() {
        let dense = layer as! Dense
        var out = [Double](repeating: 0, count: dense.outputs)
        for o in 0..<dense.outputs {
            var s = Double(p[offset + dense.outputs * dense.inputs + o])
            for j in 0..<dense.inputs { s += Double(p[offset + o * dense.inputs + j]) * a[j] }
            out[o] = i == network.layers.count - 1 ? s : hiddenActivation(s)
        }
        offset += dense.parameterCount
        a = out
    }
    return a
}

/// The whole chain J(θ) = (1/m) Σ_r [CE(z_r, y_r) + λ log σ(h([softmax(z_r), onehot(y_r)]))],
/// z_r = f_θ(x_r), written anew in Double.
private func regularizedObjective(
    _ classifier: Network, _ inference: InferenceModel, _ x: [Float], _ y: [Int32], features d: Int, classes k: Int,
    lambda: Double
) -> Double {
    let m = y.count
    var total = 0.0
    for r in 0..<m {
        let z = denseForward(classifier, (0..<d).map { Double(x[r * d + $0]) }, hiddenActivation: tanh)
        let p = softmax(z)
        let ce = -log(p[Int(y[r])])
        let u = p + (0..<k).map { $0 == Int(y[r]) ? 1.0 : 0.0 }
        let a = denseForward(inference.network, u, hiddenActivation: tanh)[0]
        let logH = -log1p(exp(-a))
        total += ce + lambda * logH
    }
    return total / Double(m)
}

@Test func adversarialGainGradientMatchesFiniteDifferencesThroughTheWholeChain() throws {
    let d = 5
    let k = 3
    let m = 6
    let model = try makeModel(
        ["hidden_sizes": .list([.int(4)]), "activation": .string("tanh")], shape: [d], classes: k)
    let network = model.network
    network.initialize(seed: 3)
    network.reserve(batch: m)
    // tanh in h as in the classifier, so the finite differences meet no kink.
    let inference = InferenceModel(classes: k, hiddenSizes: [6], activation: .tanh, learningRate: 1e-3)
    inference.initialize(seed: 4)
    inference.reserve(rows: 2 * m)
    // Larger weights in h's last layer, so the gain term is not negligible next to CE.
    let hp = inference.network.parameters.pointer
    for i in 0..<inference.network.parameterCount { hp[i] *= 3 }
    let x = randomFloats(m * d, seed: 6).map { 2 * $0 }
    let y: [Int32] = (0..<m).map { Int32($0 % k) }
    let indices: [Int32] = (0..<m).map { Int32($0) }
    var labels = [Int32](repeating: 0, count: m)
    let lambda = 2.0
    for lam in [0.0, lambda] {
        let r = model.regularizedGradient(
            x, y, indices: indices, first: 0, count: m, labels: &labels, inference: inference, lambda: Float(lam),
            smoothing: 0)
        let analytic = weights(model).indices.map { network.gradients.pointer[$0] }
        // The returned gain is the Double chain's gain term.
        let gainOnly =
            regularizedObjective(network, inference, x, y, features: d, classes: k, lambda: 1)
            - regularizedObjective(network, inference, x, y, features: d, classes: k, lambda: 0)
        #expect(abs(r.gain - gainOnly) < 1e-5)
        let p = network.parameters.pointer
        var largest = 0.0
        for i in 0..<network.parameterCount {
            let saved = p[i]
            p[i] = saved + 1e-3
            let plusStep = Double(p[i])
            let jp = regularizedObjective(network, inference, x, y, features: d, classes: k, lambda: lam)
            p[i] = saved - 1e-3
            let minusStep = Double(p[i])
            let jm = regularizedObjective(network, inference, x, y, features: d, classes: k, lambda: lam)
            p[i] = saved
            let numeric = (jp - jm) / (plusStep - minusStep)
            largest = max(largest, abs(numeric))
            #expect(
                abs(numeric - Double(analytic[i])) <= 2e-5 + 2e-3 * abs(numeric),
                "λ \(lam), parameter \(i): finite difference \(numeric), backward \(analytic[i])")
        }
        #expect(largest > 1e-2)
    }
}

/// h's training step lowers its loss on a fixed batch (it ascends the gain).
@Test func inferenceModelStepsRaiseItsGain() {
    let k = 3
    let inference = InferenceModel(classes: k, hiddenSizes: [8], learningRate: 1e-2)
    inference.initialize(seed: 2)
    inference.reserve(rows: 16)
    // Members confident and right, references spread out: separable.
    let confident = (0..<8).flatMap { r in (0..<k).map { $0 == r % k ? Float(5) : 0 } }
    let spread = randomFloats(8 * k, seed: 3).map { 0.3 * $0 }
    let labels: [Int32] = (0..<8).map { Int32($0 % k) }
    inference.setInputs(logits: confident, labels: labels, rows: 8, offset: 0)
    inference.setInputs(logits: spread, labels: labels, rows: 8, offset: 8)
    let first = inference.trainStep(members: 8, references: 8)
    var last = first
    for _ in 0..<100 {
        inference.setInputs(logits: confident, labels: labels, rows: 8, offset: 0)
        inference.setInputs(logits: spread, labels: labels, rows: 8, offset: 8)
        last = inference.trainStep(members: 8, references: 8)
    }
    #expect(last < 0.5 * first)
    inference.setInputs(logits: confident, labels: labels, rows: 8, offset: 0)
    inference.setInputs(logits: spread, labels: labels, rows: 8, offset: 8)
    let h = inference.probabilities(rows: 16)
    #expect(h[0..<8].allSatisfy { $0 > 0.5 } && h[8..<16].allSatisfy { $0 < 0.5 })
}

/// Both defences run on each architecture family and give a model that predicts; seeds make
/// them deterministic.
@Test(arguments: ["mlp", "lenet5", "cnn"])
func defencesComposeWithTheArchitectures(_ architecture: String) throws {
    let shape = [1, 12, 12]
    let (x, y) = syntheticData(count: 24, features: 144, seed: 1)
    let (px, py) = syntheticData(count: 20, features: 144, seed: 2)
    var base: [String: OptionValue] = [
        "architecture": .string(architecture), "hidden_sizes": .list([.int(8)]), "cnn_channels": .list([.int(4)]),
        "cnn_blocks": .int(2), "dense_width": .int(8), "epochs": .int(1), "batch_size": .int(8),
        "dropout": .double(0.2),
    ]
    for defence in ["distillation", "adversarial_regularization"] {
        var options = base
        options[defence] = defence == "distillation" ? .bool(true) : .double(0.5)
        var runs: [[Float]] = []
        for _ in 0..<2 {
            let model = try makeModel(options, shape: shape)
            var history: [EpochRecord] = []
            try withData(x, y, public: px, py, heldout: (px, py), seed: 5) {
                try model.train($0) { history.append($0) }
            }
            #expect(history.count == 1 && history[0].heldoutLoss.isFinite && history[0].dpEpsilon == nil)
            var logits = [Float](repeating: 0, count: 3 * 3)
            try x.withUnsafeBufferPointer { f in
                try logits.withUnsafeMutableBufferPointer {
                    try model.predict(features: UnsafeBufferPointer(rebasing: f[0..<(3 * 144)]), count: 3, into: $0)
                }
            }
            #expect(logits.allSatisfy { $0.isFinite })
            runs.append(weights(model))
        }
        #expect(runs[0] == runs[1], "\(architecture) \(defence) is not deterministic")
    }
    base["dp_sgd"] = .bool(true)
    base["adversarial_regularization"] = .double(1)
    #expect(throws: PluginError.self) { try makeModel(base, shape: shape) }
}

// MARK: DP epsilon in the history

@Test func everyDPSGDEpochRecordCarriesTheAccountantsEpsilon() throws {
    let (x, y) = syntheticData(count: 64, features: 6, seed: 1)
    let options: [String: OptionValue] = [
        "hidden_sizes": .list([.int(4)]), "epochs": .int(3), "batch_size": .int(16), "dp_sgd": .bool(true),
        "dp_noise_multiplier": .double(1.1), "dp_delta": .double(1e-5),
    ]
    let model = try makeModel(options, shape: [6])
    var history: [EpochRecord] = []
    try withData(x, y, seed: 2) { try model.train($0) { history.append($0) } }
    #expect(history.count == 3)
    for record in history {
        // q = 16 / 64, round(64 / 16) = 4 steps an epoch.
        let expected = RDPAccountant.epsilon(q: 0.25, sigma: 1.1, steps: 4 * record.epoch, delta: 1e-5).epsilon
        #expect(record.dpEpsilon == expected)
    }
    #expect(history.last?.dpEpsilon == model.dpEpsilon)
    #expect(history[0].dpEpsilon! < history[2].dpEpsilon!)

    // A distilled student of a DP-SGD teacher reports the teacher's ε (post-processing).
    var teacher = options
    teacher["distillation"] = .bool(true)
    teacher["teacher_epochs"] = .int(2)
    let (px, py) = syntheticData(count: 20, features: 6, seed: 3)
    let student = try makeModel(teacher, shape: [6])
    var studentHistory: [EpochRecord] = []
    try withData(x, y, public: px, py, seed: 2) { try student.train($0) { studentHistory.append($0) } }
    let teacherEpsilon = RDPAccountant.epsilon(q: 0.25, sigma: 1.1, steps: 8, delta: 1e-5).epsilon
    #expect(studentHistory.count == 3 && studentHistory.allSatisfy { $0.dpEpsilon == teacherEpsilon })

    // Not DP: no ε.
    let plain = try makeModel(["hidden_sizes": .list([.int(4)]), "epochs": .int(2)], shape: [6])
    var plainHistory: [EpochRecord] = []
    try withData(x, y, seed: 2) { try plain.train($0) { plainHistory.append($0) } }
    #expect(plainHistory.allSatisfy { $0.dpEpsilon == nil })
}

// MARK: Leakage, measured

/// The loss attack's AUC: the probability that a random non-member's cross-entropy is above a
/// random member's (ties count half).
private func lossAttackAUC(
    _ model: NativeModel, members: ([Float], [Int32]), nonMembers: ([Float], [Int32]), classes k: Int
) throws -> Double {
    func losses(_ x: [Float], _ y: [Int32]) throws -> [Double] {
        var logits = [Float](repeating: 0, count: y.count * k)
        try x.withUnsafeBufferPointer { f in
            try logits.withUnsafeMutableBufferPointer { try model.predict(features: f, count: y.count, into: $0) }
        }
        return y.indices.map { i in
            let z = (0..<k).map { Double(logits[i * k + $0]) }
            return -log(softmax(z)[Int(y[i])])
        }
    }
    let inside = try losses(members.0, members.1)
    let outside = try losses(nonMembers.0, nonMembers.1)
    var wins = 0.0
    for a in outside { for b in inside { wins += a > b ? 1 : a == b ? 0.5 : 0 } }
    return wins / Double(inside.count * outside.count)
}

/// Records of `syntheticData` with a share of labels replaced at random: noise a model can only
/// memorise, which is what the loss attack reads.
private func noisyData(count: Int, seed: UInt64) -> ([Float], [Int32]) {
    var (x, y) = syntheticData(count: count, features: 30, seed: seed)
    var rng = SeededRandom(seed: seed + 100)
    for i in y.indices where rng.nextDouble() < 0.5 { y[i] = Int32(rng.nextInt(below: 3)) }
    return (x, y)
}

/// On a small noisy task trained long, the undefended model leaks (loss-attack AUC well above
/// 0.5); a distilled student (T = 1), which never trained on the members, and an adversarially
/// regularized model (λ = 3) leak clearly less. Measured over training seeds 4-7: undefended
/// 0.94-0.97, distilled 0.78-0.83, adversarial 0.49-0.80; the test asserts a margin of 0.1.
@Test(arguments: [4, 5] as [UInt64])
func defendedModelsLeakLessThanTheUndefendedOne(_ seed: UInt64) throws {
    let members = noisyData(count: 60, seed: 1)
    let nonMembers = noisyData(count: 60, seed: 2)
    let publicRecords = noisyData(count: 200, seed: 3)
    let base: [String: OptionValue] = [
        "hidden_sizes": .list([.int(64)]), "epochs": .int(60), "batch_size": .int(20), "learning_rate": .double(0.01),
    ]
    var aucs: [String: Double] = [:]
    for (name, extra) in [
        ("undefended", [:]),
        ("distilled", ["distillation": OptionValue.bool(true), "distillation_temperature": .double(1)]),
        ("adversarial", ["adversarial_regularization": .double(3)]),
    ] {
        let model = try makeModel(base.merging(extra) { $1 }, shape: [30])
        try withData(members.0, members.1, public: publicRecords.0, publicRecords.1, seed: seed) {
            try model.train($0) { _ in }
        }
        aucs[name] = try lossAttackAUC(model, members: members, nonMembers: nonMembers, classes: 3)
    }
    #expect(aucs["undefended"]! > 0.85, "\(aucs)")
    #expect(aucs["undefended"]! - aucs["distilled"]! > 0.1, "\(aucs)")
    #expect(aucs["undefended"]! - aucs["adversarial"]! > 0.1, "\(aucs)")
}
