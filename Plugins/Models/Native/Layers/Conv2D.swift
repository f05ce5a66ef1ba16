import Kernels

/// A 2-D convolution with a fused activation, as im2col + one GEMM over the whole batch.
///
/// Shapes (channels-last): x [batch, H, W, Cin], W [Cout, K, K, Cin] (stored [Cout, K·K·Cin],
/// the im2col patch order), b [Cout], y [batch, OH, OW, Cout] =
/// `f(col(x) Wᵀ + b)` with `col(x)` [batch·OH·OW, K·K·Cin]. The patches are kept for the
/// backward pass: `dW = dZᵀ col`, `dcol = dZ W`, `dx = col2im(dcol)`.
final class Conv2D: Layer {
    let inputShape: Shape
    let outputShape: Shape
    let geometry: WindowGeometry
    let filters: Int
    let activation: Activation
    private var w: UnsafeMutablePointer<Float>!
    private var b: UnsafeMutablePointer<Float>!
    private var dw: UnsafeMutablePointer<Float>!
    private var db: UnsafeMutablePointer<Float>!
    private var col: Buffer<Float>?
    private var dcol: Buffer<Float>?
    /// True when the patches are the input itself (1×1 kernel, stride 1, no padding).
    private let isPointwise: Bool

    init(input: Shape, filters: Int, kernel: Int, stride: Int, padding: Int, activation: Activation) {
        inputShape = input
        geometry = WindowGeometry(
            height: input.height, width: input.width, channels: input.channels, kernel: kernel, stride: stride, padding: padding)
        self.filters = filters
        self.activation = activation
        outputShape = Shape(height: geometry.outHeight, width: geometry.outWidth, channels: filters)
        isPointwise = kernel == 1 && stride == 1 && padding == 0
    }

    var patch: Int { geometry.patchSize }
    var parameterCount: Int { filters * patch + filters }
    var summary: String {
        "conv(\(inputShape)->\(outputShape), k\(geometry.kernel) s\(geometry.stride) p\(geometry.padding), \(activation.rawValue))"
    }

    func bind(parameters: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>, state: UnsafeMutablePointer<Float>) {
        w = parameters
        b = parameters + filters * patch
        dw = gradients
        db = gradients + filters * patch
    }

    func initialize(_ rng: inout SeededRandom) {
        initializeUniform(w, count: filters * patch, fanIn: patch, activation: activation, &rng)
        b.update(repeating: 0, count: filters)
    }

    func reserve(batch: Int) {
        guard !isPointwise else { return }
        let size = batch * outputShape.height * outputShape.width * patch
        if (col?.count ?? 0) < size {
            col = Buffer(size)
            dcol = Buffer(size)
        }
    }

    private func patches(_ x: UnsafePointer<Float>) -> UnsafePointer<Float> {
        isPointwise ? x : UnsafePointer(col!.pointer)
    }

    func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int, training: Bool) {
        let rows = batch * outputShape.height * outputShape.width
        if !isPointwise { Im2col.forward(x, geometry, batch: batch, into: col!.pointer) }
        BLAS.gemm(false, true, m: rows, n: filters, k: patch, patches(x), lda: patch, w, ldb: patch, beta: 0, y, ldc: filters)
        Pointwise.addBiasActivate(y, rows: rows, cols: filters, bias: b, activation)
    }

    func backward(
        _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dy: UnsafeMutablePointer<Float>,
        _ dx: UnsafeMutablePointer<Float>?, batch: Int
    ) {
        let rows = batch * outputShape.height * outputShape.width
        Pointwise.activationBackward(dy, output: y, count: rows * filters, activation)
        BLAS.gemm(true, false, m: filters, n: patch, k: rows, dy, lda: filters, patches(x), ldb: patch, beta: 0, dw, ldc: patch)
        Pointwise.columnSums(dy, rows: rows, cols: filters, into: db)
        guard let dx else { return }
        if isPointwise {
            BLAS.gemm(false, false, m: rows, n: patch, k: filters, dy, lda: filters, w, ldb: patch, beta: 0, dx, ldc: patch)
        } else {
            BLAS.gemm(false, false, m: rows, n: patch, k: filters, dy, lda: filters, w, ldb: patch, beta: 0, dcol!.pointer, ldc: patch)
            Im2col.backward(dcol!.pointer, geometry, batch: batch, into: dx)
        }
    }
}
