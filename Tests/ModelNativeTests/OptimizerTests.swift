import Foundation
import Testing

@testable import ModelNative

/// Runs `steps` updates from p0 with gradients g(t) on two parameters.
func run(_ o: Optimizer, _ p0: [Float], grads: [[Float]], lr: Float) -> [Float] {
    var p = p0
    for g in grads {
        var g = g
        o.step(&p, &g, count: p.count, lr: lr)
    }
    return p
}

@Test func sgdWithMomentumMatchesHandComputedSteps() {
    // p0 = 1, g1 = 0.5, g2 = -1, μ = 0.9, λ = 0.1, η = 0.1
    // step 1: g = 0.5 + 0.1·1 = 0.6; b = 0.6; p = 1 − 0.06 = 0.94
    // step 2: g = −1 + 0.094 = −0.906; b = 0.54 − 0.906 = −0.366; p = 0.94 + 0.0366 = 0.9766
    let o = Optimizer(kind: .sgd, count: 1, momentum: 0.9, nesterov: false, weightDecay: 0.1)
    let p = run(o, [1], grads: [[0.5], [-1]], lr: 0.1)
    #expect(abs(p[0] - 0.9766) < 1e-6)
    // Plain SGD: p = 1 − 0.1·(0.5 + 0) = 0.95
    let plain = Optimizer(kind: .sgd, count: 1, momentum: 0, nesterov: false, weightDecay: 0)
    #expect(abs(run(plain, [1], grads: [[0.5]], lr: 0.1)[0] - 0.95) < 1e-7)
}

@Test func nesterovMatchesHandComputedSteps() {
    // μ = 0.5, η = 1, p0 = 0: step 1: b = 1, p = −(1 + 0.5) = −1.5;
    // step 2 (g = 2): b = 0.5 + 2 = 2.5, p = −1.5 − (2 + 1.25) = −4.75
    let o = Optimizer(kind: .sgd, count: 1, momentum: 0.5, nesterov: true, weightDecay: 0)
    #expect(run(o, [0], grads: [[1], [2]], lr: 1) == [-4.75])
}

@Test func adamMatchesHandComputedSteps() {
    let lr = 0.01
    let g: [[Double]] = [[0.3, -2], [0.1, 1]]
    var p: [Double] = [1, -1]
    var m: [Double] = [0, 0]
    var v: [Double] = [0, 0]
    for (t, gt) in g.enumerated() {
        let step = Double(t + 1)
        for i in 0..<2 {
            let gi = gt[i] + 0.01 * p[i]  // L2 weight decay 0.01
            m[i] = 0.9 * m[i] + 0.1 * gi
            v[i] = 0.999 * v[i] + 0.001 * gi * gi
            let mhat = m[i] / (1 - pow(0.9, step))
            let vhat = v[i] / (1 - pow(0.999, step))
            p[i] -= lr * mhat / (vhat.squareRoot() + 1e-8)
        }
    }
    let o = Optimizer(kind: .adam, count: 2, momentum: 0, nesterov: false, weightDecay: 0.01)
    let q = run(o, [1, -1], grads: g.map { $0.map(Float.init) }, lr: Float(lr))
    for i in 0..<2 { #expect(abs(Double(q[i]) - p[i]) < 1e-6) }
    // The first step moves each parameter by about lr against the sign of its gradient.
    let first = run(
        Optimizer(kind: .adam, count: 2, momentum: 0, nesterov: false, weightDecay: 0), [0, 0], grads: [[0.3, -2]],
        lr: 0.01)
    #expect(abs(first[0] + 0.01) < 1e-6 && abs(first[1] - 0.01) < 1e-6)
}

@Test func adamWDecaysDecoupled() {
    // One step, g = 0: Adam's update is 0, so only the decay p ← p(1 − ηλ) acts.
    let o = Optimizer(kind: .adamw, count: 1, momentum: 0, nesterov: false, weightDecay: 0.5)
    #expect(abs(run(o, [2], grads: [[0]], lr: 0.1)[0] - 1.9) < 1e-6)
    // With the same settings Adam (L2) moves by ≈ lr against the L2 term's sign instead.
    let l2 = Optimizer(kind: .adam, count: 1, momentum: 0, nesterov: false, weightDecay: 0.5)
    #expect(abs(run(l2, [2], grads: [[0]], lr: 0.1)[0] - 1.9) < 1e-5)
    let l2b = Optimizer(kind: .adam, count: 1, momentum: 0, nesterov: false, weightDecay: 0.5)
    #expect(abs(run(l2b, [20], grads: [[0]], lr: 0.1)[0] - 19.9) < 1e-4)
    let wb = Optimizer(kind: .adamw, count: 1, momentum: 0, nesterov: false, weightDecay: 0.5)
    #expect(abs(run(wb, [20], grads: [[0]], lr: 0.1)[0] - 19) < 1e-4)
}

@Test func learningRateSchedules() throws {
    var o = NativeOptions()
    o.learningRate = 0.1
    o.epochs = 4
    o.lrSchedule = .step
    o.lrStepEpochs = 2
    o.lrGamma = 0.5
    #expect([1, 2, 3, 4].map { o.learningRate(epoch: $0) } == [0.1, 0.1, 0.05, 0.05])
    o.lrSchedule = .cosine
    #expect(abs(o.learningRate(epoch: 1) - 0.1) < 1e-12)
    #expect(abs(o.learningRate(epoch: 3) - 0.05) < 1e-12)
}
