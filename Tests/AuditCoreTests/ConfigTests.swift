import Foundation
import PluginKit
import Testing

@testable import AuditCore

/// A config that parses; each test breaks one thing.
let goodConfig = """
    run:
      name: t
      output: /tmp/mia-config-test
      seed: 3
      threads: 1
    dataset:
      plugin: idx
      options:
        images: a.gz
      audit_records: 100
      population_records: 10
    model:
      plugin: native
      options:
        epochs: 2
    reference_models:
      count: 2
    audit:
      fprs: [0.01, 0.1]
      attacks:
        - plugin: loss-threshold
        - plugin: lira
          name: lira-online
          options:
            mode: online
    """

func parseError(_ text: String) -> ConfigError? {
    do {
        _ = try AuditConfig.parse(text, file: "test.yaml")
        return nil
    } catch let e as ConfigError {
        return e
    } catch {
        Issue.record("unexpected error \(error)")
        return nil
    }
}

@Suite struct ConfigTests {
    @Test func parsesEveryKey() throws {
        let c = try AuditConfig.parse(goodConfig, file: "/x/test.yaml")
        #expect(c.name == "t")
        #expect(c.seed == 3)
        #expect(c.threads == 1)
        #expect(c.auditRecords == 100)
        #expect(c.populationRecords == 10)
        #expect(c.referenceCount == 2)
        #expect(c.fprs == [0.01, 0.1])
        #expect(c.attacks.map(\.name) == ["loss-threshold", "lira-online"])
        #expect(c.attacks[1].component.plugin == "lira")
        #expect(c.modelStore == "/tmp/mia-config-test/models")
    }

    @Test func unknownKeyNamesLineAndSuggests() throws {
        let text = goodConfig.replacingOccurrences(of: "reference_models:", with: "refernce_models:")
        let e = try #require(parseError(text))
        #expect(e.line == 16)
        #expect(e.description.contains("unknown key `refernce_models`"))
        #expect(e.description.contains("did you mean `reference_models`?"))
        #expect(e.description.hasPrefix("test.yaml:16:"))
    }

    @Test func wrongTypeNamesKeyAndLine() throws {
        let text = goodConfig.replacingOccurrences(of: "audit_records: 100", with: "audit_records: many")
        let e = try #require(parseError(text))
        #expect(e.line == 10)
        #expect(e.key == "dataset.audit_records")
        #expect(e.message.contains("must be an integer"))
    }

    @Test func missingSectionIsNamed() throws {
        let text = goodConfig.replacingOccurrences(
            of: "model:\n  plugin: native\n  options:\n    epochs: 2\n", with: "")
        let e = try #require(parseError(text))
        #expect(e.message.contains("missing required key `model`"))
    }

    @Test func duplicateAttackNamesAreRefused() throws {
        let text = goodConfig.replacingOccurrences(of: "name: lira-online", with: "name: loss-threshold")
        let e = try #require(parseError(text))
        #expect(e.message.contains("two attacks are named `loss-threshold`"))
    }

    @Test func invalidYAMLGivesLine() throws {
        let e = try #require(parseError("run:\n  name: [unclosed\n"))
        #expect(e.message.contains("not valid YAML"))
        #expect(e.line != nil)
    }

    @Test func fprOutOfRange() throws {
        let e = try #require(parseError(goodConfig.replacingOccurrences(of: "[0.01, 0.1]", with: "[0.01, 1.5]")))
        #expect(e.key == "audit.fprs[1]")
        #expect(e.line == 19)
    }

    @Test func optionsCheckedAgainstSchema() throws {
        let schema = [
            OptionSpec("epochs", .int, default: "10", "training epochs"),
            OptionSpec("optimizer", .string, default: "\"adam\"", choices: ["sgd", "adam"], "optimizer"),
            OptionSpec("data", .path, required: true, "a file"),
        ]
        let dir = NSTemporaryDirectory() + "mia-options-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: dir + "/d.bin", contents: Data([1])))
        func check(_ yaml: String) throws -> [String: OptionValue] {
            let c = try AuditConfig.parse(
                goodConfig.replacingOccurrences(of: "    epochs: 2", with: yaml), file: dir + "/c.yaml")
            return try OptionChecker.check(
                c.model!.options, against: schema, component: "native", baseDirectory: c.baseDirectory,
                at: c.model!.pluginNode)
        }
        let ok = try check("    data: d.bin\n    optimizer: sgd")
        #expect(ok["epochs"] == .int(10))
        #expect(ok["optimizer"] == .string("sgd"))
        #expect(ok["data"] == .string(dir + "/d.bin"))

        func error(_ yaml: String) -> ConfigError? {
            do { _ = try check(yaml); return nil } catch { return error as? ConfigError }
        }
        let unknown = try #require(error("    data: d.bin\n    epoch: 3"))
        #expect(unknown.message.contains("`native` has no option `epoch`; did you mean `epochs`?"))
        #expect(unknown.line == 16)
        let type = try #require(error("    data: d.bin\n    epochs: ten"))
        #expect(type.key == "model.options.epochs")
        #expect(type.message.contains("must be an integer"))
        let choice = try #require(error("    data: d.bin\n    optimizer: adamw"))
        #expect(choice.message.contains("`adamw` is not a value of `optimizer`"))
        let missingFile = try #require(error("    data: nope.bin"))
        #expect(missingFile.message.contains("nope.bin` does not exist"))
        #expect(missingFile.line == 15)
        let missing = try #require(error("    epochs: 3"))
        #expect(missing.message.contains("needs option `data`"))
    }
}
