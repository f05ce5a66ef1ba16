// `NativeBench --mode conv`: LeNet-5's two convolutions per image, as `Conv2D` runs them, by
// im2col + GEMM (the path before the direct kernels) and by the direct kernels
// (`DirectConvolution`), forward and backward (dW and, for conv2, dx). Nanoseconds of thread
// CPU time per image, the fastest of 20 passes over 128 images (a shared machine preempts
// some passes; CPU time does not count the waits).
import Foundation
import Kernels

private func cpuNow() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// The fastest of `passes` runs of `body` over `batch` images, per image, in nanoseconds.
private func fastest(_ batch: Int, passes: Int = 20, _ body: (Int) -> Void) -> Double {
    var best = Double.infinity
    for _ in 0..<passes {
        let t0 = cpuNow()
        for r in 0..<batch { body(r) }
        best = min(best, (cpuNow() - t0) / Double(batch))
    }
    return best * 1e9
}

func convBench() -> [[String: Any]] {
    let shapes: [(String, WindowGeometry, Int, Bool)] = [
        (
            "conv1 1x28x28 k5 p2 -> 6", WindowGeometry(height: 28, width: 28, channels: 1, kernel: 5, padding: 2), 6,
            false
        ),
        ("conv2 6x14x14 k5 -> 16", WindowGeometry(height: 14, width: 14, channels: 6, kernel: 5), 16, true),
    ]
    let batch = 128
    var rows: [[String: Any]] = []
    for (name, g, f, needsDx) in shapes {
        let (patch, plane) = (g.patchSize, g.outPlane)
        let x = (0..<(batch * g.inputSize)).map { Float($0 % 97) * 0.01 }
        let dz = (0..<(batch * f * plane)).map { Float($0 % 89) * 0.01 - 0.4 }
        let w = (0..<(f * patch)).map { Float($0 % 13) * 0.02 - 0.1 }
        var y = [Float](repeating: 0, count: batch * f * plane)
        var dx = [Float](repeating: 0, count: batch * g.inputSize)
        var dw = [Float](repeating: 0, count: f * patch)
        var col = [Float](repeating: 0, count: patch * plane)
        var dcol = [Float](repeating: 0, count: patch * plane)
        var scratch = [Float](repeating: 0, count: DirectConvolution.scratchCount(g, filters: f))
        let gemmForward = fastest(batch) { r in
            x.withUnsafeBufferPointer { Im2col.forward($0.baseAddress! + r * g.inputSize, g, into: &col) }
            y.withUnsafeMutableBufferPointer {
                BLAS.gemm(
                    false, false, m: f, n: plane, k: patch, w, lda: patch, col, ldb: plane, beta: 0,
                    $0.baseAddress! + r * f * plane, ldc: plane)
            }
        }
        let gemmBackward = fastest(batch) { r in
            x.withUnsafeBufferPointer { Im2col.forward($0.baseAddress! + r * g.inputSize, g, into: &col) }
            dz.withUnsafeBufferPointer { d in
                let dzi = d.baseAddress! + r * f * plane
                BLAS.gemm(
                    false, true, m: f, n: patch, k: plane, dzi, lda: plane, col, ldb: plane, beta: 1, &dw, ldc: patch)
                guard needsDx else { return }
                BLAS.gemm(
                    true, false, m: patch, n: plane, k: f, w, lda: patch, dzi, ldb: plane, beta: 0, &dcol, ldc: plane)
                dx.withUnsafeMutableBufferPointer { Im2col.backward(dcol, g, into: $0.baseAddress! + r * g.inputSize) }
            }
        }
        let directForward = fastest(batch) { r in
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer {
                    DirectConvolution.forward(
                        xp.baseAddress! + r * g.inputSize, g, filters: f, weights: w, scratch: &scratch,
                        into: $0.baseAddress! + r * f * plane)
                }
            }
        }
        let directBackward = fastest(batch) { r in
            dz.withUnsafeBufferPointer { d in
                let dzi = d.baseAddress! + r * f * plane
                x.withUnsafeBufferPointer {
                    DirectConvolution.filterGradient(
                        $0.baseAddress! + r * g.inputSize, g, filters: f, outputGradient: dzi, scratch: &scratch,
                        into: &dw)
                }
                guard needsDx else { return }
                dx.withUnsafeMutableBufferPointer {
                    DirectConvolution.inputGradient(
                        dzi, g, filters: f, weights: w, scratch: &scratch, into: $0.baseAddress! + r * g.inputSize)
                }
            }
        }
        print(
            name,
            String(
                format: "im2col+GEMM forward %.0f ns, backward %.0f ns; direct forward %.0f ns, backward %.0f ns",
                gemmForward, gemmBackward, directForward, directBackward))
        rows.append([
            "shape": name, "gemm_forward_ns": gemmForward, "gemm_backward_ns": gemmBackward,
            "direct_forward_ns": directForward, "direct_backward_ns": directBackward,
        ])
    }
    return rows
}
