#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Single-precision matrix products on OpenBLAS, in row-major terms.
///
/// The one file of the project's numeric code that calls BLAS; OpenBLAS itself is opened at
/// first use (`OpenBLASLibrary`), with its kernel chosen for the CPU. Thread count is the host's
/// (it sets it once per run with `setThreadCount`); nothing else changes it. OpenBLAS itself
/// always runs on one thread: a large product is cut into fixed pieces by its shape alone
/// (`GEMMPieces`), each a one-thread sgemm, spread over the host's threads. So a product's bits
/// depend on the shape and the kernel, never on the thread count, which the native backend's
/// determinism relies on (a model's bits are a function of its store key).
public enum BLAS {
    /// `C = alpha · op(A) · op(B) + beta · C`, all row-major.
    ///
    /// Shapes: `op(A)` is [m, k], `op(B)` is [k, n], `C` is [m, n]; `lda`, `ldb`, `ldc` are the
    /// row strides of the matrices as stored (before `op`). `op(X)` is `Xᵀ` when its flag is set.
    /// Runs as the pieces `GEMMPieces(m:n:k:)` names, spread over `threadCount` threads
    /// (`Parallel.spread`); a product of one piece runs on the calling thread, and so does every
    /// product inside `BLAS.onThisThread`, as one call.
    ///
    /// `epilogue(rows, columns)`, when given, runs on each block of C right after the piece that
    /// wrote it, on the same thread while the block is in its cache (a dense layer's bias and
    /// activation): it must write only that block, and compute each entry from that entry alone,
    /// so that the result does not depend on the pieces either.
    public static func gemm(
        _ transA: Bool, _ transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
        _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
        beta: Float, _ c: UnsafeMutablePointer<Float>, ldc: Int,
        epilogue: ((_ rows: Range<Int>, _ columns: Range<Int>) -> Void)? = nil
    ) {
        let library = OpenBLASLibrary.shared
        let pieces = GEMMPieces(m: m, n: n, k: k)
        // CBLAS constants: row-major 101, no transpose 111, transpose 112.
        func sgemm(
            m: Int, n: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>
        ) {
            library.sgemm(
                101, transA ? 112 : 111, transB ? 112 : 111,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        }
        guard pieces.count > 1, !WholeProducts.isSet else {
            sgemm(m: m, n: n, a, b, c)
            epilogue?(0..<m, 0..<n)
            return
        }
        // Each piece writes only its rows (or columns) of C.
        Parallel.spread(pieces.count) { p in
            if library.isOpenMP { library.setNumThreads(1) }
            let r = pieces.range(p)
            switch pieces.axis {
            case .rows:  // rows r of op(A): rows of A, or columns when A is stored transposed
                sgemm(m: r.count, n: n, a + (transA ? r.lowerBound : r.lowerBound * lda), b, c + r.lowerBound * ldc)
                epilogue?(r, 0..<n)
            case .columns:  // columns r of op(B): columns of B, or rows when B is stored transposed
                sgemm(m: m, n: r.count, a, b + (transB ? r.lowerBound * ldb : r.lowerBound), c + r.lowerBound)
                epilogue?(0..<m, r)
            }
        }
    }

    /// The number of threads a product's pieces spread over, as the host set it (OpenBLAS's
    /// default until it does; `BLASThreads`).
    public static var threadCount: Int {
        _ = OpenBLASLibrary.shared  // opening OpenBLAS sets the default
        return BLASThreads.current
    }

    /// Sets the number of threads products spread over (the host's call, once per run or per
    /// stage). OpenBLAS itself stays on one thread.
    public static func setThreadCount(_ count: Int) {
        _ = OpenBLASLibrary.shared
        BLASThreads.set(count)
    }

    /// Opens OpenBLAS now (choosing its kernel) and says which it is; throws instead of trapping
    /// when it cannot be opened. Later calls return the same answer.
    public static func load() throws -> BLASLibraryInfo { try OpenBLASLibrary.loaded.get().info }

    /// The library, version and kernel running (opens OpenBLAS if no BLAS call has yet).
    public static var library: BLASLibraryInfo { OpenBLASLibrary.shared.info }

    /// Whether this process's sgemm reproduces exact small products (the check a chosen kernel
    /// passes before it is kept): nil when it does, otherwise the first difference.
    public static func checkAgainstNaiveProduct() -> String? {
        OpenBLASLibrary.agreesWithNaiveProduct(OpenBLASLibrary.shared.sgemm)
    }
}
