import AttacksReference
import Foundation
import Glibc
import Kernels
import PluginKit
import Testing

/// The reference attacks stream over the reference logits in chunks of records: their scores
/// must not depend on the chunk size (to the last bit), nor on whether the references are
/// ordinary memory or a read-only file mapping whose pages are released chunk by chunk.
@Suite struct StreamingTests {
    /// Every configuration of the three streaming attacks, with a chunk size set.
    static func attacks(chunk: Int?) throws -> [(String, any AttackStrategy)] {
        func lira(_ mode: String, _ variance: String) throws -> LiRAAttack {
            let a = try LiRAAttack(
                options: opts(["mode": .string(mode), "variance": .string(variance)]), host: .standalone)
            a.chunkSize = chunk
            return a
        }
        func rmia(_ mode: String) throws -> RMIAAttack {
            let a = try RMIAAttack(options: opts(["mode": .string(mode)]), host: .standalone)
            a.chunkSize = chunk
            return a
        }
        func threshold(_ score: String) throws -> ReferenceThresholdAttack {
            let a = try ReferenceThresholdAttack(options: opts(["score": .string(score)]), host: .standalone)
            a.chunkSize = chunk
            return a
        }
        return [
            ("lira offline global", try lira("offline", "global")),
            ("lira offline per_example", try lira("offline", "per_example")),
            ("lira online global", try lira("online", "global")),
            ("lira online per_example", try lira("online", "per_example")),
            ("rmia offline", try rmia("offline")), ("rmia online", try rmia("online")),
            ("reference-threshold percentile", try threshold("percentile")),
            ("reference-threshold z_score", try threshold("z_score")),
        ]
    }

    @Test func chunkedScoresEqualUnchunkedToTheLastBit() throws {
        // N = 60 and P = 50 with chunks of 7: neither divides, the last chunk is short.
        let s = syntheticSignals(n: 60, c: 4, r: 6, p: 50, seed: 33)
        // The data hold a record that no reference model left OUT (the fallback paths run).
        #expect((0..<60).contains { i in (0..<6).allSatisfy { s.referenceMembership[$0 * 60 + i] == 1 } })
        let whole = try Self.attacks(chunk: Int.max), chunked = try Self.attacks(chunk: 7),
            single = try Self.attacks(chunk: 1)
        for ((name, a), ((_, b), (_, c))) in zip(whole, zip(chunked, single)) {
            let expected = try s.score(with: a).scores
            let got = try s.score(with: b).scores
            let one = try s.score(with: c).scores
            #expect(expected.map(\.bitPattern) == got.map(\.bitPattern), "\(name), chunks of 7")
            #expect(expected.map(\.bitPattern) == one.map(\.bitPattern), "\(name), chunks of 1")
            #expect(Set(expected).count > 5, "\(name) scores vary")
        }
    }

    @Test func scoresOnSeveralThreadsEqualScoresOnOne() throws {
        let s = syntheticSignals(n: 60, c: 4, r: 6, p: 50, seed: 33)
        for ((name, a), (_, b)) in zip(try Self.attacks(chunk: nil), try Self.attacks(chunk: 5)) {
            let expected = try s.score(with: a).scores
            for threads in [2, 3] {
                var got = [Double](repeating: 0, count: s.recordCount)
                var mask = [UInt8](repeating: 1, count: s.recordCount)
                try s.withSignals { one in
                    var many = one
                    many.threadCount = threads
                    try got.withUnsafeMutableBufferPointer { g in
                        try mask.withUnsafeMutableBufferPointer { try b.score(many, into: g, evaluationMask: $0) }
                    }
                }
                #expect(expected.map(\.bitPattern) == got.map(\.bitPattern), "\(name), \(threads) threads")
            }
        }
        // Every record is visited once, whatever the threads.
        let storage = syntheticSignals(n: 1000, c: 2, r: 1, p: 0)
        var visits = [Int](repeating: 0, count: 1000)
        visits.withUnsafeMutableBufferPointer { v in
            storage.withSignals { one in
                var many = one
                many.threadCount = 4
                many.forEachChunkConcurrently { range in for i in range { v[i] += 1 } }
            }
        }
        #expect(visits.allSatisfy { $0 == 1 })
    }

