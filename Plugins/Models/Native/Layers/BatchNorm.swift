import Kernels

/// Batch normalisation per channel, with a fused activation: `y = f(γ x̂ + β)`.
///
/// Training normalises with the batch's statistics and updates running estimates
/// (`r ← (1 − m) r + m · batch`, m = 0.1, the variance unbiased by N / (N − 1), as PyTorch
/// does); inference uses the running estimates. Parameters γ (init 1), β (init 0); state: running
/// mean (init 0) and variance (init 1), saved with the model.
final class BatchNorm: Layer {
    let inputShape: Shape
    var outputShape: Shape { inputShape }
    let activation: Activation
    let epsilon: Float = 1e-5
    let momentum: Float = 0.1
    var channels: Int { inputShape.channels }
    private var gamma: UnsafeMutablePointer<Float>!
    private var beta: UnsafeMutablePointer<Float>!
    private var dGamma: UnsafeMutablePointer<Float>!
    private var dBeta: UnsafeMutablePointer<Float>!
    private var runningMean: UnsafeMutablePointer<Float>!
    private var runningVariance: UnsafeMutablePointer<Float>!
    private let stats: Buffer<Float>
    private let scratch: Buffer<Double>
    private var xhat: Buffer<Float>?

    init(input: Shape, activation: Activation) {
        inputShape = input
        self.activation = activation
        stats = Buffer(3 * input.channels)
        scratch = Buffer(2 * input.channels, zero: 0)
    }

    var parameterCount: Int { 2 * channels }
    var stateCount: Int { 2 * channels }
    var summary: String { "batchnorm(\(inputShape), \(activation.rawValue))" }

    func bind(
        parameters: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>,
        state: UnsafeMutablePointer<Float>
    ) {
        gamma = parameters
        beta = parameters + channels
        dGamma = gradients
        dBeta = gradients + channels
        runningMean = state
        runningVariance = state + channels
    }

    func initialize(_ rng: inout SeededRandom) {
        gamma.update(repeating: 1, count: channels)
        beta.update(repeating: 0, count: channels)
        runningMean.update(repeating: 0, count: channels)
        runningVariance.update(repeating: 1, count: channels)
    }

    func reserve(batch: Int) {
        if (xhat?.count ?? 0) < batch * inputShape.count { xhat = Buffer(batch * inputShape.count) }
    }

    func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int, training: Bool) {
        let layout = BatchNormalization.Layout(
            batch: batch, channels: channels, plane: inputShape.height * inputShape.width)
        let rows = layout.perChannel
        if training {
            let mean = stats.pointer
            let variance = mean + channels
            let invStd = variance + channels
            BatchNormalization.forwardTraining(
                x, layout, gamma: gamma, beta: beta, epsilon: epsilon, y: y,
                xhat: xhat!.pointer, mean: mean, variance: variance, invStd: invStd, scratch: scratch.pointer)
            let unbias = rows > 1 ? Float(rows) / Float(rows - 1) : 1
            for c in 0..<channels {
                runningMean[c] = (1 - momentum) * runningMean[c] + momentum * mean[c]
                runningVariance[c] = (1 - momentum) * runningVariance[c] + momentum * variance[c] * unbias
            }
        } else {
            BatchNormalization.forwardInference(
                x, layout, gamma: gamma, beta: beta, runningMean: runningMean,
                runningVariance: runningVariance, epsilon: epsilon, y: y)
        }
        Pointwise.activate(y, count: batch * inputShape.count, activation)
    }

    func backward(
        _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dy: UnsafeMutablePointer<Float>,
        _ dx: UnsafeMutablePointer<Float>?, batch: Int
    ) {
        let layout = BatchNormalization.Layout(
            batch: batch, channels: channels, plane: inputShape.height * inputShape.width)
        Pointwise.activationBackward(dy, output: y, count: batch * inputShape.count, activation)
        BatchNormalization.backward(
            dy, xhat: xhat!.pointer, invStd: stats.pointer + 2 * channels, gamma: gamma, layout, dx: dx,
            dGamma: dGamma, dBeta: dBeta, scratch: scratch.pointer)
    }
}
