import Kernels

/// A 2-D convolution with a fused activation, one image at a time: im2col + one GEMM.
///
/// Shapes (channels-first): x [batch, Cin, H, W], W [Cout, Cin·K·K] (the im2col row order),
/// b [Cout], y [batch, Cout, OH, OW]; per image `y = f(W · col(x) + b)` with `col(x)`
/// [Cin·K·K, OH·OW]. Per image the patch matrix stays in cache and the GEMMs are small enough
/// for OpenBLAS to run them on the calling thread, so the network runs shards of the batch on
/// parallel threads. Backward recomputes the patches (cheaper than keeping a batch of them):
/// `dW += dZ colᵀ`, `dcol = Wᵀ dZ`, `dx = col2im(dcol)`. Stride-1 layers whose padding is a
/// small share of the width use `WideIm2col` (block copies, slightly wider GEMMs). Thin layers
/// (`DirectConvolution.suits`: stride 1, at most 16 filters, as LeNet-5's) skip the patch
/// matrix and the GEMMs: direct kernels compute the output, `dW` and `dx` per image.
final class Conv2D: RecordLayer {
    let inputShape: Shape
    let outputShape: Shape
    let geometry: WindowGeometry
    let filters: Int
    let activation: Activation
    private var w: UnsafeMutablePointer<Float>!
    private var b: UnsafeMutablePointer<Float>!
    private var dw: UnsafeMutablePointer<Float>!
    /// Per shard: the patch matrix, its gradient, and the partial parameter gradients.
    private var cols: [Buffer<Float>] = []
    private var dcols: [Buffer<Float>] = []
    private var partials: [Buffer<Float>] = []
    /// True when the patches are the input itself (1×1 kernel, stride 1, no padding).
    private let isPointwise: Bool
    /// True when the layer uses the wide patch matrix (see `WideIm2col`).
    let isWide: Bool
    /// Per shard, for the wide path: the padded image, the wide output / output gradient.
    private var paddeds: [Buffer<Float>] = []
    private var wides: [Buffer<Float>] = []
    private var wideGrads: [Buffer<Float>] = []
    /// True when the layer runs the direct kernels (`DirectConvolution`), with one scratch per shard.
    let isDirect: Bool
    private var scratches: [Buffer<Float>] = []

    /// - Parameters:
    ///   - wide: force the wide path on or off (tests); nil chooses by the shape.
    ///   - direct: force the direct kernels on or off (tests; on needs a supported window); nil
    ///     chooses by the shape, unless `wide` is given (then off).
    init(
        input: Shape, filters: Int, kernel: Int, stride: Int, padding: Int, activation: Activation, wide: Bool? = nil,
        direct: Bool? = nil
    ) {
        inputShape = input
        geometry = WindowGeometry(
            height: input.height, width: input.width, channels: input.channels, kernel: kernel, stride: stride,
            padding: padding)
        self.filters = filters
        self.activation = activation
        outputShape = Shape(height: geometry.outHeight, width: geometry.outWidth, channels: filters)
        isPointwise = kernel == 1 && stride == 1 && padding == 0
        let wideWidth = input.width + 2 * padding
        let directly = direct ?? (wide == nil && DirectConvolution.suits(geometry, filters: filters))
        isDirect = directly && DirectConvolution.supports(geometry, filters: filters)
        isWide = !isDirect && (wide ?? (stride == 1 && !isPointwise && 4 * wideWidth <= 5 * geometry.outWidth))
    }

    var patch: Int { geometry.patchSize }
    var plane: Int { geometry.outPlane }
    var parameterCount: Int { filters * patch + filters }
    var summary: String {
        "conv(\(inputShape)->\(outputShape), k\(geometry.kernel) s\(geometry.stride) p\(geometry.padding), \(activation.rawValue))"
    }

    func bind(
        parameters: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>,
        state: UnsafeMutablePointer<Float>
    ) {
        w = parameters
        b = parameters + filters * patch
        dw = gradients
    }

