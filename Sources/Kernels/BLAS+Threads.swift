#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The run's BLAS threads: how many threads `BLAS.gemm` spreads a product's pieces over.
///
/// OpenBLAS itself always runs on one thread (`OpenBLASLibrary` sets it when it opens the
/// library): its threaded sgemm sums in another order than its one-thread path, so a product it
/// threads would give bits that depend on the thread count (`GEMMPieces`). The count the host
/// sets lives in the process environment, `MIA_AUDIT_BLAS_THREADS`, because every plugin links
/// its own copy of Kernels and all copies must see the host's count (the same way
/// `OpenBLASKernelChoice.markerVariable` is shared). The first copy to open OpenBLAS sets it, when
/// absent, to OpenBLAS's own default (`OPENBLAS_NUM_THREADS`, else the cores), so a process that
/// loads a plugin into another host gets that default. Child processes inherit it; mia-audit
/// sets it from `run.threads` before any training.
enum BLASThreads {
    static let variable = "MIA_AUDIT_BLAS_THREADS"

    /// The count set, at least 1 (1 when the variable is absent or not a number).
    static var current: Int {
        guard let value = getenv(variable) else { return 1 }
        return max(1, Int(atoi(value)))
    }

    static func set(_ count: Int) { setenv(variable, String(max(1, count)), 1) }

    /// At the first opening of OpenBLAS in the process: keep a count already set (by the host or
    /// by another copy of Kernels), otherwise take OpenBLAS's default.
    static func adoptDefault(_ openBLASDefault: Int) {
        if getenv(variable) == nil { setenv(variable, String(max(1, openBLASDefault)), 0) }
    }
}
