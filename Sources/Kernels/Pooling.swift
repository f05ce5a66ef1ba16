/// Max and average pooling over channels-last (NHWC) images, windows without padding.
///
/// Geometry: `WindowGeometry` with `padding` 0; output [batch, OH, OW, C].
public enum Pooling {
    /// `y[b, oy, ox, c] = max` over the window; `argmax` receives, for each output, the offset
    /// of the chosen input inside its image (the first maximum in row-major window order).
    public static func maxForward(
        _ x: UnsafePointer<Float>, _ g: WindowGeometry, batch: Int,
        into y: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>
    ) {
        let (w, c, k, s) = (g.width, g.channels, g.kernel, g.stride)
        let (oh, ow) = (g.outHeight, g.outWidth)
        var out = y
        var arg = argmax
        for b in 0..<batch {
            let image = x + b &* g.inputSize
            for oy in 0..<oh {
                for ox in 0..<ow {
                    let first = (oy &* s &* w &+ ox &* s) &* c
                    for t in 0..<c {
                        out[t] = image[first &+ t]
                        arg[t] = Int32(first &+ t)
                    }
                    for ky in 0..<k {
                        for kx in 0..<k where ky != 0 || kx != 0 {
                            let offset = ((oy &* s &+ ky) &* w &+ ox &* s &+ kx) &* c
                            let src = image + offset
                            for t in 0..<c where src[t] > out[t] {
                                out[t] = src[t]
                                arg[t] = Int32(offset &+ t)
                            }
                        }
                    }
                    out += c
                    arg += c
                }
            }
        }
    }

    /// Routes each `dy` to the input that won its window; `dx` is overwritten.
    public static func maxBackward(
        _ dy: UnsafePointer<Float>, argmax: UnsafePointer<Int32>, _ g: WindowGeometry, batch: Int,
        into dx: UnsafeMutablePointer<Float>
    ) {
        let outSize = g.outHeight &* g.outWidth &* g.channels
        dx.update(repeating: 0, count: batch &* g.inputSize)
        for b in 0..<batch {
            let image = dx + b &* g.inputSize
            let d = dy + b &* outSize
            let a = argmax + b &* outSize
            for i in 0..<outSize { image[Int(a[i])] += d[i] }
        }
    }

    /// `y[b, oy, ox, c]` = mean over the window (K² inputs).
    public static func averageForward(
        _ x: UnsafePointer<Float>, _ g: WindowGeometry, batch: Int, into y: UnsafeMutablePointer<Float>
    ) {
        let (w, c, k, s) = (g.width, g.channels, g.kernel, g.stride)
        let (oh, ow) = (g.outHeight, g.outWidth)
        let scale = 1 / Float(k &* k)
        var out = y
        for b in 0..<batch {
            let image = x + b &* g.inputSize
            for oy in 0..<oh {
                for ox in 0..<ow {
                    for t in 0..<c { out[t] = 0 }
                    for ky in 0..<k {
                        for kx in 0..<k {
                            let src = image + ((oy &* s &+ ky) &* w &+ ox &* s &+ kx) &* c
                            for t in 0..<c { out[t] += src[t] }
                        }
                    }
                    for t in 0..<c { out[t] *= scale }
                    out += c
                }
            }
        }
    }

    /// Spreads each `dy / K²` over its window; `dx` is overwritten.
    public static func averageBackward(
        _ dy: UnsafePointer<Float>, _ g: WindowGeometry, batch: Int, into dx: UnsafeMutablePointer<Float>
    ) {
        let (w, c, k, s) = (g.width, g.channels, g.kernel, g.stride)
        let (oh, ow) = (g.outHeight, g.outWidth)
        let scale = 1 / Float(k &* k)
        dx.update(repeating: 0, count: batch &* g.inputSize)
        var src = dy
        for b in 0..<batch {
            let image = dx + b &* g.inputSize
            for oy in 0..<oh {
                for ox in 0..<ow {
                    for ky in 0..<k {
                        for kx in 0..<k {
                            let d = image + ((oy &* s &+ ky) &* w &+ ox &* s &+ kx) &* c
                            for t in 0..<c { d[t] += scale * src[t] }
                        }
                    }
                    src += c
                }
            }
        }
    }
}