    func initialize(_ rng: inout SeededRandom) { initialize(&rng, scheme: .he) }

    func initialize(_ rng: inout SeededRandom, scheme: WeightInit) {
        initializeLayer(
            weights: w, count: filters * patch, biases: b, biasCount: filters, fanIn: patch, activation: activation,
            scheme: scheme, &rng)
    }

    var largestProduct: Int { isDirect ? 0 : filters * columns * patch }

    /// Columns of the patch matrix and the GEMM output: OH·OW, or OH·Wp on the wide path.
    var columns: Int { isWide ? WideIm2col.wideColumns(geometry) : plane }

    /// Images per call of the direct forward (`forward`): enough to spread the weights'
    /// preparation, few enough that the outputs are in cache for their bias and activation.
    static let directImagesPerCall = 8

    func reserve(batch: Int, shards: Int) {
        while partials.count < shards {
            partials.append(Buffer(parameterCount))
            cols.append(Buffer(isPointwise || isDirect ? 0 : patch * columns))
            dcols.append(Buffer(isPointwise || isDirect ? 0 : patch * columns))
            // Zero once: the padding border and the wide columns past OW are never written.
            paddeds.append(Buffer(isWide ? WideIm2col.paddedSize(geometry) : 0))
            wides.append(Buffer(isWide ? filters * columns : 0))
            wideGrads.append(Buffer(isWide ? filters * columns : 0))
            scratches.append(Buffer(isDirect ? DirectConvolution.scratchCount(geometry, filters: filters) : 0))
        }
    }

    /// The patch matrix of record `xi` into `col`.
    private func patches(_ xi: UnsafePointer<Float>, shard: Int) {
        if isWide {
            WideIm2col.pad(xi, geometry, into: paddeds[shard].pointer)
            WideIm2col.forward(padded: paddeds[shard].pointer, geometry, into: cols[shard].pointer)
        } else if !isPointwise {
            Im2col.forward(xi, geometry, into: cols[shard].pointer)
        }
    }

    /// Copies rows of `count` floats between layouts of row strides `from` and `to`.
    private func copyRows(
        _ src: UnsafePointer<Float>, stride from: Int, _ dst: UnsafeMutablePointer<Float>, stride to: Int, rows: Int,
        count: Int
    ) {
        for r in 0..<rows { Im2col.copy(src + r * from, to: dst + r * to, count: count) }
    }

    func forward(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, records: Range<Int>, shard: Int, training: Bool
    ) {
        if isDirect {
            for start in stride(from: records.lowerBound, to: records.upperBound, by: Self.directImagesPerCall) {
                let count = min(Self.directImagesPerCall, records.upperBound - start)
                let yi = y + start * outputShape.count
                DirectConvolution.forward(
                    x + start * inputShape.count, geometry, filters: filters, weights: w,
                    scratch: scratches[shard].pointer, into: yi, images: count)
                for i in 0..<count {  // one bias per filter: image by image
                    Pointwise.addRowBiasActivate(
                        yi + i * outputShape.count, rows: filters, cols: plane, bias: b, activation)
                }
            }
            return
        }
        let col = cols[shard].pointer
        let n = columns
        for r in records {
            let xi = x + r * inputShape.count
            let yi = y + r * outputShape.count
            patches(xi, shard: shard)
            if isWide {
                let wide = wides[shard].pointer
                BLAS.gemm(false, false, m: filters, n: n, k: patch, w, lda: patch, col, ldb: n, beta: 0, wide, ldc: n)
                let wp = n / outputShape.height
                copyRows(
                    wide, stride: wp, yi, stride: outputShape.width, rows: filters * outputShape.height,
                    count: outputShape.width)
            } else {
                BLAS.gemm(
                    false, false, m: filters, n: n, k: patch, w, lda: patch, isPointwise ? xi : UnsafePointer(col),
                    ldb: n, beta: 0, yi, ldc: n)
            }
            Pointwise.addRowBiasActivate(yi, rows: filters, cols: plane, bias: b, activation)
        }
    }

