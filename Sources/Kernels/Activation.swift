import CKernels

#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

/// A pointwise nonlinearity, applied in place after a layer's affine map.
public enum Activation: String, Sendable, CaseIterable, Codable {
    /// f(z) = z.
    case identity
    /// f(z) = max(z, 0); f'(z) taken as 0 at z = 0.
    case relu
    /// f(z) = tanh z; f' = 1 − f².
    case tanh
    /// f(z) = 1 / (1 + e^−z); f' = f (1 − f). Computed as e^z / (1 + e^z) for z < 0 so that
    /// neither branch overflows.
    case sigmoid
}

/// Pointwise kernels on contiguous row-major float arrays.
///
/// Each switches on the activation once, outside its loop, so that the loops vectorise.
public enum Pointwise {
    /// `y[r, c] = f(y[r, c] + bias[c])` in place, for `y` [rows, cols]: the fused bias and
    /// activation that follows a GEMM. `bias` nil adds nothing.
    public static func addBiasActivate(
        _ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int, bias: UnsafePointer<Float>?,
        _ f: Activation
    ) {
        if let bias {
            switch f {
            case .identity:
                for r in 0..<rows {
                    let row = y + r &* cols
                    for c in 0..<cols { row[c] += bias[c] }
                }
            case .relu:
                for r in 0..<rows {
                    let row = y + r &* cols
                    for c in 0..<cols { row[c] = max(row[c] + bias[c], 0) }
                }
            case .tanh, .sigmoid:
                for r in 0..<rows {
                    let row = y + r &* cols
                    for c in 0..<cols { row[c] += bias[c] }
                }
                activate(y, count: rows &* cols, f)
            }
        } else {
            activate(y, count: rows &* cols, f)
        }
    }

    /// `y[r, c] = f(y[r, c] + bias[r])` in place, for `y` [rows, cols]: the fused bias and
    /// activation after a channels-first convolution (one bias per output channel, i.e. per row).
    /// ReLU runs in C above the generic `level` (CKernels/relu.c).
    public static func addRowBiasActivate(
        _ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int, bias: UnsafePointer<Float>, _ f: Activation,
        level: VectorLevel = .current
    ) {
        if f == .relu && level != .generic && mia_add_row_bias_relu(level.rawValue, y, rows, cols, bias) != 0 { return }
        for r in 0..<rows {
            let row = y + r &* cols
            let b = bias[r]
            if f == .relu {
                addRelu(row, count: cols, b)
            } else {
                for c in 0..<cols { row[c] += b }
            }
        }
        if f != .relu { activate(y, count: rows &* cols, f) }
    }

    /// `y[i] = max(y[i] + b, 0)`, in explicit vectors.
    @inline(__always)
    static func addRelu(_ y: UnsafeMutablePointer<Float>, count: Int, _ b: Float) {
        let zero = SIMD16<Float>(repeating: 0)
        let bv = SIMD16<Float>(repeating: b)
        var i = 0
        while i &+ 16 <= count {
            let v = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD16<Float>.self) + bv
            UnsafeMutableRawPointer(y + i).storeBytes(
                of: v.replacing(with: zero, where: v .< zero), as: SIMD16<Float>.self)
            i &+= 16
        }
        while i < count {
            let v = y[i] + b
            y[i] = v < 0 ? 0 : v
            i &+= 1
        }
    }

    /// `out[r] += Σ_c x[r, c]` for `x` [rows, cols].
    public static func addRowSums(
        _ x: UnsafePointer<Float>, rows: Int, cols: Int, into out: UnsafeMutablePointer<Float>
    ) {
        // Eight partial sums per row (a fixed order, so still deterministic) let the loop
        // vectorise.
        let wide = cols & ~7
        for r in 0..<rows {
            let row = x + r &* cols
            var acc = SIMD8<Float>(repeating: 0)
            var c = 0
            while c < wide {
                acc += UnsafeRawPointer(row + c).loadUnaligned(as: SIMD8<Float>.self)
                c &+= 8
            }
            var s = acc.sum()
            while c < cols {
                s += row[c]
                c &+= 1
            }
            out[r] += s
        }
    }

    /// `y[i] = f(y[i])` in place.
    public static func activate(_ y: UnsafeMutablePointer<Float>, count: Int, _ f: Activation) {
        switch f {
        case .identity: return
        case .relu: for i in 0..<count { y[i] = max(y[i], 0) }
        case .tanh: for i in 0..<count { y[i] = tanhf(y[i]) }
        case .sigmoid:
            for i in 0..<count {
                let z = y[i]
                if z >= 0 {
                    y[i] = 1 / (1 + expf(-z))
                } else {
                    let e = expf(z)
                    y[i] = e / (1 + e)
                }
            }
        }
    }

    /// `dy[i] *= f'(z_i)`, with the derivative written in terms of the output `y = f(z)`:
    /// turns the gradient with respect to a layer's output into the one with respect to its
    /// pre-activation, in place. ReLU runs in C above the generic `level` (CKernels/relu.c).
    public static func activationBackward(
        _ dy: UnsafeMutablePointer<Float>, output y: UnsafePointer<Float>, count: Int, _ f: Activation,
        level: VectorLevel = .current
    ) {
        if f == .relu && level != .generic {
            mia_relu_backward(level.rawValue, dy, y, count)
            return
        }
        switch f {
        case .identity: return
        case .relu:
            // Explicit vectors: the scalar select does not vectorise on its own.
            let zero = SIMD16<Float>(repeating: 0)
            var i = 0
            while i &+ 16 <= count {
                let yv = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD16<Float>.self)
                let dv = UnsafeRawPointer(dy + i).loadUnaligned(as: SIMD16<Float>.self)
                UnsafeMutableRawPointer(dy + i).storeBytes(
                    of: zero.replacing(with: dv, where: yv .> zero), as: SIMD16<Float>.self)
                i &+= 16
            }
            while i < count {
                dy[i] = y[i] > 0 ? dy[i] : 0
                i &+= 1
            }
        case .tanh: for i in 0..<count { dy[i] *= 1 - y[i] * y[i] }
        case .sigmoid: for i in 0..<count { dy[i] *= y[i] * (1 - y[i]) }
        }
    }

    /// `out[c] = Σ_r x[r, c]` for `x` [rows, cols], summed row by row in order (deterministic).
    public static func columnSums(
        _ x: UnsafePointer<Float>, rows: Int, cols: Int, into out: UnsafeMutablePointer<Float>
    ) {
        out.update(repeating: 0, count: cols)
        for r in 0..<rows {
            let row = x + r &* cols
            for c in 0..<cols { out[c] += row[c] }
        }
    }
}
