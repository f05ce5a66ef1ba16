import Foundation
import PluginABI
import PluginKit
import Testing

// ABI 1.2 hands `create_component` the component's descriptor, so PluginKit needs one C table per
// kind (the Swift type travels in `context`) and no longer caps a library at 16 components of a
// kind: this test process exports 2 + 20 attacks, and each creates its own Swift type.

/// An attack whose score is `number` for every record; subclasses differ only by `number`.
class NumberedAttack: AttackStrategy {
    class var number: Int { 0 }
    static var name: String { "numbered-\(number)" }
    static var summary: String { "scores every record \(number)" }
    static var options: [OptionSpec] {
        [OptionSpec("offset", .float, default: "0", "added to the score").atLeast(-1).atMost(1)]
    }

    let offset: Double
    required init(options: PluginOptions, host: HostServices) throws { offset = try options.double("offset") }
    var requirements: AttackRequirements { [] }
    func score(
        _ signals: Signals, into scores: UnsafeMutableBufferPointer<Double>,
        evaluationMask: UnsafeMutableBufferPointer<UInt8>
    ) throws {
        for i in 0..<signals.recordCount { scores[i] = Double(Self.number) + offset }
    }
}

final class N1: NumberedAttack { override class var number: Int { 1 } }
final class N2: NumberedAttack { override class var number: Int { 2 } }
final class N3: NumberedAttack { override class var number: Int { 3 } }
final class N4: NumberedAttack { override class var number: Int { 4 } }
final class N5: NumberedAttack { override class var number: Int { 5 } }
final class N6: NumberedAttack { override class var number: Int { 6 } }
final class N7: NumberedAttack { override class var number: Int { 7 } }
final class N8: NumberedAttack { override class var number: Int { 8 } }
final class N9: NumberedAttack { override class var number: Int { 9 } }
final class N10: NumberedAttack { override class var number: Int { 10 } }
final class N11: NumberedAttack { override class var number: Int { 11 } }
final class N12: NumberedAttack { override class var number: Int { 12 } }
final class N13: NumberedAttack { override class var number: Int { 13 } }
final class N14: NumberedAttack { override class var number: Int { 14 } }
final class N15: NumberedAttack { override class var number: Int { 15 } }
final class N16: NumberedAttack { override class var number: Int { 16 } }
final class N17: NumberedAttack { override class var number: Int { 17 } }
final class N18: NumberedAttack { override class var number: Int { 18 } }
final class N19: NumberedAttack { override class var number: Int { 19 } }
final class N20: NumberedAttack { override class var number: Int { 20 } }

let numberedAttacks: [Component] = [
    N1.self, N2.self, N3.self, N4.self, N5.self, N6.self, N7.self, N8.self, N9.self, N10.self,
    N11.self, N12.self, N13.self, N14.self, N15.self, N16.self, N17.self, N18.self, N19.self, N20.self,
].map { .attack($0) }

@Suite struct ManyComponentsTests {
    @Test func moreThanSixteenAttacksEachCreateTheirOwnType() throws {
        let list = components(Exported.descriptor)
        #expect(list.filter { $0.kind == MIA_COMPONENT_ATTACK }.count == 21)
        // One shared table; the component's context tells the Swift types apart.
        #expect(Set(list.filter { $0.kind == MIA_COMPONENT_ATTACK }.map { UnsafeRawPointer($0.vtable) }).count == 1)
        for n in [1, 16, 17, 20] {
            let attack = try CAttack(Exported.component("numbered-\(n)"), options: "{\"offset\": 0.5}")
            #expect(
                try attack.score(labels: [0, 1], logits: [0, 0, 0, 0], classCount: 2).scores == [
                    Double(n) + 0.5, Double(n) + 0.5,
                ])
        }
        // The range declared in Swift reaches the C option struct.
        let offset = try #require(options(Exported.component("numbered-3"))["offset"])
        #expect(offset.range_flags == UInt32(MIA_RANGE_HAS_MINIMUM | MIA_RANGE_HAS_MAXIMUM))
        #expect(offset.minimum == -1 && offset.maximum == 1)
    }

    @Test func theLegacyCreateOfASwiftPluginSaysItNeedsANewerHost() {
        let table = Exported.component("numbered-1").vtable.assumingMemoryBound(to: mia_attack_vtable_t.self)
        var out: UnsafeMutableRawPointer?
        var error = mia_error_t()
        #expect(table.pointee.create(testHost, "{}", &out, &error) == MIA_ERR_UNSUPPORTED)
        #expect(readMessage(&error).contains("ABI 1.2"))
        #expect(out == nil)
    }
}
