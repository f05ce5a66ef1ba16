import CKernels

/// Direct stride-1 convolution of one channels-first image, for thin layers (few output
/// channels, small kernels), where im2col + a small GEMM spends its time copying and packing.
/// The C kernels (CKernels/conv_direct.c, contract in mia_conv.h) run at the process's
/// `VectorLevel`: AVX-512, AVX2 + FMA, or plain C. Each output element is one chain of fused
/// multiply-adds, or 16 of them and a fixed sum of the 16, in an order fixed by the shape alone,
/// the same at every level, so a model's bits do not depend on the level
/// (`DirectConvolutionTests`).
///
/// Shapes as `Conv2D`: x [C, H, W], weights [filters, C·K·K] (rows ordered (c, ky, kx)),
/// output [filters, OH, OW]. `scratch` holds `scratchCount` floats (a zero-padded copy).
public enum DirectConvolution {
    /// True when the kernels take this window: stride 1, padding below the kernel size.
    public static func supports(_ g: WindowGeometry, filters: Int) -> Bool {
        g.isValid && filters > 0 && withUnsafePointer(to: g.cWindow) { mia_conv_supported($0, filters) != 0 }
    }

    /// True when `Conv2D` should use the direct kernels rather than im2col + GEMM: a supported
    /// window with at most 16 filters (LeNet-5's conv1 and conv2; measured in benchmarks/README.md).
    /// Depends on the shape only, never on the CPU, so a model's arithmetic is the same everywhere.
    public static func suits(_ g: WindowGeometry, filters: Int) -> Bool {
        supports(g, filters: filters) && filters <= 16
    }

    /// Floats of scratch one call needs.
    public static func scratchCount(_ g: WindowGeometry, filters: Int) -> Int {
        withUnsafePointer(to: g.cWindow) { Int(mia_conv_scratch($0, filters)) }
    }

    /// Overwrites `y` with the convolution of `x` by `weights` (no bias), for `images` images
    /// stored one after the other in `x` and `y`; the weights' preparation (a transposed copy
    /// in `scratch`, for layers run across their output channels) is done once for all of them.
    /// The same bits as one call per image.
    public static func forward(
        _ x: UnsafePointer<Float>, _ g: WindowGeometry, filters: Int, weights: UnsafePointer<Float>,
        scratch: UnsafeMutablePointer<Float>, into y: UnsafeMutablePointer<Float>, images: Int = 1,
        level: VectorLevel = .current
    ) {
        precondition(images >= 0, "negative image count")
        withUnsafePointer(to: g.cWindow) {
            mia_conv_forward_images(level.rawValue, x, images, $0, filters, weights, scratch, y)
        }
    }

    /// Adds the filter gradient of one image (output gradient `dz`) to `dw` [filters, C·K·K].
    public static func filterGradient(
        _ x: UnsafePointer<Float>, _ g: WindowGeometry, filters: Int, outputGradient dz: UnsafePointer<Float>,
        scratch: UnsafeMutablePointer<Float>, into dw: UnsafeMutablePointer<Float>, level: VectorLevel = .current
    ) {
        withUnsafePointer(to: g.cWindow) { mia_conv_filter_grad(level.rawValue, x, $0, filters, dz, scratch, dw) }
    }

    /// Both gradients of `images` images stored one after the other in `x`, `dz` and `dx`: adds
    /// each image's filter gradient to `dw` in image order and overwrites its input gradient
    /// (skipped when `dx` is nil). The weights' and each output gradient's preparation (transposed
    /// copies in `scratch`) is done once. The same bits as `filterGradient` then `inputGradient`
    /// per image.
    public static func backward(
        _ x: UnsafePointer<Float>, _ g: WindowGeometry, filters: Int, outputGradient dz: UnsafePointer<Float>,
        weights: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>,
        filterGradient dw: UnsafeMutablePointer<Float>,
        inputGradient dx: UnsafeMutablePointer<Float>?, images: Int, level: VectorLevel = .current
    ) {
        precondition(images >= 0, "negative image count")
        withUnsafePointer(to: g.cWindow) {
            mia_conv_backward_images(level.rawValue, x, dz, images, $0, filters, weights, scratch, dw, dx)
        }
    }

    /// Overwrites `dx` [C, H, W] with the input gradient of one image.
    public static func inputGradient(
        _ dz: UnsafePointer<Float>, _ g: WindowGeometry, filters: Int, weights: UnsafePointer<Float>,
        scratch: UnsafeMutablePointer<Float>, into dx: UnsafeMutablePointer<Float>, level: VectorLevel = .current
    ) {
        withUnsafePointer(to: g.cWindow) { mia_conv_input_grad(level.rawValue, dz, $0, filters, weights, scratch, dx) }
    }
}
