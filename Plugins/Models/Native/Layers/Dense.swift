import Kernels

/// A fully connected layer with a fused activation: `y = f(x Wᵀ + b)`.
///
/// Shapes: x [batch, in] (any input shape, read as its flat [C, H, W] vector), W [out, in],
/// b [out], y [batch, out]. Forward is one GEMM and the bias and activation: in inference each
/// piece of the product is followed by them on the block it wrote (`BLAS.gemm`'s epilogue), in
/// training one pass follows the whole product.
final class Dense: Layer {
    let inputShape: Shape
    let outputShape: Shape
    let activation: Activation
    let inputs: Int
    let outputs: Int
    private var w: UnsafeMutablePointer<Float>!
    private var b: UnsafeMutablePointer<Float>!
    private var dw: UnsafeMutablePointer<Float>!
    private var db: UnsafeMutablePointer<Float>!

    init(input: Shape, outputs: Int, activation: Activation) {
        inputShape = input
        inputs = input.count
        self.outputs = outputs
        outputShape = Shape(height: 1, width: 1, channels: outputs)
        self.activation = activation
    }

    var parameterCount: Int { outputs * inputs + outputs }
    var summary: String { "dense(\(inputs)->\(outputs), \(activation.rawValue))" }

    func bind(
        parameters: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>,
        state: UnsafeMutablePointer<Float>
    ) {
        w = parameters
        b = parameters + outputs * inputs
        dw = gradients
        db = gradients + outputs * inputs
    }

    func initialize(_ rng: inout SeededRandom) { initialize(&rng, scheme: .he) }

    func initialize(_ rng: inout SeededRandom, scheme: WeightInit) {
        initializeLayer(
            weights: w, count: outputs * inputs, biases: b, biasCount: outputs, fanIn: inputs, activation: activation,
            scheme: scheme, &rng)
    }

    func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int, training: Bool) {
        let (outputs, b, activation) = (outputs, b!, activation)
        guard !training else {
            // Training batches (128 rows) are cut along the columns, where a per-piece epilogue
            // would run row by row; one pass after the product keeps training as it was before
            // the epilogue existed (same bits either way).
            BLAS.gemm(
                false, true, m: batch, n: outputs, k: inputs, x, lda: inputs, w, ldb: inputs, beta: 0, y, ldc: outputs)
            Pointwise.addBiasActivate(y, rows: batch, cols: outputs, bias: b, activation)
            return
        }
        // Bias and activation on each piece of the product as it is done, while it is in cache.
        BLAS.gemm(
            false, true, m: batch, n: outputs, k: inputs, x, lda: inputs, w, ldb: inputs, beta: 0, y, ldc: outputs
        ) { rows, columns in
            if columns.count == outputs {
                Pointwise.addBiasActivate(
                    y + rows.lowerBound * outputs, rows: rows.count, cols: outputs, bias: b, activation)
            } else {
                for r in rows {
                    Pointwise.addBiasActivate(
                        y + r * outputs + columns.lowerBound, rows: 1, cols: columns.count,
                        bias: b + columns.lowerBound, activation)
                }
            }
        }
    }

    func backward(
        _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dy: UnsafeMutablePointer<Float>,
        _ dx: UnsafeMutablePointer<Float>?, batch: Int
    ) {
        Pointwise.activationBackward(dy, output: y, count: batch * outputs, activation)
        // dW [out, in] = dZᵀ [out, batch] · x [batch, in]
        BLAS.gemm(
            true, false, m: outputs, n: inputs, k: batch, dy, lda: outputs, x, ldb: inputs, beta: 0, dw, ldc: inputs)
        Pointwise.columnSums(dy, rows: batch, cols: outputs, into: db)
        if let dx {
            // dx [batch, in] = dZ [batch, out] · W [out, in]
            BLAS.gemm(
                false, false, m: batch, n: inputs, k: outputs, dy, lda: outputs, w, ldb: inputs, beta: 0, dx,
                ldc: inputs)
        }
    }
}