    @Test func chunksAndModelsAreWalkedInOrder() {
        #expect(Signals.defaultChunkSize(referenceCount: 256) == Signals.chunkStateBytes / (256 * 8))
        #expect(Signals.defaultChunkSize(referenceCount: 100_000) == 64)
        let storage = syntheticSignals(n: 10, c: 2, r: 1, p: 5)
        var ranges: [Range<Int>] = [], population: [Range<Int>] = []
        storage.withSignals { s in
            s.forEachChunk(size: 4) { ranges.append($0) }
            s.forEachChunk(of: .population, size: 4) { population.append($0) }
        }
        #expect(ranges == [0..<4, 4..<8, 8..<10])
        #expect(population == [0..<4, 4..<5])
        // Each model's rows of a range are the [R, N, C] array's rows.
        let three = syntheticSignals(n: 9, c: 3, r: 4, p: 6)
        var seen: [Int] = []
        three.withSignals { s in
            s.forEachReferenceModel(in: 2..<7) { m, rows in
                seen.append(m)
                #expect(Array(rows) == Array(three.referenceLogits[((m * 9 + 2) * 3)..<((m * 9 + 7) * 3)]))
            }
            s.forEachReferenceModel(of: .population, in: 5..<6) { m, rows in
                #expect(Array(rows) == Array(three.populationReferenceLogits[((m * 6 + 5) * 3)..<((m * 6 + 6) * 3)]))
            }
        }
        #expect(seen == [0, 1, 2, 3])
    }

    /// The same signals with both reference arrays in a read-only `MAP_SHARED` file mapping (the
    /// arrays at byte 64 of it, as in a `.npy` file), lent with `referenceMapped`.
    final class MappedReferences {
        let base: UnsafeMutableRawPointer
        let length: Int
        let audit: UnsafeBufferPointer<Float>
        let population: UnsafeBufferPointer<Float>

        init(_ s: TestSignals) throws {
            let path = NSTemporaryDirectory() + "mia-mapped-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).bin"
            var bytes = [UInt8](repeating: 0, count: 64)
            s.referenceLogits.withUnsafeBytes { bytes += $0 }
            s.populationReferenceLogits.withUnsafeBytes { bytes += $0 }
            #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
            let fd = open(path, O_RDONLY)
            defer { close(fd); unlink(path) }
            length = bytes.count
            let p = try #require(mmap(nil, length, PROT_READ, MAP_SHARED, fd, 0))
            #expect(p != MAP_FAILED)
            base = p
            let floats = (p + 64).assumingMemoryBound(to: Float.self)
            audit = UnsafeBufferPointer(start: floats, count: s.referenceLogits.count)
            population = UnsafeBufferPointer(
                start: floats + s.referenceLogits.count, count: s.populationReferenceLogits.count)
        }

        deinit { munmap(base, length) }
    }

    @Test func mappedReferencesGiveTheInMemoryScores() throws {
        // References span many pages (8 x 600 x 10 f32 = 188 KiB), so chunks of 37 records
        // release pages (some shared with the next chunk) that later chunks read again.
        let s = syntheticSignals(n: 600, c: 10, r: 8, p: 300, seed: 5)
        let mapped = try MappedReferences(s)
        #expect(Array(mapped.audit) == s.referenceLogits)
        for ((name, a), (_, b)) in zip(try Self.attacks(chunk: nil), try Self.attacks(chunk: 37)) {
            let expected = try s.score(with: a).scores
            var got = [Double](repeating: 0, count: s.recordCount)
            var mask = [UInt8](repeating: 1, count: s.recordCount)
            try s.withSignals { memory in
                var m = memory
                m.referenceLogits = mapped.audit
                m.populationReferenceLogits = mapped.population
                m.referenceMapped = true
                m.threadCount = 2  // chunks side by side, each releasing its models' pages
                try got.withUnsafeMutableBufferPointer { g in
                    try mask.withUnsafeMutableBufferPointer { try b.score(m, into: g, evaluationMask: $0) }
                }
            }
            #expect(expected.map(\.bitPattern) == got.map(\.bitPattern), "\(name)")
        }
        // Released pages read back the file's values.
        #expect(Array(mapped.audit) == s.referenceLogits)
        #expect(Array(mapped.population) == s.populationReferenceLogits)
    }
}
