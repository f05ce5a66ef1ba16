import Foundation
import Logging
import PluginABI
import PluginKit
import Testing

@testable import AuditCore

/// The build folder: SwiftPM puts the plugin libraries next to the test binary.
let buildFolder = PluginRegistry.executableFolder()

func fixture(_ name: String) -> String { (buildFolder as NSString).appendingPathComponent("libTest\(name).so") }

@Suite struct LoadingTests {
    @Test func builtInPluginsAreFoundInTheBuildFolder() throws {
        let registry = PluginRegistry.discover(includeEnvironment: false)
        let names = Set(registry.components.map(\.name))
        for expected in ["idx", "native", "loss-threshold", "lira"] {
            #expect(
                names.contains(expected), "built-in component \(expected) not found; problems: \(registry.problems)")
        }
        #expect(registry.problems.isEmpty, "\(registry.problems)")
        for p in registry.plugins {
            #expect(p.abiMajor == UInt32(MIA_ABI_MAJOR))
            #expect(p.toolchain == swiftToolchainID)
        }
        // The fixtures are not picked up by the default discovery.
        #expect(!registry.components.contains { $0.name == "failing-attack" })
    }

    @Test func missingEntrySymbolIsReported() {
        let registry = PluginRegistry()
        #expect(registry.load(fixture("FixtureNoEntry")) == nil)
        #expect(registry.problems.count == 1)
        #expect(registry.problems[0].path.hasSuffix("libTestFixtureNoEntry.so"))
        #expect(registry.problems[0].reason.contains("exports no `mia_plugin_entry` symbol"))
    }

    @Test func wrongABIIsReported() {
        let registry = PluginRegistry()
        #expect(registry.load(fixture("FixtureWrongABI")) == nil)
        #expect(registry.problems.count == 1)
        #expect(registry.problems[0].reason.contains("built for plugin ABI 999"))
        #expect(registry.problems[0].reason.contains("this host speaks ABI \(MIA_ABI_MAJOR)"))
    }

    @Test func aFileThatIsNotALibraryIsReported() throws {
        let dir = NSTemporaryDirectory() + "mia-notlib-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "hello".write(toFile: dir + "/libfake.so", atomically: true, encoding: .utf8)
        let registry = PluginRegistry.discover(folders: [dir], includeEnvironment: false, includeBuildFolder: false)
        #expect(registry.plugins.isEmpty)
        #expect(registry.problems.count == 1)
        #expect(registry.problems[0].reason.contains("not a loadable library"))
        let missing = PluginRegistry.discover(
            folders: [dir + "/nope"], includeEnvironment: false, includeBuildFolder: false)
        #expect(missing.problems.first?.reason == "plugin folder does not exist")
    }

    @Test func duplicateComponentNamesAreReported() throws {
        let dir = NSTemporaryDirectory() + "mia-dup-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let copy = dir + "/libcopy.so"
        try? FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: fixture("FixtureFailing"), toPath: copy)
        let registry = PluginRegistry()
        #expect(registry.load(fixture("FixtureFailing")) != nil)
        registry.load(copy)
        #expect(registry.components(named: "failing-attack").count == 1)
        #expect(registry.problems.contains { $0.path == copy && $0.reason.contains("is also defined by") })
    }

    @Test func aPluginErrorComesBackWithPathAndMessage() throws {
        let registry = PluginRegistry()
        let info = try #require(registry.load(fixture("FixtureFailing")))
        #expect(info.toolchain == "c")
        let logger = Logger(label: "test")
        let bridge = HostBridge(label: "t", logger: logger, cancellation: CancellationFlag())
        let attackInfo = try #require(registry.component(.attack, named: "failing-attack"))
        let attack = try DynamicAttack(attackInfo, optionsJSON: "{}", bridge: bridge)
        let storage = SignalSet.testSignals()
        do {
            _ = try storage.withCSignals(needs: [], features: [0, 0], featureShape: [1], seed: 0) {
                try attack.score($0, queries: nil)
            }
            Issue.record("the failing attack did not fail")
        } catch let e as PluginError {
            #expect(e.status == .invalidArgument)
            #expect(e.message == "failing-attack: this fixture always fails")
            #expect(e.description.contains(info.path))
            #expect(e.description.contains("failed in score"))
        }
        let datasetInfo = try #require(registry.component(.dataset, named: "failing-dataset"))
        #expect(throws: PluginError.self) { try DynamicDataset(datasetInfo, optionsJSON: "{}", bridge: bridge) }
    }
}

extension SignalSet {
    /// Two records, two classes, no reference models.
    static func testSignals() -> SignalSet {
        let info = DatasetInfo(recordCount: 2, classCount: 2, featureShape: [1])
        let p = Population(info: info, features: [0, 0], labels: [0, 1], auditCount: 2, populationCount: 0)
        let m = Memberships(recordCount: 2, referenceCount: 0, seed: 0)
        let record = ModelRecord(
            key: "k", role: "target", seed: 0, memberCount: 1, backend: "b", backendVersion: "1", history: [],
            trainSeconds: 0)
        let t = TrainedModel(role: "target", key: "k", record: record, logits: [1, 0, 0, 1], cached: true)
        return SignalSet(population: p, memberships: m, target: t, references: [])
    }
}
