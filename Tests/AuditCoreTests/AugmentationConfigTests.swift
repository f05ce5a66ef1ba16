import Foundation
import PluginKit
import Testing

@testable import AuditCore

/// `audit.augmentations`: the views it names, and what it refuses (with file, key and line).
@Suite struct AugmentationConfigTests {
    func config(_ list: String, extra: String = "") -> String {
        goodConfig.replacingOccurrences(
            of: "  fprs: [0.01, 0.1]\n", with: "  fprs: [0.01, 0.1]\n  augmentations: \(list)\n\(extra)")
    }

    @Test func theTermsMultiply() throws {
        // `shift:1` inside [...] is YAML's mapping {shift: 1}; a block list reads `shift:1` as one word.
        let both = try AuditConfig.parse(config("[flip, shift:1]"), file: "/x/t.yaml").augmentations
        #expect(both == QueryAugmentations(flip: true, shift: 1) && both.count == 18 && both.views.count == 18)
        #expect(both.views[0] == .init(mirror: false, dy: 0, dx: 0))
        #expect(Set(both.views.map { "\($0.mirror) \($0.dy) \($0.dx)" }).count == 18)
        #expect(both.description == "flip, shift:1")
        let block = try AuditConfig.parse(config("\n    - shift:2"), file: "/x/t.yaml").augmentations
        #expect(block.count == 25 && !block.flip)
        #expect(try AuditConfig.parse(config("[flip]"), file: "/x/t.yaml").augmentations.count == 2)
        #expect(try AuditConfig.parse(goodConfig, file: "/x/t.yaml").augmentations.isEmpty)
        #expect(try AuditConfig.parse(config("[]"), file: "/x/t.yaml").augmentations.isEmpty)
    }

    @Test func badListsAreRefusedWithTheirLine() throws {
        let cases: [(String, String, String)] = [
            ("[flip, rotate]", "audit.augmentations[1]", "unknown augmentation `rotate`"),
            ("[shift:0]", "audit.augmentations[0]", "from 1 to 8"),
            ("[shift:9]", "audit.augmentations[0]", "from 1 to 8"),
            ("[flip, flip]", "audit.augmentations[1]", "listed twice"),
        ]
        for (list, key, message) in cases {
            let e = try #require(parseError(config(list)), "\(list)")
            #expect(e.key == key, "\(list): \(e.key ?? "nil")")
            #expect(e.line == 20, "\(list)")
            #expect(e.description.contains(message), "\(list): \(e)")
        }
        let checkpoints = try #require(parseError(config("[flip]", extra: "  checkpoints: [1]\n")))
        #expect(checkpoints.description.contains("cannot be combined with `audit.checkpoints`"))
        let defences = try #require(parseError(config("[flip]", extra: "  output_defences: [label_only]\n")))
        #expect(defences.description.contains("cannot be combined with `audit.output_defences`"))
    }

    @Test func theSignalsKeyCoversTheViews() {
        let key = "abc"
        #expect(SignalSet.augmentedKey(key, .none) == key)
        let flip = SignalSet.augmentedKey(key, QueryAugmentations(flip: true))
        #expect(flip != key)
        #expect(SignalSet.augmentedKey(key, QueryAugmentations(flip: true, shift: 1)) != flip)
        #expect(SignalSet.augmentedKey(key, QueryAugmentations(flip: true)) == flip)
    }
}
