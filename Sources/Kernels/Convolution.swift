import CKernels

/// The geometry of a 2-D convolution (or pooling) window over a channels-first image.
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
    /// Output positions per channel: OH · OW.
    public var outPlane: Int { outHeight * outWidth }
    /// Floats in one input image: C · H · W.
    public var inputSize: Int { height * width * channels }
    /// Rows of the patch matrix: C · K · K, ordered (c, ky, kx).
    public var patchSize: Int { kernel * kernel * channels }
    /// True when the window fits the input at least once.
    public var isValid: Bool {
        height > 0 && width > 0 && channels > 0 && kernel > 0 && stride > 0 && padding >= 0
            && height + 2 * padding >= kernel && width + 2 * padding >= kernel
    }
}

/// im2col and its adjoint for one channels-first image ([C, H, W]).
///
/// A convolution of one image is one GEMM: the weights [Cout, C·K·K] times the patch matrix
/// `col` [C·K·K, OH·OW] gives the output [Cout, OH·OW], again channels-first. Row (c, ky, kx) of
/// `col` is the input plane c shifted by (ky − p, kx − p) and subsampled by the stride, so for
/// stride 1 each output row of it is one contiguous run of the input (zeros in the padding).
/// Per image the matrix is small enough to stay in cache between its writing and the GEMM.
public enum Im2col {
    /// Writes the patch matrix of `x` [C, H, W] into `col` [C·K·K, OH·OW]. Stride-1 windows run
    /// in C at the process's vector level (`VectorLevel`, CKernels) unless `level` names
    /// another; the loops below are the generic level. Every level writes the same floats.
    public static func forward(
        _ x: UnsafePointer<Float>, _ g: WindowGeometry, into col: UnsafeMutablePointer<Float>,
        level: VectorLevel = .current
    ) {
        if g.stride == 1 && level > .generic {
            withUnsafePointer(to: g.cWindow) { mia_im2col_s1(level.rawValue, x, $0, col) }
            return
        }
        let (h, w, k, s, p) = (g.height, g.width, g.kernel, g.stride, g.padding)
        let (oh, ow) = (g.outHeight, g.outWidth)
        var dst = col
        if p == 0 && s == 1 {
            // No padding, unit stride: every row is a plain copy of OW floats.
            for c in 0..<g.channels {
                let plane = x + c &* h &* w
                for ky in 0..<k {
                    for kx in 0..<k {
                        let src = plane + (ky &* w &+ kx)
                        for oy in 0..<oh { copy(src + oy &* w, to: dst + oy &* ow, count: ow) }
                        dst += oh &* ow
                    }
                }
            }
            return
        }
        for c in 0..<g.channels {
            let plane = x + c &* h &* w
            for ky in 0..<k {
                for kx in 0..<k {
                    // Output columns whose input column ox·s + kx − p lies inside [0, w).
                    let lo = min(ow, max(0, (p &- kx &+ s &- 1) / s))
                    let hi = max(lo, min(ow, (w &+ p &- kx &+ s &- 1) / s))
                    for oy in 0..<oh {
                        let iy = oy &* s &- p &+ ky
                        let row = dst + oy &* ow
                        if iy < 0 || iy >= h {
                            for ox in 0..<ow { row[ox] = 0 }
                            continue
                        }
                        for ox in 0..<lo { row[ox] = 0 }
                        let src = plane + (iy &* w &+ kx &- p)
                        if s == 1 {
                            copy(src + lo, to: row + lo, count: hi &- lo)
                        } else {
                            for ox in lo..<hi { row[ox] = src[ox &* s] }
                        }
                        for ox in hi..<ow { row[ox] = 0 }
                    }
                    dst += oh &* ow
                }
            }
        }
    }

