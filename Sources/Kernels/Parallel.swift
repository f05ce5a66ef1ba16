import Dispatch
import Foundation
import Synchronization

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
            // Safe: the pieces write disjoint memory (the contract above), and concurrentPerform
            // returns only when every piece has run, so `body` is not used after this call.
            nonisolated(unsafe) let body = body
            DispatchQueue.concurrentPerform(iterations: count) { body($0) }
        }
    }

    /// Calls `body(i)` for i in 0..<count on the system's worker threads, whatever BLAS's thread
    /// count (for workers that each take jobs from a shared queue), and returns when all are done.
    ///
    /// `body` need not be `@Sendable`: the caller guarantees that what the calls share is only
    /// read, or read and written under a lock, and that each call writes only its own memory
    /// otherwise (Swift cannot check this of a closure that captures local state).
    public static func perform(_ count: Int, _ body: (Int) -> Void) {
        // Safe by the contract above; concurrentPerform returns only when every call has ended.
        nonisolated(unsafe) let body = body
        DispatchQueue.concurrentPerform(iterations: count) { body($0) }
    }

    /// Calls `body(i)` for i in 0..<count, each on a thread of its own (this one runs 0), and
    /// returns when all are done; same contract as `perform`. Unlike `perform`, the calls do not
    /// run inside a `concurrentPerform`: libdispatch runs a `concurrentPerform` nested in one of
    /// n iterations on cores / n threads, so a side-by-side training that later gets the idle
    /// cores (`ModelsStage.handOverThreads`) would still run its shards one after the other.
    public static func onOwnThreads(_ count: Int, _ body: @escaping (Int) -> Void) {
        guard count > 1 else {
            if count == 1 { body(0) }
            return
        }
        // Safe by `perform`'s contract; `done.wait()` returns only when every call has ended.
        nonisolated(unsafe) let body = body
        let done = DispatchGroup()
        for i in 1..<count {
            done.enter()
            let thread = Thread {
                body(i)
                done.leave()
            }
            thread.stackSize = 8 << 20  // a training's stack, as the main thread's
            thread.start()
        }
        body(0)
        done.wait()
    }

    /// Calls `body(i)` for i in 0..<count on at most `BLAS.threadCount` threads (this one among
    /// them), each taking the next piece not yet taken; in order on this thread when the count is
    /// 1. Same contract as `forEach`: the pieces write disjoint memory, so the result does not
    /// depend on which thread ran which piece.
    public static func spread(_ count: Int, _ body: (Int) -> Void) {
        let threads = min(count, BLAS.threadCount)
        guard threads > 1 else {
            for i in 0..<count { body(i) }
            return
        }
        let next = Atomic<Int>(0)
        // Safe by the contract above; concurrentPerform returns only when every call has ended.
        nonisolated(unsafe) let body = body
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            while case let i = next.wrappingAdd(1, ordering: .relaxed).oldValue, i < count { body(i) }
        }
    }

    /// Largest m·n·k that `BLAS.gemm` runs as one piece on the calling thread (`GEMMPieces`);
    /// OpenBLAS's own single-thread limit (default build: 65536 × GEMM_MULTITHREAD_THRESHOLD 4),
    /// so such products give the bits they gave when OpenBLAS chose the threads. Record-wise
    /// stages whose products stay at or below it run their shards side by side.
    public static let singleThreadedGEMMLimit = 65536 * 4

    /// The `piece`-th of `pieces` near-equal consecutive ranges of 0..<count.
    public static func range(_ piece: Int, of pieces: Int, count: Int) -> Range<Int> {
        (piece * count / pieces)..<((piece + 1) * count / pieces)
    }
}