    func backward(
        _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dy: UnsafeMutablePointer<Float>,
        _ dx: UnsafeMutablePointer<Float>?, records: Range<Int>, shard: Int
    ) {
        let partial = partials[shard].pointer
        let pdw = partial
        let pdb = partial + filters * patch
        partial.update(repeating: 0, count: parameterCount)
        let col = cols[shard].pointer
        let dcol = dcols[shard].pointer
        let n = columns
        if isDirect {
            // Activation and bias per image, then both convolution gradients in one call (the
            // weights' transposed copy made once, each dZ's shared by the two gradients).
            for r in records {
                let dz = dy + r * outputShape.count
                Pointwise.activationBackward(dz, output: y + r * outputShape.count, count: filters * plane, activation)
                Pointwise.addRowSums(dz, rows: filters, cols: plane, into: pdb)
            }
            let first = records.lowerBound
            DirectConvolution.backward(
                x + first * inputShape.count, geometry, filters: filters,
                outputGradient: dy + first * outputShape.count,
                weights: w, scratch: scratches[shard].pointer, filterGradient: pdw,
                inputGradient: dx.map { $0 + first * inputShape.count }, images: records.count)
            return
        }
        for r in records {
            let xi = x + r * inputShape.count
            let dz = dy + r * outputShape.count
            Pointwise.activationBackward(dz, output: y + r * outputShape.count, count: filters * plane, activation)
            patches(xi, shard: shard)
            if isWide {
                // dZ spread to the wide rows; the columns past OW stay zero (only the forward
                // output buffer, a different one, holds values there).
                let wide = wideGrads[shard].pointer
                let wp = n / outputShape.height
                copyRows(
                    dz, stride: outputShape.width, wide, stride: wp, rows: filters * outputShape.height,
                    count: outputShape.width)
                BLAS.gemm(false, true, m: filters, n: patch, k: n, wide, lda: n, col, ldb: n, beta: 1, pdw, ldc: patch)
                Pointwise.addRowSums(dz, rows: filters, cols: plane, into: pdb)
                guard let dx else { continue }
                BLAS.gemm(true, false, m: patch, n: n, k: filters, w, lda: patch, wide, ldb: n, beta: 0, dcol, ldc: n)
                WideIm2col.backward(dcol, geometry, scratch: paddeds[shard].pointer, into: dx + r * inputShape.count)
                // The padded buffer served as scratch: clear it for the next forward's border.
                paddeds[shard].pointer.update(repeating: 0, count: paddeds[shard].count)
                continue
            }
            // dW [Cout, patch] += dZ [Cout, P] · colᵀ [P, patch]
            BLAS.gemm(
                false, true, m: filters, n: patch, k: plane, dz, lda: plane, isPointwise ? xi : UnsafePointer(col),
                ldb: plane, beta: 1, pdw, ldc: patch)
            Pointwise.addRowSums(dz, rows: filters, cols: plane, into: pdb)
            guard let dx else { continue }
            let dxi = dx + r * inputShape.count
            // dcol [patch, P] = Wᵀ [patch, Cout] · dZ [Cout, P]
            BLAS.gemm(
                true, false, m: patch, n: plane, k: filters, w, lda: patch, dz, ldb: plane, beta: 0,
                isPointwise ? dxi : dcol, ldc: plane)
            if !isPointwise { Im2col.backward(dcol, geometry, into: dxi) }
        }
    }

    func reduceGradients(shards: Int) {
        dw.update(from: partials[0].pointer, count: parameterCount)
        for s in 1..<max(shards, 1) {
            let p = partials[s].pointer
            for i in 0..<parameterCount { dw[i] += p[i] }
        }
    }
}
