import Foundation
import PluginABI
import PluginKit
import Testing

// PluginExport, the Swift -> C bridge: a dataset and an attack defined here are exported, and
// the C descriptor and vtables it returns are driven directly, as a host would.

/// A dataset of `count` records of 2 floats: record i is [10 i, 10 i + 1], label i mod 3.
final class FakeDataset: DatasetLoader {
    static let name = "fake-dataset"
    static let summary = "records [10 i, 10 i + 1] with label i mod 3"
    static let options = [
        OptionSpec("count", .int, default: "4", "number of records"),
        OptionSpec("fail_open", .bool, default: "false", "throw from open"),
    ]

    let count: Int

    init(options: PluginOptions, host: HostServices) throws {
        count = options.has("count") ? try options.int("count") : 4
        if options.has("fail_open"), try options.bool("fail_open") {
            throw PluginError(.io, "fake-dataset: asked to fail in open")
        }
    }

    func info() throws -> DatasetInfo { DatasetInfo(recordCount: count, classCount: 3, featureShape: [2]) }

    func read(
        start: Int, count n: Int, features: UnsafeMutableBufferPointer<Float>, labels: UnsafeMutableBufferPointer<Int32>
    ) throws {
        guard start >= 0, start + n <= count else {
            throw PluginError(.invalidArgument, "fake-dataset: records out of range")
        }
        for i in 0..<n {
            features[2 * i] = Float(10 * (start + i))
            features[2 * i + 1] = Float(10 * (start + i) + 1)
            labels[i] = Int32((start + i) % 3)
        }
    }
}

/// An error that is not a PluginError, to check how the bridge maps foreign errors.
struct FakeUnexpectedError: Error, CustomStringConvertible {
    var description: String { "fake unexpected error" }
}

/// Scores a record with the target's logit of its true label; `fail` makes it misbehave.
final class FakeAttack: AttackStrategy {
    static let name = "fake-attack"
    static let summary = "the target logit of the true label (test double)"
    static let options = [
        OptionSpec(
            "fail", .string, default: "\"none\"", choices: ["none", "plugin", "other", "nan"], "how to fail in score"),
        OptionSpec("needs_reference", .bool, default: "false", "ask for reference models"),
        OptionSpec("exclude_first", .bool, default: "false", "leave record 0 out of the evaluation"),
    ]

    let fail: String
    let needsReference: Bool
    let excludeFirst: Bool

    init(options: PluginOptions, host: HostServices) throws {
        fail = options.has("fail") ? try options.string("fail") : "none"
        needsReference = options.has("needs_reference") ? try options.bool("needs_reference") : false
        excludeFirst = options.has("exclude_first") ? try options.bool("exclude_first") : false
    }

    var requirements: AttackRequirements { needsReference ? [.referenceModels, .population] : [] }

    func score(
        _ signals: Signals, into scores: UnsafeMutableBufferPointer<Double>,
        evaluationMask: UnsafeMutableBufferPointer<UInt8>
    ) throws {
        switch fail {
        case "plugin": throw PluginError(.unsupported, "fake-attack: asked to fail in score")
        case "other": throw FakeUnexpectedError()
        default: break
        }
        for i in 0..<signals.recordCount {
            scores[i] = Double(signals.targetRow(i)[Int(signals.labels[i])])
        }
        if fail == "nan" { scores[signals.recordCount - 1] = .nan }
        if excludeFirst { evaluationMask[0] = 0 }
    }
}

/// The one exported definition of this test process (PluginExport keeps a process-global registry).
enum Exported {
    static let definition = PluginDefinition(
        name: "test-plugin", version: "0.1.0",
        components: [.dataset(FakeDataset.self), .attack(FakeAttack.self)] + numberedAttacks)

    // Safe to share: the descriptor is built once under PluginExport's lock and never written after.
    nonisolated(unsafe) static let descriptor: UnsafePointer<mia_plugin_descriptor_t> = PluginExport.entry(
        hostMajor: UInt32(MIA_ABI_MAJOR), definition)!.assumingMemoryBound(to: mia_plugin_descriptor_t.self)

    static func component(_ name: String) -> mia_component_t {
        components(descriptor).first { String(cString: $0.name) == name }!
    }
}

