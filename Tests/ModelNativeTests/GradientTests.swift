import Kernels
import Testing

@testable import ModelNative

/// A layer with its own parameter, gradient and state arrays, for checking it alone.
final class Harness {
    let layer: Layer
    let batch: Int
    /// Stable memory the layer is bound to (Swift arrays may move; these do not).
    let p: UnsafeMutableBufferPointer<Float>
    let g: UnsafeMutableBufferPointer<Float>
    let s: UnsafeMutableBufferPointer<Float>

    init(_ layer: Layer, batch: Int, seed: UInt64 = 1) {
        self.layer = layer
        self.batch = batch
        p = .allocate(capacity: max(layer.parameterCount, 1))
        g = .allocate(capacity: max(layer.parameterCount, 1))
        s = .allocate(capacity: max(layer.stateCount, 1))
        p.initialize(repeating: 0)
        g.initialize(repeating: 0)
        s.initialize(repeating: 0)
        layer.bind(parameters: p.baseAddress!, gradients: g.baseAddress!, state: s.baseAddress!)
        var rng = SeededRandom(seed: seed)
        layer.initialize(&rng)
        // Move batch-norm parameters off their trivial initial values.
        if layer is BatchNorm {
            for i in 0..<layer.parameterCount { p[i] += Float(rng.nextDouble()) - 0.5 }
        }
        layer.reserve(batch: batch)
    }

    deinit {
        p.deallocate()
        g.deallocate()
        s.deallocate()
    }

    var parameters: [Float] {
        get { Array(p.prefix(layer.parameterCount)) }
        set { for (i, v) in newValue.enumerated() { p[i] = v } }
    }
    var gradients: [Float] { Array(g.prefix(layer.parameterCount)) }
    var state: [Float] { Array(s.prefix(layer.stateCount)) }

    func forward(_ x: [Float], training: Bool = true) -> [Float] {
        var y = [Float](repeating: 0, count: batch * layer.outputShape.count)
        (layer as? Dropout)?.reseed(42)
        layer.forward(x, &y, batch: batch, training: training)
        return y
    }

    /// The loss ⟨r, layer(x)⟩ in Double.
    func loss(_ x: [Float], _ r: [Float]) -> Double {
        zip(forward(x), r).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }
}

/// Checks a layer's backward pass against central finite differences of ⟨r, layer(x)⟩ with
/// respect to every input and parameter. Step 1e-2 in f32 and a tolerance of
/// 2e-3 + 2e-2·|g|: the truncation error is O(h²) for smooth layers, the f32 rounding error
/// about 1e-7·|loss| / h ≈ 1e-4 here.
///
/// `distinct` makes the inputs a shuffled grid with spacing 0.1, so no two are within the step
/// (max pooling's winners then stay put under the perturbation).
func checkGradients(_ make: () -> Layer, batch: Int, distinct: Bool = false, seed: UInt64 = 1) {
    let h = Harness(make(), batch: batch, seed: seed)
    let layer = h.layer
    let n = batch * layer.inputShape.count
    var shuffler = SeededRandom(seed: seed)
    let x =
        distinct
        ? shuffler.permutation(n).map { Float($0) * 0.1 - Float(n) * 0.05 }
        : randomFloats(n, seed: seed + 10)
    let r = randomFloats(batch * layer.outputShape.count, seed: seed + 20)
    var y = h.forward(x)
    var dy = r
    var dx = [Float](repeating: 0, count: x.count)
    layer.backward(x, &y, &dy, &dx, batch: batch)
    let analytic = h.gradients
    let step: Float = 1e-2
    func close(_ numeric: Double, _ exact: Float, _ what: String) {
        let ok = abs(numeric - Double(exact)) <= 2e-3 + 2e-2 * abs(Double(exact))
        #expect(ok, "\(layer.summary) \(what): finite difference \(numeric), backward \(exact)")
    }
    for i in x.indices {
        var plus = x
        plus[i] += step
        var minus = x
        minus[i] -= step
        let numeric: Double = (h.loss(plus, r) - h.loss(minus, r)) / Double(2 * step)
        close(numeric, dx[i], "dx[\(i)]")
    }
    for i in 0..<layer.parameterCount {
        let saved = h.p[i]
        h.p[i] = saved + step
        let lp: Double = h.loss(x, r)
        h.p[i] = saved - step
        let lm: Double = h.loss(x, r)
        h.p[i] = saved
        let numeric: Double = (lp - lm) / Double(2 * step)
        close(numeric, analytic[i], "dθ[\(i)]")
    }
}

func vector(_ n: Int) -> Shape { Shape(height: 1, width: 1, channels: n) }

@Test(arguments: [Activation.identity, .tanh, .sigmoid])
func denseGradients(_ f: Activation) {
    checkGradients({ Dense(input: vector(5), outputs: 4, activation: f) }, batch: 3)
}

@Test func denseReluGradientsAwayFromTheKink() {
    // Inputs and weights are random; a unit whose pre-activation lands within the step of 0
    // would break the check, which this seed avoids (checked by the test itself failing if not).
    checkGradients({ Dense(input: vector(6), outputs: 5, activation: .relu) }, batch: 4, seed: 3)
}

@Test(arguments: [(1, 0, Activation.tanh), (1, 1, .identity), (2, 1, .sigmoid), (2, 0, .tanh)])
func convolutionGradients(_ stride: Int, _ padding: Int, _ f: Activation) {
    checkGradients(
        {
            Conv2D(
                input: Shape(height: 5, width: 4, channels: 2), filters: 3, kernel: 3, stride: stride, padding: padding,
                activation: f)
        },
        batch: 2)
}

