import Kernels

/// A chain of layers with every buffer of a training allocated up front.
///
/// Parameters, their gradients and the layers' saved state each live in one flat array, in
/// layer order: the optimizer updates all parameters in one loop and the model file stores the
/// arrays as they are. Records enter in the dataset's layout ([C, H, W] or [D]) and are turned
/// channels-last on the way in (`load`).
final class Network {
    /// One record as the dataset gives it: channels, height, width (a vector is D×1×1).
    let inputChannels: Int
    let input: Shape
    let layers: [Layer]
    let parameters: Buffer<Float>
    let gradients: Buffer<Float>
    let state: Buffer<Float>
    /// Largest batch the buffers hold.
    private(set) var capacity = 0
    /// activations[0] is the input batch, activations[i + 1] the output of layer i.
    private var activations: [Buffer<Float>] = []
    /// deltas[i] is ∂loss/∂activations[i]; deltas[0] is never computed.
    private var deltas: [Buffer<Float>] = []

    init(input: Shape, layers: [Layer]) {
        self.input = input
        inputChannels = input.channels
        self.layers = layers
        let p = layers.reduce(0) { $0 + $1.parameterCount }
        let s = layers.reduce(0) { $0 + $1.stateCount }
        parameters = Buffer(p)
        gradients = Buffer(p)
        state = Buffer(s)
        var po = 0
        var so = 0
        for layer in layers {
            layer.bind(parameters: parameters.pointer + po, gradients: gradients.pointer + po, state: state.pointer + so)
            po += layer.parameterCount
            so += layer.stateCount
        }
    }

    var classCount: Int { layers.last?.outputShape.count ?? input.count }
    var parameterCount: Int { parameters.count }
    var stateCount: Int { state.count }

    /// The architecture as text: input, classes and every layer with its sizes.
    var description: String {
        (["input \(input)", "classes \(classCount)"] + layers.map(\.summary)).joined(separator: "; ")
    }

    /// Initial parameters and state from `seed`; dropout layers get their own streams.
    func initialize(seed: UInt64) {
        var rng = SeededRandom.derive(seed: seed, 0)
        for (i, layer) in layers.enumerated() {
            layer.initialize(&rng)
            if let dropout = layer as? Dropout {
                var stream = SeededRandom.derive(seed: seed, 1000 + UInt64(i))
                dropout.reseed(stream.next())
            }
        }
    }

    /// Makes every buffer hold batches of `batch` records. Allocates only when it grows.
    func reserve(batch: Int) {
        guard batch > capacity else { return }
        capacity = batch
        activations = [Buffer(batch * input.count)] + layers.map { Buffer(batch * $0.outputShape.count) }
        deltas = [Buffer(0)] + layers.map { Buffer(batch * $0.outputShape.count) }
        for layer in layers { layer.reserve(batch: batch) }
    }

    /// Copies records into the input batch, turning [C, H, W] into [H, W, C].
    ///
    /// - Parameters:
    ///   - features: all records, [count, C·H·W].
    ///   - indices: which records, in batch order; nil means `first ..< first + batch`.
    func load(_ features: UnsafePointer<Float>, indices: UnsafePointer<Int32>?, first: Int, batch: Int) {
        let size = input.count
        let dst = activations[0].pointer
        let plane = input.height * input.width
        let c = inputChannels
        for r in 0..<batch {
            let record = indices.map { Int($0[first + r]) } ?? first + r
            let src = features + record * size
            let d = dst + r * size
            if c == 1 || plane == 1 {
                d.update(from: src, count: size)
            } else {
                for ch in 0..<c {
                    let s = src + ch * plane
                    for i in 0..<plane { d[i &* c &+ ch] = s[i] }
                }
            }
        }
    }

    /// Runs the layers on the loaded batch; returns the logits [batch, classes].
    @discardableResult
    func forward(batch: Int, training: Bool) -> UnsafeMutablePointer<Float> {
        for (i, layer) in layers.enumerated() {
            layer.forward(activations[i].pointer, activations[i + 1].pointer, batch: batch, training: training)
        }
        return activations[layers.count].pointer
    }

    /// Where the loss gradient with respect to the logits goes before `backward`.
    var logitGradient: UnsafeMutablePointer<Float> { deltas[layers.count].pointer }

    /// Back-propagates `logitGradient` through the last training forward into `gradients`.
    func backward(batch: Int) {
        for i in stride(from: layers.count - 1, through: 0, by: -1) {
            layers[i].backward(
                activations[i].pointer, activations[i + 1].pointer, deltas[i + 1].pointer,
                i > 0 ? deltas[i].pointer : nil, batch: batch)
        }
    }
}
