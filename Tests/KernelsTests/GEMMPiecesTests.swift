import Testing

@testable import Kernels

/// `BLAS.gemm` cuts a product into pieces by its shape alone, and its bits do not depend on the
/// thread count (issue 14: OpenBLAS's own threaded sgemm sums in another order than one thread).
/// Serialized: the tests set the process's thread count.
@Suite(.serialized) struct GEMMPiecesTests {
    @Test func piecesTileTheLongerAxisAndDependOnTheShapeAlone() {
        // Products OpenBLAS always kept on one thread stay one call.
        #expect(GEMMPieces(m: 64, n: 64, k: 64).count == 1)
        #expect(GEMMPieces(m: 6, n: 784, k: 25).count == 1)
        for (m, n, k) in [
            (128, 512, 784), (512, 784, 128), (128, 784, 512), (64, 120, 400), (120, 400, 64), (1024, 512, 784),
            (37, 300, 1000), (10_000, 10, 84), (33, 33, 100_000), (16, 150, 12_800),
        ] {
            let p = GEMMPieces(m: m, n: n, k: k)
            #expect(p == GEMMPieces(m: m, n: n, k: k))
            #expect(p.axis == (n >= m ? .columns : .rows), "\(m)x\(n)x\(k)")
            #expect(p.length == max(m, n))
            #expect(p.count >= 1 && p.count <= GEMMPieces.maxPieces, "\(m)x\(n)x\(k): \(p)")
            var next = 0
            for i in 0..<p.count {
                let r = p.range(i)
                #expect(r.lowerBound == next && !r.isEmpty, "\(m)x\(n)x\(k): piece \(i) \(r)")
                if i < p.count - 1 { #expect(r.count % GEMMPieces.quantum == 0, "\(m)x\(n)x\(k): piece \(i) \(r)") }
                if p.count > 1 { #expect(r.count * min(m, n) * k >= GEMMPieces.minimumWork || i == p.count - 1) }
                next = r.upperBound
            }
            #expect(next == p.length, "\(m)x\(n)x\(k): \(p)")
        }
        // Large enough products are cut (the T1 MLP's first layer: 8 pieces of 64 columns).
        #expect(GEMMPieces(m: 128, n: 512, k: 784) == GEMMPieces(m: 128, n: 512, k: 784))
        #expect(GEMMPieces(m: 128, n: 512, k: 784).count == 8)
        #expect(GEMMPieces(m: 1024, n: 512, k: 784).axis == .rows)
    }

    /// A product of small integers in every layout a piece can take, compared with its exact value:
    /// the pieces' pointer offsets (transposed and strided operands, beta 1) are right.
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func aProductCutIntoPiecesIsExact(_ t: (Bool, Bool)) {
        let (ta, tb) = t
        // Rows cut (m > n) and columns cut (n > m); both above the one-piece limit; odd sizes and
        // strides wider than the rows, so a wrong offset shows.
        for (m, n, k) in [(700, 70, 90), (50, 900, 100)] {
            #expect(GEMMPieces(m: m, n: n, k: k).count > 1, "\(m)x\(n)x\(k)")
            let lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 5, ldc = n + 2
            let a = (0..<((ta ? k : m) * lda)).map { Float(($0 * 7) % 9 - 4) }
            let b = (0..<((tb ? n : k) * ldb)).map { Float(($0 * 5) % 7 - 3) }
            let c0 = (0..<(m * ldc)).map { Float($0 % 5 - 2) }
            for beta: Float in [0, 1] {
                for threads in [1, 2, 3] {
                    var c = c0
                    withThreads(threads) {
                        BLAS.gemm(ta, tb, m: m, n: n, k: k, a, lda: lda, b, ldb: ldb, beta: beta, &c, ldc: ldc)
                    }
                    var wrong = 0
                    for i in 0..<m {
                        for j in 0..<ldc {
                            var want = j < n ? beta * c0[i * ldc + j] : c0[i * ldc + j]  // padding untouched
                            if j < n {
                                for p in 0..<k {
                                    want +=
                                        (ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j])
                                }
                            }
                            if c[i * ldc + j] != want { wrong += 1 }
                        }
                    }
                    #expect(wrong == 0, "\(m)x\(n)x\(k) ta \(ta) tb \(tb) beta \(beta) threads \(threads)")
                }
            }
        }
    }

    /// The bug of issue 14: on `Cooperlake` / `SkylakeX` OpenBLAS's 2-thread sgemm of the T1 MLP's
    /// first layer (k = 784) and of LeNet-5's fc1 (k = 400) gave other bits than 1 thread; on
    /// `Haswell` every shape did. Random inputs, so any change of summation order shows.
    @Test func aProductHasTheSameBitsOnAnyThreadCount() {
        for (ta, tb, m, n, k) in [
            (false, true, 128, 512, 784), (true, false, 512, 784, 128), (false, false, 128, 784, 512),
            (false, true, 64, 120, 400), (true, false, 120, 400, 64), (false, true, 1024, 512, 784),
            (false, false, 37, 300, 1000),
        ] {
            let a = randomFloats(m * k, seed: UInt64(m * 31 + k))
            let b = randomFloats(k * n, seed: UInt64(n * 17 + k))
            let c0 = randomFloats(m * n, seed: 5)
            var results: [[Float]] = []
            for threads in [1, 2, 3, 1] {
                for beta: Float in [0, 1] {
                    var c = c0
                    withThreads(threads) {
                        BLAS.gemm(
                            ta, tb, m: m, n: n, k: k, a, lda: ta ? m : k, b, ldb: tb ? k : n, beta: beta, &c, ldc: n)
                    }
                    results.append(c)
                }
            }
            for (i, r) in results.enumerated() {
                let same = r.map(\.bitPattern) == results[i % 2].map(\.bitPattern)
                #expect(same, "\(m)x\(n)x\(k) ta \(ta) tb \(tb): run \(i) differs from 1 thread")
            }
        }
    }

    /// The epilogue runs once on each block of C a piece wrote, after that piece, and the blocks
    /// tile C: the product followed by the epilogue equals the product followed by one pass over C,
    /// bit for bit, on any thread count (a dense layer's bias and activation run this way).
    @Test(arguments: [(1024, 512, 784), (128, 512, 784), (700, 70, 90), (64, 64, 64)])
    func theEpilogueRunsOnceOnEveryBlockAfterItsPiece(_ shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        let a = randomFloats(m * k, seed: 7)
        let b = randomFloats(n * k, seed: 8)
        let bias = randomFloats(n, seed: 9)
        var plain = [Float](repeating: 0, count: m * n)
        BLAS.gemm(false, true, m: m, n: n, k: k, a, lda: k, b, ldb: k, beta: 0, &plain, ldc: n)
        for i in 0..<m { for j in 0..<n { plain[i * n + j] = max(plain[i * n + j] + bias[j], 0) } }
        for threads in [1, 2, 3] {
            var c = [Float](repeating: .nan, count: m * n)
            let visits = UnsafeMutableBufferPointer<Int>.allocate(capacity: m * n)
            visits.initialize(repeating: 0)
            defer { visits.deallocate() }
            c.withUnsafeMutableBufferPointer { cp in
                let y = cp.baseAddress!
                withThreads(threads) {
                    BLAS.gemm(false, true, m: m, n: n, k: k, a, lda: k, b, ldb: k, beta: 0, y, ldc: n) {
                        rows, columns in
                        // Each block is written (no NaN left) before its epilogue; blocks are disjoint.
                        for i in rows {
                            for j in columns {
                                visits[i * n + j] += y[i * n + j].isNaN ? 1000 : 1
                                y[i * n + j] = max(y[i * n + j] + bias[j], 0)
                            }
                        }
                    }
                }
            }
            #expect(
                visits.allSatisfy { $0 == 1 },
                "\(m)x\(n)x\(k), \(threads) threads: a block visited twice, never or early")
            #expect(c.map(\.bitPattern) == plain.map(\.bitPattern), "\(m)x\(n)x\(k), \(threads) threads")
        }
    }

