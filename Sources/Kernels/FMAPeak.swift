import CKernels

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The CPU's measured single-precision multiply-add peak on `threads` threads at a vector level:
/// twelve independent chains of FMAs per thread, nothing else (CKernels/peak.c). No product or
/// network runs faster on the same cores, so `mia-audit doctor` prints the sgemm rate as a share
/// of it: a BLAS kernel far below the CPU (the generic kernels OpenBLAS 0.3.21 takes on recent
/// Xeons ran sgemm at about a fifth of this) shows at once.
public struct FMAPeak: Sendable, Equatable {
    /// Best window's rate over all threads, GFLOP/s of wall time.
    public let gflops: Double
    /// FLOPs over the threads' CPU seconds in all windows, GFLOP/s per busy thread: what one
    /// core gives when the process has it, whatever else the machine runs.
    public let gflopsPerThread: Double
    public let threads: Int
    public let level: VectorLevel

    /// Iterations of the chains per timing check (about 0.1-0.5 ms on current CPUs).
    static let iterationsPerCheck = 50_000

    /// Times `windows` windows of at least `seconds` each, every thread running the chains at
    /// once on its own thread; nil at the generic level (no vector FMA to time).
    public static func measure(
        threads: Int, level: VectorLevel = .current, windows: Int = 5, seconds: Double = 0.02
    ) -> FMAPeak? {
        let flopsPerIteration = mia_fma_chains_flops(level.rawValue)
        guard flopsPerIteration > 0, threads >= 1 else { return nil }
        var best = 0.0
        var iterations = 0
        var cpuSeconds = 0.0
        for _ in 0..<max(windows, 1) {
            let start = clockSeconds(CLOCK_MONOTONIC)
            // Per thread: iterations run and its own CPU seconds.
            let counts = UnsafeMutableBufferPointer<(Int, Double)>.allocate(capacity: threads)
            counts.initialize(repeating: (0, 0))
            defer { counts.deallocate() }
            nonisolated(unsafe) let shared = counts
            Parallel.onOwnThreads(threads) { t in
                let cpu0 = clockSeconds(CLOCK_THREAD_CPUTIME_ID)
                var done = 0
                repeat {
                    _ = mia_fma_chains(level.rawValue, iterationsPerCheck)
                    done += iterationsPerCheck
                } while clockSeconds(CLOCK_MONOTONIC) - start < seconds
                shared[t] = (done, clockSeconds(CLOCK_THREAD_CPUTIME_ID) - cpu0)
            }
            let elapsed = clockSeconds(CLOCK_MONOTONIC) - start
            let window = counts.reduce(0) { $0 + $1.0 }
            best = max(best, Double(window) * flopsPerIteration / elapsed / 1e9)
            iterations += window
            cpuSeconds += counts.reduce(0) { $0 + $1.1 }
        }
        return FMAPeak(
            gflops: best, gflopsPerThread: Double(iterations) * flopsPerIteration / max(cpuSeconds, 1e-9) / 1e9,
            threads: threads, level: level)
    }
}
