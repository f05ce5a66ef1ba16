/// Transformed copies of images for query augmentation: a horizontal mirror, then a shift by
/// whole pixels with reflect padding (the border row or column is not repeated: index -1 reads 1,
/// index H reads H - 2), as in LiRA's reference code (Carlini et al. 2022). No global state.
public enum ImageShift {
    /// `count` images of `channels` × `height` × `width` (row-major, channels first), each
    /// mirrored left-right when `mirror`, then moved by `dy` rows down and `dx` columns right:
    /// `out[c, h, w] = m[c, reflect(h - dy), reflect(w - dx)]`, m the (mirrored) image. Shapes:
    /// `images` [count, channels, height, width] f32; returns the same shape. Exact (a copy).
    ///
    /// - Precondition: `|dy| < height` and `|dx| < width` (one reflection suffices).
    public static func apply(
        _ images: UnsafeBufferPointer<Float>, count: Int, channels: Int, height: Int, width: Int, mirror: Bool, dy: Int,
        dx: Int
    ) -> [Float] {
        precondition(abs(dy) < height && abs(dx) < width, "a shift must be smaller than the image")
        precondition(images.count >= count * channels * height * width, "images must be [count, C, H, W]")
        func reflect(_ i: Int, _ n: Int) -> Int { i < 0 ? -i : (i >= n ? 2 * (n - 1) - i : i) }
        let columns = (0..<width).map { w -> Int in
            let source = reflect(w - dx, width)
            return mirror ? width - 1 - source : source
        }
        let rows = (0..<height).map { reflect($0 - dy, height) }
        var out = [Float](repeating: 0, count: count * channels * height * width)
        out.withUnsafeMutableBufferPointer { o in
            for plane in 0..<(count * channels) {
                let base = plane * height * width
                for h in 0..<height {
                    let from = base + rows[h] * width, to = base + h * width
                    for w in 0..<width { o[to + w] = images[from + columns[w]] }
                }
            }
        }
        return out
    }
}