    /// Copies `count` floats in 8-wide vectors (a `memcpy` call costs more for runs this short).
    /// A run of 8 or more ends with one vector ending at `count`, overlapping the one before
    /// (it rewrites equal values) instead of a scalar tail: LeNet-5's rows are 10 and 28 floats.
    @inline(__always)
    public static func copy(_ src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i &+ 8 <= count {
            UnsafeMutableRawPointer(dst + i).storeBytes(
                of: UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
            i &+= 8
        }
        if i < count && count >= 8 {
            let last = count &- 8
            UnsafeMutableRawPointer(dst + last).storeBytes(
                of: UnsafeRawPointer(src + last).loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
            return
        }
        while i < count {
            dst[i] = src[i]
            i &+= 1
        }
    }

    /// `dst[i] += src[i]` for a short run, in 8-wide vectors.
    @inline(__always)
    static func add(_ src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i &+ 8 <= count {
            let v =
                UnsafeRawPointer(dst + i).loadUnaligned(as: SIMD8<Float>.self)
                + UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(dst + i).storeBytes(of: v, as: SIMD8<Float>.self)
            i &+= 8
        }
        while i < count {
            dst[i] += src[i]
            i &+= 1
        }
    }

    /// The adjoint of `forward`: `dx` [C, H, W] is overwritten with, for each input value, the
    /// sum of the `dcol` entries of every patch position that read it, added to 0 in the row
    /// order (c, ky, kx) of the loops below at every level (the C kernels of stride-1 windows
    /// vectorise across inputs, never across one input's terms).
    public static func backward(
        _ dcol: UnsafePointer<Float>, _ g: WindowGeometry, into dx: UnsafeMutablePointer<Float>,
        level: VectorLevel = .current
    ) {
        if g.stride == 1 && level > .generic {
            withUnsafePointer(to: g.cWindow) { mia_col2im_s1(level.rawValue, dcol, $0, dx) }
            return
        }
        let (h, w, k, s, p) = (g.height, g.width, g.kernel, g.stride, g.padding)
        let (oh, ow) = (g.outHeight, g.outWidth)
        dx.update(repeating: 0, count: g.inputSize)
        var src = dcol
        if p == 0 && s == 1 {
            for c in 0..<g.channels {
                let plane = dx + c &* h &* w
                for ky in 0..<k {
                    for kx in 0..<k {
                        let d = plane + (ky &* w &+ kx)
                        for oy in 0..<oh { add(src + oy &* ow, to: d + oy &* w, count: ow) }
                        src += oh &* ow
                    }
                }
            }
            return
        }
        for c in 0..<g.channels {
            let plane = dx + c &* h &* w
            for ky in 0..<k {
                for kx in 0..<k {
                    let lo = min(ow, max(0, (p &- kx &+ s &- 1) / s))
                    let hi = max(lo, min(ow, (w &+ p &- kx &+ s &- 1) / s))
                    for oy in 0..<oh {
                        let iy = oy &* s &- p &+ ky
                        if iy < 0 || iy >= h { continue }
                        let row = src + oy &* ow
                        let d = plane + (iy &* w &+ kx &- p)
                        if s == 1 {
                            for ox in lo..<hi { d[ox] += row[ox] }
                        } else {
                            for ox in lo..<hi { d[ox &* s] += row[ox] }
                        }
                    }
                    src += oh &* ow
                }
            }
        }
    }
}

/// im2col over a zero-padded copy of the image with "wide" rows, for stride-1 convolutions.
///
/// The image is first copied into a zero-padded plane [C, Hp, Wp] (`Hp = H + 2p`,
/// `Wp = W + 2p`). If the output is computed at every one of the Wp columns of each output row
/// (the last `K − 1` of them are discarded), row (c, ky, kx) of the patch matrix is one
/// contiguous run of the padded plane, `padded[c][ky · Wp + kx + n]` for n in 0..<OH·Wp: K·K·C
/// block copies per image instead of K·K·C·OH short row copies. The GEMM does `Wp / OW` times
/// the useful work, so this pays only when the padding is a small share of the width.
public enum WideIm2col {
    /// Floats of the padded plane buffer, with the K − 1 floats the last block reads past it.
    public static func paddedSize(_ g: WindowGeometry) -> Int {
        g.channels * (g.height + 2 * g.padding) * (g.width + 2 * g.padding) + g.kernel
    }
    /// Columns of the wide patch matrix and output: OH · Wp.
    public static func wideColumns(_ g: WindowGeometry) -> Int { g.outHeight * (g.width + 2 * g.padding) }

    /// Copies `x` [C, H, W] into the interior of `padded`, whose border must already be zero.
    public static func pad(_ x: UnsafePointer<Float>, _ g: WindowGeometry, into padded: UnsafeMutablePointer<Float>) {
        let (h, w, p) = (g.height, g.width, g.padding)
        let wp = w &+ 2 &* p
        let hp = h &+ 2 &* p
        for c in 0..<g.channels {
            for iy in 0..<h {
                Im2col.copy(x + (c &* h &+ iy) &* w, to: padded + ((c &* hp &+ iy &+ p) &* wp &+ p), count: w)
            }
        }
    }

    /// Writes the wide patch matrix [C·K·K, OH·Wp] of a padded image.
    public static func forward(padded: UnsafePointer<Float>, _ g: WindowGeometry, into col: UnsafeMutablePointer<Float>)
    {
        let (k, p) = (g.kernel, g.padding)
        let wp = g.width &+ 2 &* p
        let plane = (g.height &+ 2 &* p) &* wp
        let n = wideColumns(g)
        var dst = col
        for c in 0..<g.channels {
            for ky in 0..<k {
                for kx in 0..<k {
                    dst.update(from: padded + (c &* plane &+ ky &* wp &+ kx), count: n)
                    dst += n
                }
            }
        }
    }

    /// The adjoint of `pad` after `forward`: sums the wide patch gradient `dcol` into the padded
    /// gradient (scratch, `paddedSize` floats) and crops it into `dx` [C, H, W].
    public static func backward(
        _ dcol: UnsafePointer<Float>, _ g: WindowGeometry, scratch: UnsafeMutablePointer<Float>,
        into dx: UnsafeMutablePointer<Float>
    ) {
        let (h, w, k, p) = (g.height, g.width, g.kernel, g.padding)
        let wp = w &+ 2 &* p
        let hp = h &+ 2 &* p
        let plane = hp &* wp
        let n = wideColumns(g)
        scratch.update(repeating: 0, count: paddedSize(g))
        var src = dcol
        for c in 0..<g.channels {
            for ky in 0..<k {
                for kx in 0..<k {
                    let d = scratch + (c &* plane &+ ky &* wp &+ kx)
                    for i in 0..<n { d[i] += src[i] }
                    src += n
                }
            }
        }
        for c in 0..<g.channels {
            for iy in 0..<h {
                Im2col.copy(scratch + ((c &* hp &+ iy &+ p) &* wp &+ p), to: dx + (c &* h &+ iy) &* w, count: w)
            }
        }
    }
}