    /// Inside `BLAS.onThisThread` a product of many pieces is one whole sgemm call on the calling
    /// thread (bit for bit the direct call), its epilogue runs once on all of C, and the flag is
    /// this thread's only and ends with the block.
    @Test func onThisThreadMakesEachProductOneWholeCall() {
        let (m, n, k) = (1024, 512, 784)
        #expect(GEMMPieces(m: m, n: n, k: k).count == 8)
        let a = randomFloats(m * k, seed: 11)
        let b = randomFloats(n * k, seed: 12)
        var direct = [Float](repeating: 0, count: m * n)
        OpenBLASLibrary.shared.sgemm(
            101, 111, 112, Int32(m), Int32(n), Int32(k), 1, a, Int32(k), b, Int32(k), 0, &direct, Int32(n))
        var c = [Float](repeating: 0, count: m * n)
        var blocks: [String] = []
        withThreads(3) {
            BLAS.onThisThread {
                BLAS.onThisThread {}  // nested: the outer block still holds
                BLAS.gemm(false, true, m: m, n: n, k: k, a, lda: k, b, ldb: k, beta: 0, &c, ldc: n) {
                    blocks.append("\($0) \($1)")
                }
            }
        }
        #expect(blocks == ["0..<1024 0..<512"])
        #expect(c.map(\.bitPattern) == direct.map(\.bitPattern))
        #expect(!WholeProducts.isSet)
    }

    @Test func openBLASItselfStaysOnOneThreadWhateverTheHostSets() {
        withThreads(3) {
            #expect(BLAS.threadCount == 3)
            #expect(OpenBLASLibrary.shared.getNumThreads() == 1)
        }
    }
}

/// Runs `body` with products spread over `threads` threads, then restores the count.
private func withThreads(_ threads: Int, _ body: () -> Void) {
    let before = BLAS.threadCount
    BLAS.setThreadCount(threads)
    defer { BLAS.setThreadCount(before) }
    body()
}
