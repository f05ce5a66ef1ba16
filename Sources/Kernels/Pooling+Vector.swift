/// The 2×2, stride-2 max pool of one output row in SIMD vectors (LeNet-5's pools; W1's profile
/// had the scalar loop at 7 % of training): the generic level's code, Swift's SIMD compiling to
/// SSE2; AVX2 and AVX-512 run CKernels/pool.c instead (`Pooling+C`).
///
/// Bit-identical to the scalar loop of `Pooling.maxForward`, maxima and argmax alike: the four
/// window entries are compared in the same order (top-left, top-right, bottom-left,
/// bottom-right) with the same strict `>`, so the first maximum wins and a NaN never replaces
/// an earlier value. A row of `ow` outputs runs as vectors of 8 (or 4) from the left, the last
/// vector ending at `ow` (overlapping the one before it, which only rewrites equal values).
extension Pooling {
    /// Outputs `0..<ow` of one row: `y[ox]`, `argmax[ox]` from input rows `r0` and `r0 + w`
    /// (offsets inside the image `x`). Returns false (nothing written) when `ow < 4`.
    @inline(__always)
    static func maxRow2x2(
        _ x: UnsafePointer<Float>, r0: Int, w: Int, ow: Int, _ y: UnsafeMutablePointer<Float>,
        _ argmax: UnsafeMutablePointer<Int32>
    ) -> Bool {
        if ow >= 8 {
            var ox = 0
            while true {
                let start = min(ox, ow &- 8)
                max8(x, r0 &+ 2 &* start, w, y + start, argmax + start)
                ox &+= 8
                if start == ow &- 8 { return true }
            }
        }
        if ow >= 4 {
            var ox = 0
            while true {
                let start = min(ox, ow &- 4)
                max4(x, r0 &+ 2 &* start, w, y + start, argmax + start)
                ox &+= 4
                if start == ow &- 4 { return true }
            }
        }
        return false
    }

    /// 8 windows whose top-left entries are `x[a], x[a + 2], …, x[a + 14]`.
    /// `max8` and `max4` are one comparison sequence at two widths, written out twice on purpose:
    /// sharing it through one generic over the SIMD type (commit 552c0e9) left it unspecialised
    /// and made W1's training about 55 % slower (6.6 s against 10.5 s on a 5-epoch W1 cut, Xeon,
    /// `Cooperlake`), with the same bits.
    @inline(__always)
    private static func max8(
        _ x: UnsafePointer<Float>, _ a: Int, _ w: Int, _ y: UnsafeMutablePointer<Float>,
        _ argmax: UnsafeMutablePointer<Int32>
    ) {
        let top = UnsafeRawPointer(x + a).loadUnaligned(as: SIMD16<Float>.self)
        let bottom = UnsafeRawPointer(x + (a &+ w)).loadUnaligned(as: SIMD16<Float>.self)
        let base = SIMD8<Int32>(repeating: Int32(truncatingIfNeeded: a)) &+ SIMD8<Int32>(0, 2, 4, 6, 8, 10, 12, 14)
        let w32 = Int32(truncatingIfNeeded: w)
        var m = top.evenHalf
        var best = base
        let topRight = top.oddHalf
        let winsTopRight = topRight .> m
        m.replace(with: topRight, where: winsTopRight)
        best.replace(with: base &+ 1, where: winsTopRight)
        let bottomLeft = bottom.evenHalf
        let winsBottomLeft = bottomLeft .> m
        m.replace(with: bottomLeft, where: winsBottomLeft)
        best.replace(with: base &+ w32, where: winsBottomLeft)
        let bottomRight = bottom.oddHalf
        let winsBottomRight = bottomRight .> m
        m.replace(with: bottomRight, where: winsBottomRight)
        best.replace(with: base &+ (w32 &+ 1), where: winsBottomRight)
        UnsafeMutableRawPointer(y).storeBytes(of: m, as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(argmax).storeBytes(of: best, as: SIMD8<Int32>.self)
    }

    /// 4 windows whose top-left entries are `x[a], x[a + 2], x[a + 4], x[a + 6]`.
    @inline(__always)
    private static func max4(
        _ x: UnsafePointer<Float>, _ a: Int, _ w: Int, _ y: UnsafeMutablePointer<Float>,
        _ argmax: UnsafeMutablePointer<Int32>
    ) {
        let top = UnsafeRawPointer(x + a).loadUnaligned(as: SIMD8<Float>.self)
        let bottom = UnsafeRawPointer(x + (a &+ w)).loadUnaligned(as: SIMD8<Float>.self)
        let base = SIMD4<Int32>(repeating: Int32(truncatingIfNeeded: a)) &+ SIMD4<Int32>(0, 2, 4, 6)
        let w32 = Int32(truncatingIfNeeded: w)
        var m = top.evenHalf
        var best = base
        let topRight = top.oddHalf
        let winsTopRight = topRight .> m
        m.replace(with: topRight, where: winsTopRight)
        best.replace(with: base &+ 1, where: winsTopRight)
        let bottomLeft = bottom.evenHalf
        let winsBottomLeft = bottomLeft .> m
        m.replace(with: bottomLeft, where: winsBottomLeft)
        best.replace(with: base &+ w32, where: winsBottomLeft)
        let bottomRight = bottom.oddHalf
        let winsBottomRight = bottomRight .> m
        m.replace(with: bottomRight, where: winsBottomRight)
        best.replace(with: base &+ (w32 &+ 1), where: winsBottomRight)
        UnsafeMutableRawPointer(y).storeBytes(of: m, as: SIMD4<Float>.self)
        UnsafeMutableRawPointer(argmax).storeBytes(of: best, as: SIMD4<Int32>.self)
    }
}
