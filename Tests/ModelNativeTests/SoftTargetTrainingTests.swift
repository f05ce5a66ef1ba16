import Foundation
import Kernels
import PluginKit
import Testing

@testable import ModelNative

// A distillation student the host asks for through the ABI (1.5 `soft_targets`,
// `TrainingData.softTargets`): the native backend trains on the host's probabilities with the
// loss T²·KL(p ‖ softmax(z / T)), whose gradient in the logits is T·(softmax(z / T) − p).

private let logistic: [String: OptionValue] = [
    "architecture": .string("logistic"), "optimizer": .string("sgd"), "momentum": .double(0),
    "learning_rate": .double(0.5), "weight_decay": .double(0), "shuffle": .bool(false),
]

/// Trains `model` on `x`, `y` with the teacher probabilities `p` at `t` (nil: on the labels).
private func train(
    _ model: NativeModel, _ x: [Float], _ y: [Int32], soft p: [Float]?, temperature t: Double, seed: UInt64 = 7
) throws -> TeacherTargets? {
    try x.withUnsafeBufferPointer { xp in
        try y.withUnsafeBufferPointer { yp in
            try (p ?? []).withUnsafeBufferPointer { pp in
                var data = TrainingData(features: xp, labels: yp, seed: seed)
                data.softTargets = p.map { _ in TeacherTargets(probabilities: pp, temperature: t) }
                try model.train(data) { _ in }
                return data.softTargets
            }
        }
    }
}

private func parameters(_ model: NativeModel) -> [Double] {
    UnsafeBufferPointer(start: model.network.parameters.pointer, count: model.network.parameterCount).map {
        Double($0)
    }
}

/// Probabilities [rows, k]: softmax of seeded random logits (a teacher's soft targets).
private func teacherProbabilities(rows: Int, classes k: Int, seed: UInt64) -> [Float] {
    let z = randomFloats(rows * k, seed: seed).map { 2 * Double($0) }
    var p: [Float] = []
    for r in 0..<rows {
        let row = z[(r * k)..<((r + 1) * k)]
        let m = row.max()!
        let e = row.map { exp($0 - m) }
        let s = e.reduce(0, +)
        p += e.map { Float($0 / s) }
    }
    return p
}

/// One full-batch SGD step of a logistic model (logits z = W x + b, W [k, d] then b [k] in the
/// parameters) against the step written out by hand: W' = W − η/n · Σ_i T(q_i − p_i) x_iᵀ,
/// b' = b − η/n · Σ_i T(q_i − p_i), with q_i = softmax((W x_i + b) / T) from the seeded start.
@Test(arguments: [1.0, 3.0])
func oneSoftTargetStepIsTheHandWrittenGradientStep(_ t: Double) throws {
    let n = 6, d = 4, k = 3
    let (x, y) = syntheticData(count: n, features: d, seed: 11)
    let p = teacherProbabilities(rows: n, classes: k, seed: 12)
    var options = logistic
    options["batch_size"] = .int(n)
    options["epochs"] = .int(0)
    let start = try makeModel(options, shape: [d])
    _ = try train(start, x, y, soft: nil, temperature: t)  // 0 epochs: the seeded initialisation
    let w0 = parameters(start)
    options["epochs"] = .int(1)
    let stepped = try makeModel(options, shape: [d])
    let used = try train(stepped, x, y, soft: p, temperature: t)
    #expect(used?.used == true)

    let eta = 0.5
    var expected = w0
    for i in 0..<n {
        var z = [Double](repeating: 0, count: k)
        for j in 0..<k {
            z[j] = w0[k * d + j]
            for f in 0..<d { z[j] += w0[j * d + f] * Double(x[i * d + f]) }
        }
        let zt = z.map { $0 / t }
        let m = zt.max()!
        let s = zt.map { exp($0 - m) }.reduce(0, +)
        for j in 0..<k {
            let g = t * (exp(zt[j] - m) / s - Double(p[i * k + j])) / Double(n)
            for f in 0..<d { expected[j * d + f] -= eta * g * Double(x[i * d + f]) }
            expected[k * d + j] -= eta * g
        }
    }
    let got = parameters(stepped)
    #expect(got.count == expected.count)
    for (a, b) in zip(got, expected) { #expect(abs(a - b) < 1e-5, "parameter \(a) against \(b)") }
    // The step moved: the labels' step would be another one.
    #expect(zip(got, w0).contains { abs($0 - $1) > 1e-3 })
}

/// The student learns the teacher's probabilities, not the labels: trained long enough on
/// targets whose arg-max disagrees with the labels, its softmax approaches the targets.
@Test func theStudentFitsTheSoftTargetsNotTheLabels() throws {
    let n = 40, d = 5, k = 3
    let (x, y) = syntheticData(count: n, features: d, seed: 21)
    // Targets that put 0.8 on the class after the label.
    var p = [Float](repeating: 0.1, count: n * k)
    for i in 0..<n { p[i * k + (Int(y[i]) + 1) % k] = 0.8 }
    var options = logistic
    options["batch_size"] = .int(8)
    options["epochs"] = .int(60)
    let model = try makeModel(options, shape: [d])
    _ = try train(model, x, y, soft: p, temperature: 1)
    var logits = [Float](repeating: 0, count: n * k)
    try x.withUnsafeBufferPointer { f in
        try logits.withUnsafeMutableBufferPointer { try model.predict(features: f, count: n, into: $0) }
    }
    var agree = 0
    for i in 0..<n {
        let row = logits[(i * k)..<((i + 1) * k)]
        if row.firstIndex(of: row.max()!)! - i * k == (Int(y[i]) + 1) % k { agree += 1 }
    }
    #expect(agree >= n * 9 / 10, "\(agree) of \(n) records follow the soft targets")
}

/// Soft targets with a defence or DP-SGD, or of the wrong size, are refused with a reason.
@Test func softTargetsAreRefusedWhereThePlainStudentStepCannotRun() throws {
    let n = 10, d = 4, k = 3
    let (x, y) = syntheticData(count: n, features: d, seed: 1)
    let p = teacherProbabilities(rows: n, classes: k, seed: 2)
    var dp = logistic
    dp["dp_sgd"] = .bool(true)
    #expect {
        _ = try train(try makeModel(dp, shape: [d]), x, y, soft: p, temperature: 1)
    } throws: { "\($0)".contains("dp_sgd") }
    #expect {
        _ = try train(try makeModel(logistic, shape: [d]), x, y, soft: Array(p.dropLast()), temperature: 1)
    } throws: { "\($0)".contains("expected [\(n), \(k)]") }
}
