import CKernels

/// Max and average pooling of one channels-first image ([C, H, W] -> [C, OH, OW]), windows
/// without padding (`WindowGeometry` with `padding` 0).
public enum Pooling {
    /// `y[c, oy, ox] = max` over the window; `argmax` receives, for each output, the offset of
    /// the chosen input inside the image (the first maximum in row-major window order).
    /// 2×2 / 2 windows run in C above the generic `level` (`Pooling+C`); the loops below are
    /// the generic level.
    public static func maxForward(
        _ x: UnsafePointer<Float>, _ g: WindowGeometry, into y: UnsafeMutablePointer<Float>,
        argmax: UnsafeMutablePointer<Int32>, level: VectorLevel = .current
    ) {
        if vectorMaxForward(x, g, into: y, argmax: argmax, level: level) { return }
        let (h, w, k, s) = (g.height, g.width, g.kernel, g.stride)
        let (oh, ow) = (g.outHeight, g.outWidth)
        var out = 0
        for c in 0..<g.channels {
            let base = c &* h &* w
            for oy in 0..<oh {
                if k == 2 && s == 2 && maxRow2x2(x, r0: base &+ 2 &* oy &* w, w: w, ow: ow, y + out, argmax + out) {
                    // The common 2×2 / 2 case in vectors (`Pooling+Vector`).
                } else if k == 2 && s == 2 {
                    // The same, scalar, for rows of fewer than 4 outputs.
                    let r0 = base &+ 2 &* oy &* w
                    let r1 = r0 &+ w
                    for ox in 0..<ow {
                        var best = r0 &+ 2 &* ox
                        var m = x[best]
                        if x[best &+ 1] > m { m = x[best &+ 1]; best = best &+ 1 }
                        let b2 = r1 &+ 2 &* ox
                        if x[b2] > m { m = x[b2]; best = b2 }
                        if x[b2 &+ 1] > m { m = x[b2 &+ 1]; best = b2 &+ 1 }
                        y[out &+ ox] = m
                        argmax[out &+ ox] = Int32(truncatingIfNeeded: best)
                    }
                } else {
                    for ox in 0..<ow {
                        var best = base &+ oy &* s &* w &+ ox &* s
                        var m = x[best]
                        for ky in 0..<k {
                            let row = base &+ (oy &* s &+ ky) &* w &+ ox &* s
                            for kx in 0..<k where x[row &+ kx] > m {
                                m = x[row &+ kx]
                                best = row &+ kx
                            }
                        }
                        y[out &+ ox] = m
                        argmax[out &+ ox] = Int32(truncatingIfNeeded: best)
                    }
                }
                out = out &+ ow
            }
        }
    }

    /// Routes each `dy` to the input that won its window; `dx` [C, H, W] is overwritten.
    /// `argmax` is what `maxForward` wrote for the same geometry.
    public static func maxBackward(
        _ dy: UnsafePointer<Float>, argmax: UnsafePointer<Int32>, _ g: WindowGeometry,
        into dx: UnsafeMutablePointer<Float>, level: VectorLevel = .current
    ) {
        if vectorMaxBackward(dy, argmax: argmax, g, into: dx, level: level) { return }
        dx.update(repeating: 0, count: g.inputSize)
        for i in 0..<(g.channels &* g.outPlane) { dx[Int(argmax[i])] += dy[i] }
    }

    /// `y[c, oy, ox]` = mean over the window (K² inputs).
    public static func averageForward(
        _ x: UnsafePointer<Float>, _ g: WindowGeometry, into y: UnsafeMutablePointer<Float>
    ) {
        let (h, w, k, s) = (g.height, g.width, g.kernel, g.stride)
        let (oh, ow) = (g.outHeight, g.outWidth)
        let scale = 1 / Float(k &* k)
        var out = y
        for c in 0..<g.channels {
            let plane = x + c &* h &* w
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var sum: Float = 0
                    for ky in 0..<k {
                        let row = plane + ((oy &* s &+ ky) &* w &+ ox &* s)
                        for kx in 0..<k { sum += row[kx] }
                    }
                    out[ox] = sum * scale
                }
                out += ow
            }
        }
    }

    /// Spreads each `dy / K²` over its window; `dx` [C, H, W] is overwritten.
    public static func averageBackward(
        _ dy: UnsafePointer<Float>, _ g: WindowGeometry, into dx: UnsafeMutablePointer<Float>
    ) {
        let (h, w, k, s) = (g.height, g.width, g.kernel, g.stride)
        let (oh, ow) = (g.outHeight, g.outWidth)
        let scale = 1 / Float(k &* k)
        dx.update(repeating: 0, count: g.inputSize)
        var src = dy
        for c in 0..<g.channels {
            let plane = dx + c &* h &* w
            for oy in 0..<oh {
                for ox in 0..<ow {
                    let v = scale * src[ox]
                    for ky in 0..<k {
                        let row = plane + ((oy &* s &+ ky) &* w &+ ox &* s)
                        for kx in 0..<k { row[kx] += v }
                    }
                }
                src += ow
            }
        }
    }
}
