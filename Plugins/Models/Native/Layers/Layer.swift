import Kernels

/// One layer of the native network.
///
/// Layers work on a batch of records stored contiguously, each record channels-first [C, H, W]. Parameters
/// live in the network's one flat array (so one optimizer loop updates them all): a layer is
/// given its slice by `bind`. Gradients are written, not accumulated: `backward` overwrites its
/// slice of the gradient array.
protocol Layer: AnyObject {
    var inputShape: Shape { get }
    var outputShape: Shape { get }
    /// Number of trained parameters (floats).
    var parameterCount: Int { get }
    /// Number of saved, untrained floats (batch-norm running statistics).
    var stateCount: Int { get }
    /// One line naming the layer and its sizes; part of the model file's architecture check.
    var summary: String { get }

    /// Gives the layer its slices of the parameter, gradient and state arrays.
    func bind(
        parameters: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>,
        state: UnsafeMutablePointer<Float>)
    /// Sets the initial parameters and state (the `he` scheme).
    func initialize(_ rng: inout SeededRandom)
    /// Sets the initial parameters and state with `scheme`; layers without weights, or whose
    /// initialisation has no choice, ignore it (the default calls `initialize(_:)`).
    func initialize(_ rng: inout SeededRandom, scheme: WeightInit)
    /// Allocates scratch for batches of up to `batch` records.
    func reserve(batch: Int)
    /// `y` [batch, outputShape] from `x` [batch, inputShape].
    func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int, training: Bool)
    /// From `dy` (∂loss/∂y; the layer may overwrite it), writes its parameter gradients and,
    /// when `dx` is not nil, ∂loss/∂x. `x` and `y` are the ones of the last training forward.
    func backward(
        _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dy: UnsafeMutablePointer<Float>,
        _ dx: UnsafeMutablePointer<Float>?, batch: Int)
}

/// A layer that computes each record on its own (no batch statistics, no random stream), so
/// the network can cut a batch into shards and run them on parallel threads.
///
/// A shard writes only its records' outputs and its own partial parameter gradients;
/// `reduceGradients` then sums the partials in shard order, so the result does not depend on
/// the threads.
protocol RecordLayer: Layer {
    /// Allocates scratch for `shards` shards of a batch of up to `batch` records.
    func reserve(batch: Int, shards: Int)
    /// `y` from `x` for `records` of the batch (`x`, `y` point at the batch's first record).
    func forward(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, records: Range<Int>, shard: Int, training: Bool)
    /// Overwrites shard `shard`'s partial gradients with the ones of `records` and writes their `dx`.
    func backward(
        _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dy: UnsafeMutablePointer<Float>,
        _ dx: UnsafeMutablePointer<Float>?, records: Range<Int>, shard: Int)
    /// Sets the gradient to the sum of the first `shards` partials, in shard order.
    func reduceGradients(shards: Int)
    /// The largest m·n·k of the GEMMs one record needs (0: none).
    var largestProduct: Int { get }
}

extension RecordLayer {
    func reserve(batch: Int) { reserve(batch: batch, shards: 1) }
    func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int, training: Bool) {
        forward(x, y, records: 0..<batch, shard: 0, training: training)
    }
    func backward(
        _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dy: UnsafeMutablePointer<Float>,
        _ dx: UnsafeMutablePointer<Float>?, batch: Int
    ) {
        backward(x, y, dy, dx, records: 0..<batch, shard: 0)
        reduceGradients(shards: 1)
    }
}

extension Layer {
    var stateCount: Int { 0 }
    func bind(
        parameters: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>,
        state: UnsafeMutablePointer<Float>
    ) {}
    func initialize(_ rng: inout SeededRandom) {}
    func initialize(_ rng: inout SeededRandom, scheme: WeightInit) { initialize(&rng) }
    func reserve(batch: Int) {}
}

/// How dense and convolution layers draw their initial weights and biases (option `init`).
///
/// - `he`: weights U(−b, b), `b = √(3 · gain² / fanIn)` (variance `gain² / fanIn`: He's for
///   ReLU, gain² = 2; LeCun's otherwise, gain² = 1); biases 0.
/// - `torch`: PyTorch's default for `nn.Linear` / `nn.Conv2d` (`kaiming_uniform_(a: √5)`):
///   weights and biases U(−b, b) with `b = 1 / √fanIn` (variance `1 / (3 · fanIn)`, a sixth of
///   He's for ReLU layers), biases drawn after the layer's weights.
enum WeightInit: String, CaseIterable {
    case he, torch
}

/// Fills a layer's weights `w` [count] and biases `b` [biases] by `scheme` (see `WeightInit`).
func initializeLayer(
    weights w: UnsafeMutablePointer<Float>, count: Int, biases b: UnsafeMutablePointer<Float>, biasCount: Int,
    fanIn: Int,
    activation: Activation, scheme: WeightInit, _ rng: inout SeededRandom
) {
    switch scheme {
    case .he:
        initializeUniform(w, count: count, fanIn: fanIn, activation: activation, &rng)
        b.update(repeating: 0, count: biasCount)
    case .torch:
        let bound = 1 / Double(max(fanIn, 1)).squareRoot()
        for i in 0..<count { w[i] = Float((2 * rng.nextDouble() - 1) * bound) }
        for i in 0..<biasCount { b[i] = Float((2 * rng.nextDouble() - 1) * bound) }
    }
}

/// Fills `w` with U(−b, b), `b = √(3 · gain² / fanIn)`: variance `gain² / fanIn`, He's for
/// ReLU (gain² = 2) and LeCun's otherwise (gain² = 1).
func initializeUniform(
    _ w: UnsafeMutablePointer<Float>, count: Int, fanIn: Int, activation: Activation, _ rng: inout SeededRandom
) {
    let gain2: Double = activation == .relu ? 2 : 1
    let bound = (3 * gain2 / Double(max(fanIn, 1))).squareRoot()
    for i in 0..<count { w[i] = Float((2 * rng.nextDouble() - 1) * bound) }
}