@Test func pointwiseConvolutionGradients() {
    checkGradients(
        {
            Conv2D(
                input: Shape(height: 3, width: 3, channels: 4), filters: 2, kernel: 1, stride: 1, padding: 0,
                activation: .tanh)
        }, batch: 2)
}

@Test func poolingGradients() {
    // Max pooling is piecewise linear: inputs 0.1 apart keep every window's winner fixed under
    // a 1e-2 step.
    checkGradients(
        { Pool(input: Shape(height: 4, width: 6, channels: 3), kind: .max, size: 2, stride: 2) }, batch: 2,
        distinct: true)
    checkGradients(
        { Pool(input: Shape(height: 5, width: 5, channels: 2), kind: .max, size: 3, stride: 1) }, batch: 2,
        distinct: true)
    checkGradients(
        { Pool(input: Shape(height: 5, width: 5, channels: 2), kind: .average, size: 2, stride: 2) }, batch: 2)
    checkGradients(
        { Pool(input: Shape(height: 5, width: 5, channels: 2), kind: .average, size: 3, stride: 1) }, batch: 1)
}

@Test(arguments: [Activation.identity, .tanh])
func batchNormGradients(_ f: Activation) {
    checkGradients({ BatchNorm(input: Shape(height: 2, width: 2, channels: 3), activation: f) }, batch: 3)
    checkGradients({ BatchNorm(input: vector(4), activation: f) }, batch: 6)
}

@Test func dropoutGradientsWithAFixedMask() {
    checkGradients({ Dropout(input: vector(20), rate: 0.3) }, batch: 3)
}

@Test func dropoutKeepsTheExpectedShareAndIsTheIdentityInInference() {
    let h = Harness(Dropout(input: vector(1000), rate: 0.25), batch: 4)
    let x = [Float](repeating: 1, count: 4000)
    let y = h.forward(x)
    let kept = y.filter { $0 != 0 }
    #expect(kept.allSatisfy { abs($0 - 4 / 3) < 1e-6 })
    #expect(abs(Double(kept.count) / 4000 - 0.75) < 0.03)
    #expect(h.forward(x, training: false) == x)
}

/// The network's sharded, parallel pass gives the gradients of one whole-batch pass (up to the
/// order of the per-shard sums).
@Test func shardedPassMatchesAWholeBatchPass() {
    let input = Shape(height: 8, width: 8, channels: 2)
    let conv = Conv2D(input: input, filters: 3, kernel: 3, stride: 1, padding: 1, activation: .relu)
    let pool = Pool(input: conv.outputShape, kind: .max, size: 2, stride: 2)
    let conv2 = Conv2D(input: pool.outputShape, filters: 4, kernel: 3, stride: 1, padding: 0, activation: .tanh)
    let dense = Dense(input: conv2.outputShape, outputs: 5, activation: .identity)
    let network = Network(input: input, layers: [conv, pool, conv2, dense])
    network.initialize(seed: 4)
    let batch = 7
    network.reserve(batch: batch)
    let x = randomFloats(batch * input.count, seed: 8)
    let r = randomFloats(batch * 5, seed: 9)
    network.load(x, indices: nil, first: 0, batch: batch)
    network.forward(batch: batch, training: true)
    network.logitGradient.update(from: r, count: r.count)
    network.backward(batch: batch)
    let sharded = Array(UnsafeBufferPointer(start: network.gradients.pointer, count: network.parameterCount))

    // The same layers, whole batch at once, one after the other.
    var acts: [[Float]] = [x]
    for layer in network.layers {
        var y = [Float](repeating: 0, count: batch * layer.outputShape.count)
        layer.forward(acts.last!, &y, batch: batch, training: true)
        acts.append(y)
    }
    var dy = r
    for i in stride(from: 3, through: 0, by: -1) {
        var dx = [Float](repeating: 0, count: batch * network.layers[i].inputShape.count)
        var y = acts[i + 1]
        network.layers[i].backward(acts[i], &y, &dy, &dx, batch: batch)
        dy = dx
    }
    let whole = Array(UnsafeBufferPointer(start: network.gradients.pointer, count: network.parameterCount))
    for (a, b) in zip(sharded, whole) { #expect(abs(a - b) <= 1e-5 * max(1, abs(b))) }
}

@Test(arguments: [(0, Activation.tanh), (1, .identity), (2, .sigmoid)])
func wideConvolutionGradients(_ padding: Int, _ f: Activation) {
    checkGradients(
        {
            Conv2D(
                input: Shape(height: 5, width: 4, channels: 2), filters: 3, kernel: 3, stride: 1, padding: padding,
                activation: f, wide: true)
        },
        batch: 2)
}

@Test func wideAndPlainConvolutionsAgree() {
    let input = Shape(height: 9, width: 7, channels: 3)
    let x = randomFloats(2 * input.count, seed: 3)
    let plain = Harness(
        Conv2D(input: input, filters: 4, kernel: 5, stride: 1, padding: 2, activation: .relu, wide: false), batch: 2)
    let wide = Harness(
        Conv2D(input: input, filters: 4, kernel: 5, stride: 1, padding: 2, activation: .relu, wide: true), batch: 2)
    wide.parameters = plain.parameters
    let a = plain.forward(x)
    let b = wide.forward(x)
    for (u, v) in zip(a, b) { #expect(abs(u - v) <= 1e-5 * max(1, abs(u))) }
}