@Suite struct ExportBridgeTests {
    @Test func descriptorListsTheComponentsWithTheirOptions() {
        let d = Exported.descriptor.pointee
        #expect(d.struct_size == UInt32(MemoryLayout<mia_plugin_descriptor_t>.size))
        #expect(d.abi_major == UInt32(MIA_ABI_MAJOR) && d.abi_minor == UInt32(MIA_ABI_MINOR))
        #expect(String(cString: d.name) == "test-plugin" && String(cString: d.version) == "0.1.0")
        #expect(String(cString: d.toolchain) == swiftToolchainID)
        #expect(swiftToolchainID == "swift-6.3.1")
        let list = components(Exported.descriptor)
        #expect(list.prefix(2).map(name) == ["fake-dataset", "fake-attack"])
        #expect(list.prefix(2).map(\.kind) == [MIA_COMPONENT_DATASET, MIA_COMPONENT_ATTACK])
        #expect(list.count == 22)  // and 20 `numbered-*` attacks (ManyComponentsTests)
        #expect(String(cString: list[1].description) == FakeAttack.summary)
        let attackOptions = options(list[1])
        #expect(attackOptions.count == 3)
        let fail = attackOptions["fail"]!
        #expect(fail.type == MIA_OPTION_STRING && fail.required == 0)
        #expect(String(cString: fail.default_json) == "\"none\"")
        #expect(String(cString: fail.choices) == "none|plugin|other|nan")
        #expect(String(cString: fail.description) == "how to fail in score")
        #expect(attackOptions["needs_reference"]!.type == MIA_OPTION_BOOL)
        #expect(attackOptions["needs_reference"]!.choices == nil)
        #expect(options(list[0])["count"]!.type == MIA_OPTION_INT)
    }

    @Test func entryDeclinesAnotherMajorAndBuildsTheDescriptorOnce() {
        var built = false
        let other = PluginExport.entry(
            hostMajor: UInt32(MIA_ABI_MAJOR) + 998,
            {
                built = true
                return Exported.definition
            }())
        #expect(other == nil)
        #expect(!built)
        let again = PluginExport.entry(hostMajor: UInt32(MIA_ABI_MAJOR), Exported.definition)
        #expect(again == UnsafeRawPointer(Exported.descriptor))
    }

    @Test func datasetVtableOpensDescribesReadsAndCloses() throws {
        let dataset = try CDataset(Exported.component("fake-dataset"), options: "{\"count\": 5}")
        #expect(try dataset.info() == DatasetInfo(recordCount: 5, classCount: 3, featureShape: [2]))
        let read = try dataset.read(start: 2, count: 3, featureSize: 2)
        #expect(read.features == [20, 21, 30, 31, 40, 41])
        #expect(read.labels == [2, 0, 1])
        let outside = callError { _ = try dataset.read(start: 4, count: 3, featureSize: 2) }
        #expect(outside == CallError(status: MIA_ERR_INVALID_ARGUMENT, message: "fake-dataset: records out of range"))
    }

