import CKernels

/// The hook from `Pooling`'s max pooling to the AVX2 / AVX-512 kernels of CKernels/pool.c
/// (contract in mia_pool.h): 2×2 windows, stride 2, no padding, at a level above generic, for the
/// shapes the C side takes (it declines the rest). Every level gives the plain loops' bits
/// (`PoolingReluLevelTests`).
extension Pooling {
    /// True when the C kernels may take `g` at `level` (a 2×2 / 2 window, above generic).
    static func runsInC(_ g: WindowGeometry, level: VectorLevel) -> Bool {
        level != .generic && g.kernel == 2 && g.stride == 2 && g.padding == 0
    }

    /// Runs the C forward and returns true, or returns false having written nothing.
    static func vectorMaxForward(
        _ x: UnsafePointer<Float>, _ g: WindowGeometry, into y: UnsafeMutablePointer<Float>,
        argmax: UnsafeMutablePointer<Int32>, level: VectorLevel
    ) -> Bool {
        runsInC(g, level: level)
            && mia_maxpool2_forward(level.rawValue, x, g.channels, g.height, g.width, y, argmax) != 0
    }

    /// Runs the C gradient and returns true, or returns false having written nothing.
    static func vectorMaxBackward(
        _ dy: UnsafePointer<Float>, argmax: UnsafePointer<Int32>, _ g: WindowGeometry,
        into dx: UnsafeMutablePointer<Float>, level: VectorLevel
    ) -> Bool {
        runsInC(g, level: level)
            && mia_maxpool2_backward(level.rawValue, dy, argmax, g.channels, g.height, g.width, dx) != 0
    }
}
