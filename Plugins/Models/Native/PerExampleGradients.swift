import Kernels

/// Per-example gradients, clipped and summed: the core of a DP-SGD step.
///
/// For records r of a batch with gradients g_r (of the record's own loss, over all parameters),
/// `accumulate` adds `Σ_r g_r · min(1, C / ‖g_r‖₂)` to a sum. Two ways, same result:
/// - networks whose only trained layers are dense (logistic, MLP, with dropout): one forward and
///   one backward of the whole batch give each dense layer's input X [m, in] and pre-activation
///   gradient dZ [m, out]; record r's gradient there is `dz_r x_rᵀ` (and `dz_r` for the bias), so
///   `‖g_r‖² = Σ_layers ‖dz_r‖² (‖x_r‖² + 1)` (Goodfellow 2015's trick), and the clipped sum
///   is one more GEMM per layer, `(diag(c) dZ)ᵀ X`;
/// - any other network (convolutions): one forward and backward per record (batch of 1),
///   reusing the layers' code, then clip and add.
/// Dropout masks are drawn in record order either way. Batch norm has no per-record gradient
/// and is refused by the options.
final class PerExampleGradients {
    let network: Network
    let clipNorm: Float
    /// The dense layers (index in the network, parameter offset) when the fast path applies.
    private let dense: [(index: Int, layer: Dense, offset: Int)]?
    private let labels: Buffer<Int32>
    private let norms: Buffer<Float>
    private let scaled: Buffer<Float>

    init(network: Network, clipNorm: Float) {
        self.network = network
        self.clipNorm = clipNorm
        var dense: [(Int, Dense, Int)] = []
        var allDense = true
        var offset = 0
        for (i, layer) in network.layers.enumerated() {
            if let d = layer as? Dense {
                dense.append((i, d, offset))
            } else if layer.parameterCount > 0 {
                allDense = false
            }
            offset += layer.parameterCount
        }
        self.dense = allDense ? dense : nil
        let capacity = max(network.capacity, 1)
        self.capacity = capacity
        labels = Buffer(capacity, zero: 0)
        norms = Buffer(capacity)
        scaled = Buffer(capacity * (dense.map { $0.1.outputs }.max() ?? 1))
    }

    /// Records one `accumulate` call takes at most: the network's capacity when the clipper was
    /// made (the network may grow later, e.g. through a `predict` at a checkpoint; these buffers do not).
    let capacity: Int

    /// True when the batched dense path is used.
    var isBatched: Bool { dense != nil }

    /// Adds the clipped gradients of records `indices[first ..< first + count]` (count at most
    /// `capacity`) to `sum` [parameterCount]; returns their summed loss and correct count.
    func accumulate(
        _ x: UnsafePointer<Float>, _ y: UnsafePointer<Int32>, indices: UnsafePointer<Int32>, first: Int, count m: Int,
        smoothing: Float, into sum: UnsafeMutablePointer<Float>, forcePerRecord: Bool = false
    ) -> (loss: Double, correct: Int) {
        guard m > 0 else { return (0, 0) }
        precondition(m <= capacity && m <= network.capacity)
        if let dense, !forcePerRecord { return batched(x, y, indices, first, m, smoothing, dense, sum) }
        var loss = 0.0
        var correct = 0
        let g = network.gradients.pointer
        let count = network.parameterCount
        for r in 0..<m {
            let step = gradient(x, y, indices: indices, at: first + r, smoothing: smoothing)
            loss += step.loss
            correct += step.correct
            let c = Self.clipFactor(normSquared: squaredNorm(g, count), clipNorm: clipNorm)
            for i in 0..<count { sum[i] += c * g[i] }
        }
        return (loss, correct)
    }

