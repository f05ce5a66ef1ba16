import COpenBLAS

/// Single-precision matrix products on OpenBLAS, in row-major terms.
///
/// The one file of the project's numeric code that calls `cblas_*`. Thread count is the host's
/// (it sets it once per run); nothing here changes it. With a fixed thread count OpenBLAS sgemm
/// gives bit-identical results run to run, which the native backend's determinism relies on.
public enum BLAS {
    /// `C = alpha · op(A) · op(B) + beta · C`, all row-major.
    ///
    /// Shapes: `op(A)` is [m, k], `op(B)` is [k, n], `C` is [m, n]; `lda`, `ldb`, `ldc` are the
    /// row strides of the matrices as stored (before `op`). `op(X)` is `Xᵀ` when its flag is set.
    @inline(__always)
    public static func gemm(
        _ transA: Bool, _ transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
        _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
        beta: Float, _ c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// The number of threads OpenBLAS uses, as the host set it.
    public static var threadCount: Int { Int(openblas_get_num_threads()) }
}