    @Test func datasetErrorsComeBackAsStatusAndMessage() throws {
        let component = Exported.component("fake-dataset")
        #expect(
            callError { _ = try CDataset(component, options: "{\"fail_open\": true}") }
                == CallError(status: MIA_ERR_IO, message: "fake-dataset: asked to fail in open"))
        #expect(
            callError { _ = try CDataset(component, options: "not json") }
                == CallError(status: MIA_ERR_INVALID_ARGUMENT, message: "options are not a JSON object: not json"))
        #expect(
            callError { _ = try CDataset(component, options: "[1, 2]") }
                == CallError(status: MIA_ERR_INVALID_ARGUMENT, message: "options are not a JSON object: [1, 2]"))
        #expect(
            callError { _ = try CDataset(component, options: "{\"count\": \"many\"}") }
                == CallError(status: MIA_ERR_INVALID_ARGUMENT, message: "option `count` must be an integer"))
        #expect(
            callError { _ = try CDataset(component, options: nil) }
                == CallError(status: MIA_ERR_INVALID_ARGUMENT, message: "options is null"))

        // A read into a tensor of the wrong dtype is refused by the bridge before the loader runs.
        let dataset = try CDataset(component, options: "{}")
        var features = [Double](repeating: 0, count: 2)
        var labels: [Int32] = [0]
        let wrong = callError {
            try features.withUnsafeMutableBufferPointer { f in
                try labels.withUnsafeMutableBufferPointer { l in
                    var ft = TensorView.make(f.baseAddress!, dtype: MIA_DTYPE_F64, shape: [1, 2])
                    var lt = TensorView.make(l.baseAddress!, dtype: MIA_DTYPE_I32, shape: [1])
                    try call { dataset.table.pointee.read(dataset.instance, 0, 1, &ft, &lt, $0) }
                }
            }
        }
        #expect(wrong?.status == MIA_ERR_INVALID_ARGUMENT)
        #expect(wrong?.message == "read features: dtype \(MIA_DTYPE_F64), expected \(MIA_DTYPE_F32)")
    }

    /// A descriptor entry handed to the vtable of another kind is refused by name. Before the
    /// context was one concrete `Box<Component>`, the dataset vtable read the attack's type as a
    /// dataset's and called `init` through the wrong witness table (issue 15).
    @Test func anEntryOfAnotherKindIsRefusedNotRun() throws {
        var attack = Exported.component("fake-attack")
        attack.vtable = Exported.component("fake-dataset").vtable
        #expect(
            callError { _ = try CDataset(attack, options: "{}") }
                == CallError(
                    status: MIA_ERR_INVALID_ARGUMENT,
                    message: "component 'fake-attack' was handed to the dataset vtable but is of another kind"))
        var dataset = Exported.component("fake-dataset")
        dataset.vtable = Exported.component("fake-attack").vtable
        #expect(
            callError { _ = try CAttack(dataset, options: "{}") }
                == CallError(
                    status: MIA_ERR_INVALID_ARGUMENT,
                    message: "component 'fake-dataset' was handed to the attack vtable but is of another kind"))
    }

    @Test func attackVtableCreatesScoresAndDestroys() throws {
        let component = Exported.component("fake-attack")
        let plain = try CAttack(component, options: "{}")
        #expect(plain.requirements == 0)
        let logits: [Float] = [1, 2, 3, -4, 5, 6.5]
        let result = try plain.score(labels: [2, 1], logits: logits, classCount: 3)
        #expect(result.scores == [3, 5])
        #expect(result.mask == [1, 1])

        let needy = try CAttack(component, options: "{\"needs_reference\": true, \"exclude_first\": true}")
        #expect(needy.requirements == MIA_NEEDS_REFERENCE_MODELS | MIA_NEEDS_POPULATION)
        let masked = try needy.score(labels: [0, 2], logits: logits, classCount: 3)
        #expect(masked.scores == [1, 6.5])
        #expect(masked.mask == [0, 1])
    }

    @Test func attackErrorsComeBackAsStatusAndMessage() throws {
        let component = Exported.component("fake-attack")
        let logits: [Float] = [1, 2, 3, 4]
        let plugin = try CAttack(component, options: "{\"fail\": \"plugin\"}")
        #expect(
            callError { _ = try plugin.score(labels: [0, 1], logits: logits, classCount: 2) }
                == CallError(status: MIA_ERR_UNSUPPORTED, message: "fake-attack: asked to fail in score"))
        let other = try CAttack(component, options: "{\"fail\": \"other\"}")
        #expect(
            callError { _ = try other.score(labels: [0, 1], logits: logits, classCount: 2) }
                == CallError(status: MIA_ERR_INTERNAL, message: "fake unexpected error"))
        let nan = try CAttack(component, options: "{\"fail\": \"nan\"}")
        #expect(
            callError { _ = try nan.score(labels: [0, 1], logits: logits, classCount: 2) }
                == CallError(status: MIA_ERR_INTERNAL, message: "score of record 1 is not finite (nan)"))
        #expect(
            callError { _ = try CAttack(component, options: "{\"fail\": 3}") }
                == CallError(status: MIA_ERR_INVALID_ARGUMENT, message: "option `fail` must be a string"))
        // Signals without target logits are refused by the bridge.
        var error = mia_error_t()
        var signals = mia_signals_t()
        signals.struct_size = UInt32(MemoryLayout<mia_signals_t>.size)
        signals.record_count = 1
        signals.class_count = 2
        var scores = [0.0]
        var mask: [UInt8] = [1]
        let status = plugin.table.pointee.score(plugin.instance, &signals, &scores, &mask, &error)
        #expect(status == MIA_ERR_INVALID_ARGUMENT)
        #expect(readMessage(&error) == "score: labels and target logits are required")
    }

    /// A message longer than the C buffer is cut to fit, NUL-terminated, on a character boundary.
    @Test func longMessagesAreTruncatedOnACharacterBoundary() {
        var error = mia_error_t()
        let message = String(repeating: "é", count: 600)  // 1,200 bytes of UTF-8
        let status = PluginError(.io, message).write(to: &error)
        #expect(status == MIA_ERR_IO)
        let read = readMessage(&error)
        #expect(read == String(repeating: "é", count: 511))
        #expect(read.utf8.count == 1022)
    }
}
