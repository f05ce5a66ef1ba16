import Foundation
import PluginABI
import PluginKit
import Testing

// The C fixtures of Tests/Fixtures behave as the loading tests of the host expect.

func fixture(_ name: String) throws -> LoadedLibrary {
    try LoadedLibrary(buildFolder.appendingPathComponent("libTest\(name).so").path)
}

@Suite struct FixtureTests {
    @Test func wrongABIFixtureReportsMajor999() throws {
        let d = try #require(try fixture("FixtureWrongABI").descriptor())
        #expect(d.pointee.abi_major == 999)
        #expect(String(cString: d.pointee.name) == "fixture-wrong-abi")
    }

    @Test func noEntryFixtureExportsSomethingElse() throws {
        let library = try fixture("FixtureNoEntry")
        #expect(library.symbol(MIA_PLUGIN_ENTRY_SYMBOL) == nil)
        let other = try #require(library.symbol("fixture_no_entry_answer"))
        typealias Answer = @convention(c) () -> Int32
        #expect(unsafeBitCast(other, to: Answer.self)() == 42)
    }

    @Test func failingFixtureFailsWithItsMessages() throws {
        let library = try fixture("FixtureFailing")
        #expect(try library.descriptor(major: 2) == nil)
        let d = try #require(try library.descriptor())
        #expect(d.pointee.abi_major == UInt32(MIA_ABI_MAJOR))
        #expect(String(cString: d.pointee.toolchain) == "c")
        let list = components(d)
        #expect(list.map(name) == ["failing-attack", "failing-dataset"])
        #expect(list.map(\.kind) == [MIA_COMPONENT_ATTACK, MIA_COMPONENT_DATASET])

        let attack = try CAttack(list[0], options: "{}")
        #expect(
            callError { _ = try attack.score(labels: [0], logits: [1, 2], classCount: 2) }
                == CallError(status: MIA_ERR_INVALID_ARGUMENT, message: "failing-attack: this fixture always fails"))
        let open = callError { _ = try CDataset(list[1], options: "{}") }
        #expect(open?.status == MIA_ERR_IO)
        #expect(open?.message == "failing-dataset: this fixture cannot open anything")
    }
}
