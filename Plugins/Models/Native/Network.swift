import Kernels

/// A chain of layers with every buffer of a training allocated up front.
///
/// Parameters, their gradients and the layers' saved state each live in one flat array, in
/// layer order: the optimizer updates all parameters in one loop and the model file stores the
/// arrays as they are. Records keep the dataset's layout ([C, H, W] or [D]) throughout.
///
/// Consecutive `RecordLayer`s form a stage that runs on `shards` fixed slices of the batch in
/// parallel (`Parallel.forEach`); the other layers run on the whole batch, each product cut into
/// pieces spread over BLAS's threads (`GEMMPieces`). Neither the slices nor the pieces depend on
/// the thread count, so neither do the results.
final class Network {
    /// How a batch is cut for record-wise stages.
    static let shards = 4

    enum Stage {
        case batch(Int)
        /// Record-wise layers; `concurrently` when each of their GEMMs is one piece on its calling
        /// thread (else the shards run in order, each GEMM's pieces spread over the threads).
        case records(Range<Int>, concurrently: Bool)
    }
    /// One record as the dataset gives it: channels, height, width (a vector is D×1×1).
    let input: Shape
    let layers: [Layer]
    let stages: [Stage]
    private let recordLayers: [RecordLayer?]
    let parameters: Buffer<Float>
    let gradients: Buffer<Float>
    let state: Buffer<Float>
    /// How `initialize(seed:)` draws the dense and convolution layers' weights (option `init`).
    let initialization: WeightInit
    /// Largest batch the buffers hold.
    private(set) var capacity = 0
    /// activations[0] is the input batch, activations[i + 1] the output of layer i.
    private(set) var activations: [Buffer<Float>] = []
    /// deltas[i] is ∂loss/∂activations[i]; deltas[0] is never computed.
    private(set) var deltas: [Buffer<Float>] = []

    init(input: Shape, layers: [Layer], initialization: WeightInit = .he) {
        self.input = input
        self.initialization = initialization
        self.layers = layers
        recordLayers = layers.map { $0 as? RecordLayer }
        var stages: [Stage] = []
        var i = 0
        while i < layers.count {
            // A run of record-wise layers that agree on running concurrently.
            func small(_ k: Int) -> Bool? {
                (layers[k] as? RecordLayer).map { $0.largestProduct <= Parallel.singleThreadedGEMMLimit }
            }
            var j = i
            while j < layers.count, let f = small(j), f == small(i) { j += 1 }
            if j > i {
                stages.append(.records(i..<j, concurrently: small(i)!))
                i = j
            } else {
                stages.append(.batch(i))
                i += 1
            }
        }
        self.stages = stages
        let p = layers.reduce(0) { $0 + $1.parameterCount }
        let s = layers.reduce(0) { $0 + $1.stateCount }
        parameters = Buffer(p)
        gradients = Buffer(p)
        state = Buffer(s)
        var po = 0
        var so = 0
        for layer in layers {
            layer.bind(
                parameters: parameters.pointer + po, gradients: gradients.pointer + po, state: state.pointer + so)
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

    /// Initial parameters and state from `seed` by `initialization`, layer by layer from one
    /// stream; dropout layers get their own streams.
    func initialize(seed: UInt64) {
        var rng = SeededRandom.derive(seed: seed, 0)
        for (i, layer) in layers.enumerated() {
            layer.initialize(&rng, scheme: initialization)
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
        for layer in layers {
            if let r = layer as? RecordLayer {
                r.reserve(batch: batch, shards: Self.shards)
            } else {
                layer.reserve(batch: batch)
            }
        }
    }

    /// Copies records into the input batch.
    ///
    /// - Parameters:
    ///   - features: all records, [count, C·H·W].
    ///   - indices: which records, in batch order; nil means `first ..< first + batch`.
    func load(_ features: UnsafePointer<Float>, indices: UnsafePointer<Int32>?, first: Int, batch: Int) {
        let size = input.count
        let dst = activations[0].pointer
        guard let indices else {
            dst.update(from: features + first * size, count: batch * size)
            return
        }
        for r in 0..<batch {
            (dst + r * size).update(from: features + Int(indices[first + r]) * size, count: size)
        }
    }

    /// Runs the layers on the loaded batch, or on `input` [batch, C·H·W] when given (inference
    /// reads the caller's records in place); returns the logits [batch, classes].
    @discardableResult
    func forward(batch: Int, training: Bool, input: UnsafePointer<Float>? = nil) -> UnsafeMutablePointer<Float> {
        var a = activations.map(\.pointer)
        // Layers never write their input, so the caller's records can stand in for the batch.
        if let input { a[0] = UnsafeMutablePointer(mutating: input) }
        for stage in stages {
            switch stage {
            case .batch(let i):
                layers[i].forward(a[i], a[i + 1], batch: batch, training: training)
            case .records(let range, let concurrently):
                let shards = Self.shards
                Parallel.forEach(shards, concurrently: concurrently) { s in
                    let records = Parallel.range(s, of: shards, count: batch)
                    for i in range {
                        self.recordLayers[i]!.forward(a[i], a[i + 1], records: records, shard: s, training: training)
                    }
                }
            }
        }
        return a[layers.count]
    }

    /// Where the loss gradient with respect to the logits goes before `backward`.
    var logitGradient: UnsafeMutablePointer<Float> { deltas[layers.count].pointer }

    /// Back-propagates `logitGradient` through the last training forward into `gradients`, and
    /// into `inputGradient` ([batch, C·H·W], ∂loss/∂input) when given (adversarial
    /// regularization's inference model passes its gain back to the classifier this way).
    func backward(batch: Int, inputGradient: UnsafeMutablePointer<Float>? = nil) {
        let a = activations.map(\.pointer)
        let d: [UnsafeMutablePointer<Float>?] = deltas.enumerated().map {
            $0.offset == 0 ? inputGradient : $0.element.pointer
        }
        for stage in stages.reversed() {
            switch stage {
            case .batch(let i):
                layers[i].backward(a[i], a[i + 1], d[i + 1]!, d[i], batch: batch)
            case .records(let range, let concurrently):
                let shards = Self.shards
                Parallel.forEach(shards, concurrently: concurrently) { s in
                    let records = Parallel.range(s, of: shards, count: batch)
                    for i in range.reversed() {
                        self.recordLayers[i]!.backward(a[i], a[i + 1], d[i + 1]!, d[i], records: records, shard: s)
                    }
                }
                for i in range { recordLayers[i]!.reduceGradients(shards: shards) }
            }
        }
    }
}
