import Foundation
import Kernels
import PluginABI
import PluginKit
import Testing

@testable import AuditCore

/// Signals at scale: reference logits written model by model and memory-mapped, provided
/// signals mapped or converted in place, defences written block by block. Each path must give
/// the very values of the in-memory path.
@Suite struct SignalMappingTests {
    func temporaryFolder() throws -> String {
        let dir = NSTemporaryDirectory() + "mia-mapping-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// A small audit: N audit and P population records, C classes, a target and R reference
    /// models with random logits; the reference models' logits are left in files.
    func audit(n: Int, p: Int, c: Int, r: Int, folder: String) throws -> (
        Population, Memberships, TrainedModel, [TrainedModel]
    ) {
        var rng = SeededRandom(seed: 11)
        let info = DatasetInfo(recordCount: n + p, classCount: c, featureShape: [1])
        let labels = (0..<(n + p)).map { _ in Int32(rng.nextInt(below: c)) }
        let population = Population(info: info, features: [], labels: labels, auditCount: n, populationCount: p)
        let memberships = Memberships(recordCount: n, referenceCount: r, seed: 3)
        func logits() -> [Float] { (0..<((n + p) * c)).map { _ in Float(rng.nextGaussian()) } }
        func record(_ role: String) -> ModelRecord {
            ModelRecord(
                key: role, role: role, seed: 0, memberCount: 0, backend: "b", backendVersion: "1", history: [],
                trainSeconds: 0)
        }
        let target = TrainedModel(role: "target", key: "t", record: record("target"), logits: logits(), cached: true)
        let references = try (0..<r).map { k -> TrainedModel in
            let file = (folder as NSString).appendingPathComponent("model-\(k).npy")
            try Npy.write(logits(), shape: [n + p, c], to: file)
            return TrainedModel(
                role: "reference \(k + 1)", key: "r\(k)", record: record("reference"), logits: [], cached: true,
                logitsFile: file)
        }
        return (population, memberships, target, references)
    }

    @Test func npyWrittenInPartsIsTheFileWrittenWhole() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let values = (0..<1000).map { Float($0) * 0.5 - 3 }
        let whole = dir + "/whole.npy", parts = dir + "/parts.npy"
        try Npy.write(values, shape: [10, 100], to: whole)
        let writer = try NpyWriter<Float>(path: parts, shape: [10, 100])
        try values.withUnsafeBufferPointer { v in
            for start in stride(from: 0, to: 1000, by: 333) {
                try writer.append(UnsafeBufferPointer(rebasing: v[start..<min(1000, start + 333)]))
            }
        }
        #expect(!FileManager.default.fileExists(atPath: parts), "the file appears only when finished")
        try writer.finish()
        #expect(FileManager.default.contents(atPath: whole) == FileManager.default.contents(atPath: parts))
        let mapping = try NpyMapping(path: parts)
        #expect(mapping.header.payloadOffset % 64 == 0)
        #expect(Array(try mapping.buffer(Float.self)) == values)
        #expect(throws: NpyError.self) { try mapping.buffer(Double.self) }
        // Released pages read back the file's values.
        mapping.releaseAll()
        #expect(Array(try mapping.buffer(Float.self)) == values)
        // A writer that does not get every value fails and leaves nothing.
        let short = try NpyWriter<Float>(path: dir + "/short.npy", shape: [3])
        #expect(throws: NpyError.self) { try short.finish() }
        #expect(!FileManager.default.fileExists(atPath: dir + "/short.npy"))
    }

