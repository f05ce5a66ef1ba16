#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The sgemm rate the run's products get: `mia-audit doctor`'s `sgemm` line and `metrics.json`'s
/// `blas.gflops`.
///
/// It times 512 × 512 × 512 products through `BLAS.gemm`, the path every product of a training
/// and of inference takes: cut into the pieces `GEMMPieces` names for that shape (8 pieces of 64
/// columns, each a one-thread sgemm) and spread over the current thread count. So it is what a
/// dense layer's products get at that thread count, below one large OpenBLAS call (2,048³ in
/// `NativeBench --mode gemm`), whose pieces are larger.
///
/// Wall time counts time the process waited for a core, so on a machine shared with other work
/// the rate is the best of several short windows (the products when the process has its
/// threads), and the CPU-time rate beside it (FLOPs per CPU second of the process, i.e. per
/// busy thread) shows the kernel's own speed whatever the load.
public struct GEMMRate: Sendable, Equatable {
    /// The product's side.
    public static let size = 512
    /// Best window's rate, GFLOP/s of wall time.
    public let gflops: Double
    /// FLOPs over the process's CPU seconds in all windows, GFLOP/s per busy thread.
    public let gflopsPerThread: Double
    /// Threads the pieces spread over.
    public let threads: Int
    /// How the product is cut.
    public let pieces: GEMMPieces
}

extension BLAS {
    /// Times `windows` windows of at least `seconds` of 512³ products each (after one warm-up
    /// product) at the current thread count.
    public static func measureRate(windows: Int = 5, seconds: Double = 0.02) -> GEMMRate {
        let n = GEMMRate.size
        let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 0.25, count: n * n)
        var c = [Float](repeating: 0, count: n * n)
        func product() { gemm(false, false, m: n, n: n, k: n, a, lda: n, b, ldb: n, beta: 0, &c, ldc: n) }
        let flops = 2 * Double(n * n * n)
        product()
        var best = 0.0
        var products = 0
        let cpu0 = clockSeconds(CLOCK_PROCESS_CPUTIME_ID)
        for _ in 0..<max(windows, 1) {
            let start = clockSeconds(CLOCK_MONOTONIC)
            var count = 0
            repeat {
                product()
                count += 1
            } while clockSeconds(CLOCK_MONOTONIC) - start < seconds
            best = max(best, flops * Double(count) / (clockSeconds(CLOCK_MONOTONIC) - start) / 1e9)
            products += count
        }
        let cpu = clockSeconds(CLOCK_PROCESS_CPUTIME_ID) - cpu0
        return GEMMRate(
            gflops: best, gflopsPerThread: flops * Double(products) / max(cpu, 1e-9) / 1e9, threads: threadCount,
            pieces: GEMMPieces(m: n, n: n, k: n))
    }

    /// `measureRate`'s wall-time rate over about `seconds` in all, GFLOP/s.
    public static func measureGFLOPS(seconds: Double = 0.1) -> Double {
        measureRate(windows: 5, seconds: seconds / 5).gflops
    }
}

/// Seconds on `clock` (monotonic, process or thread CPU time); also `FMAPeak`'s.
func clockSeconds(_ clock: clockid_t) -> Double {
    var t = timespec()
    clock_gettime(clock, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}
