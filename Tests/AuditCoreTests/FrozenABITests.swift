import Foundation
import Logging
import PluginABI
import PluginKit
import Testing

@testable import AuditCore

// ABI 1.2 is additive: a plugin compiled against the frozen 1.1 headers (Tests/Fixtures/Frozen11)
// loads and runs through the host, and a C++ plugin compiled from the 1.2 header alone (no
// `extern "C"` of its own, hidden visibility but `MIA_EXPORT`) loads and runs through
// `create_component`, one function serving two components by their `context`.

let fixturesFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures").path
let headersFolder = URL(fileURLWithPath: fixturesFolder).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Sources/PluginABI/include").path

/// Compiles `source` into a shared library in a fresh folder with `compiler` and `flags`; returns its path.
func compilePlugin(_ compiler: String, _ flags: [String], _ source: String, name: String) throws -> String {
    let folder = NSTemporaryDirectory() + "mia-abi-\(name)-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let out = folder + "/lib\(name).so"
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = [compiler] + flags + ["-fPIC", "-shared", "-o", out, source]
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    try p.run()
    let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    guard p.terminationStatus == 0 else { throw PluginError(.internal, "\(compiler) \(source) failed:\n\(text)") }
    return out
}

/// Signals of three records of two classes whose true-label target logits are 3, 5 and -2.
func logitSignals() -> SignalSet {
    let info = DatasetInfo(recordCount: 3, classCount: 2, featureShape: [1])
    let p = Population(info: info, features: [0, 0, 0], labels: [0, 1, 1], auditCount: 3, populationCount: 0)
    let m = Memberships(recordCount: 3, referenceCount: 0, seed: 0)
    let record = ModelRecord(
        key: "k", role: "target", seed: 0, memberCount: 1, backend: "b", backendVersion: "1", history: [],
        trainSeconds: 0)
    let t = TrainedModel(role: "target", key: "k", record: record, logits: [3, 0, 0, 5, 7, -2], cached: true)
    return SignalSet(population: p, memberships: m, target: t, references: [])
}

func scores(_ attack: DynamicAttack) throws -> [Double] {
    try logitSignals().withCSignals(needs: [], features: [0, 0, 0], featureShape: [1], seed: 0) {
        try attack.score($0, queries: nil).scores
    }
}

let testBridge = HostBridge(label: "abi", logger: Logger(label: "abi"), cancellation: CancellationFlag())

@Suite(.serialized) struct FrozenABITests {
    @Test func aPluginFrozenAtABI11LoadsAndRuns() throws {
        let path = try compilePlugin(
            "cc", ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-I", fixturesFolder + "/Frozen11/include"],
            fixturesFolder + "/Frozen11/frozen11.c", name: "frozen11")
        let registry = PluginRegistry()
        let info = try #require(registry.load(path), "\(registry.problems)")
        #expect(registry.problems.isEmpty, "\(registry.problems)")
        #expect(info.abiMinor == 1 && info.name == "fixture-frozen-1.1")
        #expect(Set(registry.components.map(\.name)) == ["frozen-attack", "frozen-dataset"])
        let attackInfo = try #require(registry.component(.attack, named: "frozen-attack"))
        // Its 1.1 option structs are walked by their own size and carry no range.
        #expect(attackInfo.options.map(\.name) == ["scale", "fail_create"])
        #expect(attackInfo.options.allSatisfy { $0.range == .none })

        let dataset = try DynamicDataset(
            try #require(registry.component(.dataset, named: "frozen-dataset")), optionsJSON: "{}", bridge: testBridge)
        let d = try dataset.info()
        #expect(d.recordCount == 8 && d.classCount == 2 && d.featureShape == [2])
        let read = try dataset.read(start: 2, count: 2, featureShape: [2])
        #expect(read.features == [2, 20, 3, 30] && read.labels == [0, 1])

        let handle = try #require(dlopen(path, RTLD_NOW | RTLD_NOLOAD))
        let destroyed = try #require(dlsym(handle, "frozen_destroy_count")).assumingMemoryBound(to: Int32.self)
        let before = destroyed.pointee
        do {
            let attack = try DynamicAttack(
                attackInfo, optionsJSON: OptionChecker.json(["scale": .double(2.5)]), bridge: testBridge)
            #expect(try scores(attack) == [7.5, 12.5, -5])
        }
        #expect(destroyed.pointee == before + 1)
        // A failed create is never followed by destroy.
        #expect(throws: PluginError.self) {
            _ = try DynamicAttack(
                attackInfo, optionsJSON: OptionChecker.json(["fail_create": .bool(true)]), bridge: testBridge)
        }
        #expect(destroyed.pointee == before + 1)
    }

    @Test func aCxxPluginBuiltFromTheHeaderAloneLoadsAndRuns() throws {
        let path = try compilePlugin(
            "g++", ["-std=c++17", "-Wall", "-Wextra", "-Werror", "-fvisibility=hidden", "-I", headersFolder],
            fixturesFolder + "/CxxPlugin/cxx_attack.cpp", name: "cxx")
        let registry = PluginRegistry()
        let info = try #require(registry.load(path), "\(registry.problems)")
        #expect(info.abiMinor == UInt32(MIA_ABI_MINOR))
        let scaled = try #require(registry.component(.attack, named: "cxx-scaled-logit"))
        let negated = try #require(registry.component(.attack, named: "cxx-negated-logit"))
        #expect(scaled.options.first?.range.summary == "> 0")
        // Typed options reach the plugin (no JSON parser in it): an int-valued float arrives as a float.
        let a = try DynamicAttack(scaled, optionsJSON: OptionChecker.json(["scale": .double(2)]), bridge: testBridge)
        #expect(try scores(a) == [6, 10, -4])
        let b = try DynamicAttack(negated, optionsJSON: OptionChecker.json(["scale": .double(0.5)]), bridge: testBridge)
        #expect(try scores(b) == [-1.5, -2.5, 1])
    }
}
