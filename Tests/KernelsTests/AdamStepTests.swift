import Kernels
import Testing

/// The Adam update gives the same bits at every vector level (the training fingerprints and the
/// model store rely on it), and the plain level gives the closed form of a first step.

private let levels = VectorLevel.allCases.filter { $0 <= VectorLevel.best(for: .current) }

/// One state of p, g, m, v, with the awkward values spread through it: ±0, subnormals, huge
/// gradients whose square overflows, ±∞ and NaN.
private func state(_ count: Int, seed: UInt64) -> (p: [Float], g: [Float], m: [Float], v: [Float]) {
    var rng = SeededRandom(seed: seed)
    func value(_ i: Int, scale: Float) -> Float {
        switch i % 53 {
        case 3: return -0.0
        case 7: return 0
        case 11: return .leastNonzeroMagnitude
        case 13: return 3e19  // its square overflows to ∞
        case 17: return -.infinity
        case 19: return .nan
        default: return (rng.nextFloat() * 2 - 1) * scale
        }
    }
    let p = (0..<count).map { value($0, scale: 1) }
    let g = (0..<count).map { value($0 &+ 5, scale: 0.1) }
    let m = (0..<count).map { value($0 &+ 9, scale: 0.01) }
    let v = (0..<count).map { abs(value($0 &+ 21, scale: 1e-4)) }
    return (p, g, m, v)
}

private func run(_ step: AdamStep, _ s: (p: [Float], g: [Float], m: [Float], v: [Float]), level: VectorLevel)
    -> [UInt32]
{
    var (p, m, v) = (s.p, s.m, s.v)
    step.apply(&p, s.g, &m, &v, count: p.count, level: level)
    return (p + m + v).map(\.bitPattern)
}

@Test(arguments: [1, 7, 8, 9, 15, 16, 17, 31, 100, 1027])
func adamStepIsTheSameAtEveryLevel(count: Int) {
    let s = state(count, seed: UInt64(count))
    // Adam with L2 at step 3, and AdamW with decoupled decay at step 1000.
    let steps = [
        AdamStep(
            decay: 1, l2: 0.01, beta1: 0.9, beta2: 0.999, stepSize: 1e-3 / (1 - 0.729),
            correction2: (1 - 0.997003).squareRoot(),
            epsilon: 1e-8),
        AdamStep(decay: 1 - 1e-3 * 0.5, l2: 0, beta1: 0.8, beta2: 0.99, stepSize: 2e-3, correction2: 1, epsilon: 1e-6),
    ]
    for step in steps {
        let plain = run(step, s, level: .generic)
        for level in levels where level != .generic {
            let got = run(step, s, level: level)
            let first = got.indices.first { got[$0] != plain[$0] }
            #expect(first == nil, "level \(level), count \(count): first difference at \(first ?? -1) of p, m, v")
        }
    }
}

@Test func adamFirstStepIsTheClosedForm() {
    // From m = v = 0 at t = 1: m = (1−β₁)g, v = (1−β₂)g², and with the bias corrections the step is
    // η·g / (|g| + ε) up to rounding, independent of the betas.
    let g: [Float] = [0.3, -2, 1e-3, 5]
    let (b1, b2, lr): (Float, Float, Float) = (0.9, 0.999, 0.01)
    let step = AdamStep(
        decay: 1, l2: 0, beta1: b1, beta2: b2, stepSize: lr / (1 - b1), correction2: (1 - b2).squareRoot(),
        epsilon: 1e-8)
    for level in levels {
        var p = [Float](repeating: 1, count: g.count)
        var m = [Float](repeating: 0, count: g.count)
        var v = [Float](repeating: 0, count: g.count)
        step.apply(&p, g, &m, &v, count: g.count, level: level)
        for i in g.indices {
            let expected = 1 - Double(lr) * Double(g[i]) / (Double(abs(g[i])) + 1e-8)
            #expect(abs(Double(p[i]) - expected) < 1e-6, "level \(level), g \(g[i]): \(p[i]) vs \(expected)")
            #expect(m[i] == (1 - b1) * g[i] && v[i] == (1 - b2) * (g[i] * g[i]))
        }
    }
}
