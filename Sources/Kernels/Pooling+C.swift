import CKernels

/// The hook from `Pooling`'s max pooling to the AVX2 / AVX-512 kernels of CKernels/pool.c
/// (contract in mia_pool.h): 2×2 windows, stride 2, no padding, at a level above generic. Every
/// level gives the plain loops' bits (`PoolingReluLevelTests`).
extension Pooling {
    /// True when `g` and `level` are the C kernels' (a 2×2 / 2 window that fits the input).
    static func runsInC(_ g: WindowGeometry, level: VectorLevel) -> Bool {
        level != .generic && g.kernel == 2 && g.stride == 2 && g.padding == 0 && g.height >= 2 && g.width >= 2
    }

    /// Runs the C forward and returns true, or returns false having done nothing.
    static func vectorMaxForward(
        _ x: UnsafePointer<Float>, _ g: WindowGeometry, into y: UnsafeMutablePointer<Float>,
        argmax: UnsafeMutablePointer<Int32>, level: VectorLevel
    ) -> Bool {
        guard runsInC(g, level: level) else { return false }
        mia_maxpool2_forward(level.rawValue, x, g.channels, g.height, g.width, y, argmax)
        return true
    }

    /// Runs the C gradient and returns true, or returns false having done nothing.
    static func vectorMaxBackward(
        _ dy: UnsafePointer<Float>, argmax: UnsafePointer<Int32>, _ g: WindowGeometry,
        into dx: UnsafeMutablePointer<Float>, level: VectorLevel
    ) -> Bool {
        guard runsInC(g, level: level) else { return false }
        mia_maxpool2_backward(level.rawValue, dy, argmax, g.channels, g.height, g.width, dx)
        return true
    }
}
