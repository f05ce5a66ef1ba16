/// The geometry of a 2-D convolution (or pooling) window over a channels-last image.
///
/// Output size per axis: `⌊(in + 2·padding − kernel) / stride⌋ + 1`.
public struct WindowGeometry: Sendable, Equatable {
    public var height: Int
    public var width: Int
    public var channels: Int
    public var kernel: Int
    public var stride: Int
    public var padding: Int

    public init(height: Int, width: Int, channels: Int, kernel: Int, stride: Int = 1, padding: Int = 0) {
        self.height = height
        self.width = width
        self.channels = channels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
    }

    public var outHeight: Int { (height + 2 * padding - kernel) / stride + 1 }
    public var outWidth: Int { (width + 2 * padding - kernel) / stride + 1 }
    /// Floats in one input image.
    public var inputSize: Int { height * width * channels }
    /// Length of one im2col row: kernel · kernel · channels, ordered (ky, kx, c).
    public var patchSize: Int { kernel * kernel * channels }
    /// True when the window fits the input at least once.
    public var isValid: Bool {
        height > 0 && width > 0 && channels > 0 && kernel > 0 && stride > 0 && padding >= 0
            && height + 2 * padding >= kernel && width + 2 * padding >= kernel
    }
}

/// im2col and its adjoint for channels-last (NHWC) images.
///
/// A convolution over a batch becomes one GEMM: `col` [batch · OH · OW, K·K·C] times the weights
/// `W`ᵀ ([K·K·C, Cout]) gives the output [batch · OH · OW, Cout], which is again NHWC. In NHWC
/// the `K · C` values of one kernel row sit next to each other in the input, so each patch row
/// is `K` contiguous copies (zeros where the window hangs over the padding).
public enum Im2col {
    /// Writes the patches of `x` [batch, H, W, C] into `col` [batch · OH · OW, K·K·C].
    public static func forward(
        _ x: UnsafePointer<Float>, _ g: WindowGeometry, batch: Int, into col: UnsafeMutablePointer<Float>
    ) {
        let (h, w, c, k, s, p) = (g.height, g.width, g.channels, g.kernel, g.stride, g.padding)
        let (oh, ow) = (g.outHeight, g.outWidth)
        let span = k &* c
        var dst = col
        for b in 0..<batch {
            let image = x + b &* g.inputSize
            for oy in 0..<oh {
                for ox in 0..<ow {
                    let ix0 = ox &* s &- p
                    for ky in 0..<k {
                        let iy = oy &* s &- p &+ ky
                        if iy < 0 || iy >= h {
                            for t in 0..<span { dst[t] = 0 }
                        } else if ix0 >= 0 && ix0 &+ k <= w {
                            let src = image + (iy &* w &+ ix0) &* c
                            for t in 0..<span { dst[t] = src[t] }
                        } else {
                            for kx in 0..<k {
                                let ix = ix0 &+ kx
                                let d = dst + kx &* c
                                if ix < 0 || ix >= w {
                                    for t in 0..<c { d[t] = 0 }
                                } else {
                                    let src = image + (iy &* w &+ ix) &* c
                                    for t in 0..<c { d[t] = src[t] }
                                }
                            }
                        }
                        dst += span
                    }
                }
            }
        }
    }

    /// The adjoint of `forward`: `dx` [batch, H, W, C] is set to the sum, over every patch
    /// position that read an input value, of that position's entry of `dcol`.
    public static func backward(
        _ dcol: UnsafePointer<Float>, _ g: WindowGeometry, batch: Int, into dx: UnsafeMutablePointer<Float>
    ) {
        let (h, w, c, k, s, p) = (g.height, g.width, g.channels, g.kernel, g.stride, g.padding)
        let (oh, ow) = (g.outHeight, g.outWidth)
        let span = k &* c
        dx.update(repeating: 0, count: batch &* g.inputSize)
        var src = dcol
        for b in 0..<batch {
            let image = dx + b &* g.inputSize
            for oy in 0..<oh {
                for ox in 0..<ow {
                    let ix0 = ox &* s &- p
                    for ky in 0..<k {
                        let iy = oy &* s &- p &+ ky
                        if iy >= 0 && iy < h {
                            if ix0 >= 0 && ix0 &+ k <= w {
                                let d = image + (iy &* w &+ ix0) &* c
                                for t in 0..<span { d[t] += src[t] }
                            } else {
                                for kx in 0..<k {
                                    let ix = ix0 &+ kx
                                    if ix >= 0 && ix < w {
                                        let d = image + (iy &* w &+ ix) &* c
                                        let q = src + kx &* c
                                        for t in 0..<c { d[t] += q[t] }
                                    }
                                }
                            }
                        }
                        src += span
                    }
                }
            }
        }
    }
}
