import Dispatch

/// Runs independent pieces of work on the cores the host gave BLAS.
///
/// The work is always cut into the same pieces, whatever the thread count, and each piece
/// writes only its own memory, so results do not depend on how many threads ran them or in
/// which order: callers combine per-piece results in piece order afterwards.
public enum Parallel {
    /// Calls `body(i)` for i in 0..<count: in order on this thread when BLAS has one thread (the
    /// host trains models side by side), otherwise on the system's worker threads.
    ///
    /// - Parameter concurrently: false runs the pieces in order here whatever the thread count
    ///   (for pieces whose BLAS calls are large enough to use BLAS's own threads: two such calls
    ///   at once on OpenBLAS's thread pool run several times slower than one after the other).
    public static func forEach(_ count: Int, concurrently: Bool = true, _ body: (Int) -> Void) {
        if count <= 1 || !concurrently || BLAS.threadCount <= 1 {
            for i in 0..<count { body(i) }
        } else {
            DispatchQueue.concurrentPerform(iterations: count, execute: body)
        }
    }

    /// Largest m·n·k for which OpenBLAS (default build: 65536 × GEMM_MULTITHREAD_THRESHOLD 4)
    /// runs sgemm on the calling thread alone; pieces whose products stay at or below it can run
    /// side by side.
    public static let singleThreadedGEMMLimit = 65536 * 4

    /// The `piece`-th of `pieces` near-equal consecutive ranges of 0..<count.
    public static func range(_ piece: Int, of pieces: Int, count: Int) -> Range<Int> {
        (piece * count / pieces)..<((piece + 1) * count / pieces)
    }
}
