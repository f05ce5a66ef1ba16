import Foundation
import PluginKit
import Testing

@testable import AuditCore

// Issue 13, items 2, 4 and 9: option ranges declared by the built-in plugins (ABI 1.2
// `mia_option_t` range fields) and checked, with types and finiteness, by the one function
// `validate` and `run` both call (`OptionChecker.check`). Each value below passed validate
// before: a negative learning rate, batch size or epoch count, Int64.max hidden sizes, and a
// `.nan` learning rate (which then dropped every option of the model: the JSON fell back to `{}`).

/// The native backend's schema as the host reads it through the C ABI (ranges included).
func nativeSchema() throws -> [OptionSpec] {
    let registry = PluginRegistry.discover(includeEnvironment: false)
    return try #require(registry.component(.model, named: "native")).options
}

/// The error `OptionChecker.check` throws for the model options `yaml` (replacing `epochs: 2`,
/// line 15 of `goodConfig`), or nil when they pass.
func modelOptionsError(_ yaml: String, schema: [OptionSpec]) -> ConfigError? {
    do {
        let c = try AuditConfig.parse(
            goodConfig.replacingOccurrences(of: "    epochs: 2", with: yaml), file: "/tmp/r.yaml")
        _ = try OptionChecker.check(
            c.model!.options, against: schema, component: "native", baseDirectory: "/tmp", at: c.model!.pluginNode)
        return nil
    } catch {
        return error as? ConfigError
    }
}

@Suite struct OptionRangeTests {
    @Test func rangesCrossTheABI() throws {
        let schema = try nativeSchema()
        let lr = try #require(schema.first { $0.name == "learning_rate" })
        #expect(lr.range.minimum == 0 && lr.range.minimumExclusive && lr.range.maximum == nil)
        #expect(lr.range.summary == "> 0")
        let hidden = try #require(schema.first { $0.name == "hidden_sizes" })
        #expect(hidden.range.summary == "in [1, 65536], length 1 to 64")
    }

    @Test(arguments: [
        ("    learning_rate: -0.1", "model.options.learning_rate", "must be > 0, not -0.1"),
        ("    batch_size: -5", "model.options.batch_size", "must be in [1, 16777216], not -5"),
        ("    epochs: -3", "model.options.epochs", "must be in [0, 1000000], not -3"),
        (
            "    hidden_sizes: [64, 9223372036854775807]", "model.options.hidden_sizes[1]",
            "must be in [1, 65536], not 9223372036854775807"
        ),
        ("    hidden_sizes: []", "model.options.hidden_sizes", "must have 1 to 64 elements, not 0"),
        ("    learning_rate: .nan", "model.options.learning_rate", "must be a finite number, not `.nan`"),
        ("    learning_rate: .inf", "model.options.learning_rate", "must be a finite number, not `.inf`"),
        ("    learning_rate: 1e400", "model.options.learning_rate", "must be a finite number, not `1e400`"),
        ("    dropout: 1", "model.options.dropout", "must be in [0, 1), not 1"),
    ])
    func outOfRangeOptionsAreRefusedWithLineAndKey(yaml: String, key: String, message: String) throws {
        let e = try #require(modelOptionsError(yaml, schema: try nativeSchema()), "\(yaml) passed")
        #expect(e.file == "/tmp/r.yaml")
        #expect(e.line == 15)
        #expect(e.key == key)
        #expect(e.message.contains(message), "\(e.message)")
    }

    @Test func valuesInRangePass() throws {
        #expect(
            modelOptionsError(
                "    learning_rate: 0.5\n    epochs: 0\n    hidden_sizes: [1, 65536]", schema: try nativeSchema())
                == nil)
    }

    @Test func negativeTopRecordsIsRefused() {
        let e = parseError(goodConfig + "\nreport:\n  top_records: -21\n")
        #expect(e?.key == "report.top_records")
        #expect(e?.line == 27)
        #expect(e?.message.contains("must be >= 0, not -21") == true)
    }

    /// The options' JSON has no fallback: what the checker let through is what the plugin gets,
    /// byte for byte the text Foundation's sorted-keys encoder gave before (model store keys hash it).
    @Test func optionsJSONKeepsEveryValueAndItsText() throws {
        let values: [String: OptionValue] = [
            "learning_rate": .double(0.01), "hidden_sizes": .list([.int(64), .int(32)]), "name": .string("a/b \"c\""),
            "on": .bool(true), "scale": .double(1.0 / 255.0), "empty": .list([]),
        ]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        #expect(OptionChecker.json(values) == String(decoding: try encoder.encode(values), as: UTF8.self))
        #expect(OptionChecker.json(values).contains(#""learning_rate":0.01"#))
    }
}
