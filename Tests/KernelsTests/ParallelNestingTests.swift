import Foundation
import Kernels
import Synchronization
import Testing

/// Side-by-side trainings run on `Parallel.onOwnThreads`, not inside a `concurrentPerform`:
/// libdispatch runs a `concurrentPerform` nested in one of n iterations on cores / n threads, so
/// the last model of a queue, handed the idle core (`ModelsStage.handOverThreads`), ran its
/// shards one after the other (W1's fifth model: 9.4 s on "two" threads against 9.0 s on one;
/// 6.4 s with its own threads).
@Suite(.serialized) struct ParallelNestingTests {
    /// Two pieces of a `Parallel.forEach` that each wait (up to 2 s) for the other to start: they
    /// meet only when they run at the same time.
    private static func piecesMeet() -> Bool {
        let started = Atomic<Int>(0)
        let met = Atomic<Int>(0)
        Parallel.forEach(2) { _ in
            started.wrappingAdd(1, ordering: .sequentiallyConsistent)
            let deadline = Date().addingTimeInterval(2)
            while started.load(ordering: .sequentiallyConsistent) < 2 && Date() < deadline { sched_yield() }
            if started.load(ordering: .sequentiallyConsistent) == 2 { met.wrappingAdd(1, ordering: .relaxed) }
        }
        return met.load(ordering: .relaxed) == 2
    }

    /// Whether the pieces meet in a worker left alone by `onOwnThreads`: worker 0 leaves at once
    /// (an empty queue), worker 1 then runs a two-piece stage.
    private static func piecesMeetInALoneWorker() -> Bool {
        let result = Mutex<Bool>(false)
        Parallel.onOwnThreads(2) { worker in
            guard worker == 1 else { return }
            Thread.sleep(forTimeInterval: 0.05)
            let meet = piecesMeet()
            result.withLock { $0 = meet }
        }
        return result.withLock { $0 }
    }

    /// libdispatch lends `concurrentPerform` only the worker threads that are free, and other
    /// suites run beside this one: an attempt counts only when a top-level stage's pieces met
    /// just after it (a free thread existed); the test fails when a lone worker's pieces never
    /// met in an attempt that counts.
    @Test(.enabled(if: ProcessInfo.processInfo.activeProcessorCount >= 2))
    func aWorkerLeftAloneUsesTheThreadsItIsHanded() {
        let before = BLAS.threadCount
        defer { BLAS.setThreadCount(before) }
        BLAS.setThreadCount(2)
        var counted = 0
        for _ in 0..<6 {
            if Self.piecesMeetInALoneWorker() { return }
            if Self.piecesMeet() { counted += 1 }
            if counted == 3 { break }
        }
        #expect(counted == 0, "a lone worker's pieces ran one after the other in \(counted) attempts")
    }

    @Test func everyCallRunsOnceAndAllHaveEndedOnReturn() {
        let calls = Mutex<[Int]>([])
        Parallel.onOwnThreads(5) { i in
            Thread.sleep(forTimeInterval: 0.01 * Double(5 - i))
            calls.withLock { $0.append(i) }
        }
        #expect(calls.withLock { $0 }.sorted() == [0, 1, 2, 3, 4])
        Parallel.onOwnThreads(0) { _ in Issue.record("no call for a count of 0") }
    }
}