    @Test func referencesWrittenModelByModelAndMappedEqualTheInMemorySignals() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (population, memberships, target, references) = try audit(n: 70, p: 30, c: 3, r: 5, folder: dir)
        let memory = SignalSet(population: population, memberships: memberships, target: target, references: references)
        let signals = dir + "/signals"
        let mapped = try SignalSet(
            population: population, memberships: memberships, target: target, references: references,
            writingReferencesTo: signals)
        #expect(!memory.referenceLogits.isMapped && !memory.referencesMapped)
        #expect(mapped.referenceLogits.isMapped && mapped.populationReferenceLogits.isMapped && mapped.referencesMapped)
        #expect(mapped.referenceLogits.values == memory.referenceLogits.values)
        #expect(mapped.populationReferenceLogits.values == memory.populationReferenceLogits.values)
        #expect(mapped.key == memory.key)
        // The first model's audit rows are the start of the [R, N, C] array.
        #expect(
            Array(mapped.referenceLogits.values[0..<(70 * 3)]) == Array(try references[0].loadLogits()[0..<(70 * 3)]))

        // Lent with the flag only when mapped; the attack sees the mapped pointer itself.
        let flags = mapped.withCSignals(needs: [], features: [], featureShape: [1], seed: 0) { $0.pointee.flags }
        #expect(flags == UInt32(MIA_SIGNALS_REFERENCE_MAPPED))
        #expect(memory.withCSignals(needs: [], features: [], featureShape: [1], seed: 0) { $0.pointee.flags } == 0)
        let lent = mapped.withCSignals(needs: [], features: [], featureShape: [1], seed: 0) {
            UnsafeRawPointer($0.pointee.reference_logits)
        }
        #expect(lent == mapped.referenceLogits.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) })

        // A second run of the same signals writes the same files.
        let again = try SignalSet(
            population: population, memberships: memberships, target: target, references: references,
            writingReferencesTo: signals)
        #expect(again.referenceLogits.values == memory.referenceLogits.values)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: signals).sorted() == [
                "population_reference_logits.npy", "reference_logits.npy",
            ])
    }

    @Test(arguments: [OutputDefence.topK(1), .rounding(2), .temperature(3), .labelOnly])
    func defendedMappedSignalsEqualDefendedInMemorySignals(defence: OutputDefence) throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (population, memberships, target, references) = try audit(n: 50, p: 20, c: 4, r: 3, folder: dir)
        let memory = SignalSet(population: population, memberships: memberships, target: target, references: references)
        let mapped = try SignalSet(
            population: population, memberships: memberships, target: target, references: references,
            writingReferencesTo: dir + "/signals")
        let a = try memory.defended(by: defence, folder: dir + "/unused")
        let b = try mapped.defended(by: defence, folder: dir + "/defended")
        #expect(!FileManager.default.fileExists(atPath: dir + "/unused"), "in-memory signals are defended in memory")
        #expect(b.referenceLogits.isMapped && b.populationReferenceLogits.isMapped)
        #expect(
            !FileManager.default.fileExists(atPath: dir + "/defended"), "the defended files are unlinked once mapped")
        #expect(a.referenceLogits.values.map(\.bitPattern) == b.referenceLogits.values.map(\.bitPattern))
        #expect(
            a.populationReferenceLogits.values.map(\.bitPattern) == b.populationReferenceLogits.values.map(\.bitPattern)
        )
        #expect(a.targetLogits == b.targetLogits)
        // The defence reached the references: they are log-probabilities now.
        #expect(b.referenceLogits.values != mapped.referenceLogits.values)
        #expect(b.referenceLogits.values.allSatisfy { $0 <= 1e-6 })
        // Attacks are told so: released probabilities, to be read with exp, not renormalised.
        let released = UInt32(MIA_SIGNALS_RELEASED_PROBABILITIES)
        #expect(
            b.withCSignals(needs: [], features: [], featureShape: [1], seed: 0) { $0.pointee.flags } & released
                == released)
        #expect(
            a.withCSignals(needs: [], features: [], featureShape: [1], seed: 0) { $0.pointee.flags } & released
                == released)
        #expect(
            mapped.withCSignals(needs: [], features: [], featureShape: [1], seed: 0) { $0.pointee.flags } & released
                == 0)
    }

    @Test func providedFloat32ReferencesAreMappedAndFloat64OnesConvertedIntoTheRun() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let n = 40, c = 3, r = 4, p = 10
        var rng = SeededRandom(seed: 2)
        let labels = (0..<n).map { _ in Int32(rng.nextInt(below: c)) }
        let reference = (0..<(r * n * c)).map { _ in rng.nextGaussian() }
        let popReference = (0..<(r * p * c)).map { _ in rng.nextGaussian() }
        for (name, float64) in [("f4", false), ("f8", true)] {
            let folder = dir + "/\(name)"
            try Npy.write(labels, shape: [n], to: folder + "/labels.npy")
            try Npy.write((0..<(n * c)).map { Float($0 % 7) }, shape: [n, c], to: folder + "/target_logits.npy")
            try Npy.write((0..<n).map { UInt8($0 % 2) }, shape: [n], to: folder + "/target_membership.npy")
            try Npy.write(
                (0..<(r * n)).map { Int64(($0 / 3) % 2) }, shape: [r, n], to: folder + "/reference_membership.npy")
            try Npy.write((0..<p).map { Int32($0 % c) }, shape: [p], to: folder + "/population_labels.npy")
            try Npy.write(
                [Float](repeating: 0.5, count: p * c), shape: [p, c], to: folder + "/population_target_logits.npy")
            if float64 {
                try Npy.write(reference, shape: [r, n, c], to: folder + "/reference_logits.npy")
                try Npy.write(popReference, shape: [r, p, c], to: folder + "/population_reference_logits.npy")
            } else {
                try Npy.write(reference.map { Float($0) }, shape: [r, n, c], to: folder + "/reference_logits.npy")
                try Npy.write(
                    popReference.map { Float($0) }, shape: [r, p, c], to: folder + "/population_reference_logits.npy")
            }
            let config = try AuditConfig.parse(
                "run:\n  name: t\n  output: \(dir)/run-\(name)\nsignals:\n  path: \(folder)\naudit:\n  attacks:\n    - plugin: loss-threshold\n",
                file: "t.yaml")
            let choice = try #require(config.signals)
            let provided = try ProvidedSignals.load(choice)
            let s = provided.signals
            #expect(s.referenceLogits.isMapped == !float64, "float32 files are mapped in place")
            #expect(s.referenceMembership == (0..<(r * n)).map { UInt8(($0 / 3) % 2) })
            // The run writes its signals/ and maps the float64 references converted there.
            let signalsFolder = config.output + "/signals"
            s.referenceLogits = try SignalsStage.write(
                s.referenceLogits, shape: [r, n, c], to: signalsFolder + "/reference_logits.npy")
            s.populationReferenceLogits = try SignalsStage.write(
                s.populationReferenceLogits, shape: [r, p, c], to: signalsFolder + "/population_reference_logits.npy")
            #expect(s.referenceLogits.isMapped && s.populationReferenceLogits.isMapped)
            #expect(s.referenceLogits.values == reference.map { Float($0) })
            #expect(s.populationReferenceLogits.values == popReference.map { Float($0) })
            #expect(
                try Npy.read(Float.self, from: signalsFolder + "/reference_logits.npy").values
                    == reference.map { Float($0) })
        }
        // The key hashes the files' bytes, read in blocks: the same hash as the bytes whole.
        let file = dir + "/f8/reference_logits.npy"
        var whole = SHA256()
        whole.update(try #require(FileManager.default.contents(atPath: file)))
        #expect(SHA256.hex(contentsOf: file) == whole.hexDigest())
    }
}