    /// The unclipped gradient of record `indices[at]` alone, into `network.gradients`.
    func gradient(
        _ x: UnsafePointer<Float>, _ y: UnsafePointer<Int32>, indices: UnsafePointer<Int32>, at: Int, smoothing: Float
    ) -> (loss: Double, correct: Int) {
        network.load(x, indices: indices, first: at, batch: 1)
        labels.pointer[0] = y[Int(indices[at])]
        let logits = network.forward(batch: 1, training: true)
        let r = SoftmaxCrossEntropy.evaluate(
            logits: logits, labels: labels.pointer, rows: 1, classes: network.classCount, smoothing: smoothing,
            gradient: network.logitGradient, scale: 1)
        network.backward(batch: 1)
        return r
    }

    /// Each record's clipped gradient, computed on its own (batch of 1): `g_r · min(1, C / ‖g_r‖)`
    /// for records `indices[0 ..< count]`, each [parameterCount]. For tests and inspection.
    func clippedGradients(
        _ x: UnsafePointer<Float>, _ y: UnsafePointer<Int32>, indices: UnsafePointer<Int32>, count: Int,
        smoothing: Float = 0
    ) -> [[Float]] {
        let p = network.parameterCount
        return (0..<count).map { r in
            _ = gradient(x, y, indices: indices, at: r, smoothing: smoothing)
            let g = network.gradients.pointer
            let c = Self.clipFactor(normSquared: squaredNorm(g, p), clipNorm: clipNorm)
            return (0..<p).map { c * g[$0] }
        }
    }

    /// `min(1, C / ‖g‖)` (1 for a zero gradient).
    static func clipFactor(normSquared: Float, clipNorm: Float) -> Float {
        let norm = normSquared.squareRoot()
        return norm > clipNorm ? clipNorm / norm : 1
    }

    private func squaredNorm(_ v: UnsafePointer<Float>, _ n: Int) -> Float {
        var s: Float = 0
        for i in 0..<n { s += v[i] * v[i] }
        return s
    }

    private func batched(
        _ x: UnsafePointer<Float>, _ y: UnsafePointer<Int32>, _ indices: UnsafePointer<Int32>, _ first: Int, _ m: Int,
        _ smoothing: Float, _ dense: [(index: Int, layer: Dense, offset: Int)], _ sum: UnsafeMutablePointer<Float>
    ) -> (loss: Double, correct: Int) {
        network.load(x, indices: indices, first: first, batch: m)
        for r in 0..<m { labels.pointer[r] = y[Int(indices[first + r])] }
        let logits = network.forward(batch: m, training: true)
        // Scale 1: each row of the logit gradient is its own record's loss gradient.
        let result = SoftmaxCrossEntropy.evaluate(
            logits: logits, labels: labels.pointer, rows: m, classes: network.classCount, smoothing: smoothing,
            gradient: network.logitGradient, scale: 1)
        // After backward, deltas[i + 1] holds layer i's dZ (activation derivative applied in place).
        network.backward(batch: m)
        let norm2 = norms.pointer
        norm2.update(repeating: 0, count: m)
        for (i, layer, _) in dense {
            let a = network.activations[i].pointer
            let dz = network.deltas[i + 1].pointer
            for r in 0..<m {
                let xr = a + r * layer.inputs
                let dr = dz + r * layer.outputs
                norm2[r] += squaredNorm(dr, layer.outputs) * (squaredNorm(xr, layer.inputs) + 1)
            }
        }
        for r in 0..<m { norm2[r] = Self.clipFactor(normSquared: norm2[r], clipNorm: clipNorm) }
        let s = scaled.pointer
        for (i, layer, offset) in dense {
            let (nin, nout) = (layer.inputs, layer.outputs)
            let a = network.activations[i].pointer
            let dz = network.deltas[i + 1].pointer
            for r in 0..<m {
                for o in 0..<nout { s[r * nout + o] = norm2[r] * dz[r * nout + o] }
            }
            // sum_W [out, in] += Sᵀ [out, m] · X [m, in]
            BLAS.gemm(true, false, m: nout, n: nin, k: m, s, lda: nout, a, ldb: nin, beta: 1, sum + offset, ldc: nin)
            let bias = sum + offset + nout * nin
            for r in 0..<m {
                for o in 0..<nout { bias[o] += s[r * nout + o] }
            }
        }
        return result
    }
}
