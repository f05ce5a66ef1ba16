import Foundation
import Testing
import Yams

@testable import AuditCore

/// A config with a sweep appended; its lines are numbered so the tests can name them.
func studyText(_ sweep: String) -> String {
    """
    run:
      name: s
      output: /tmp/study-tests/s
      seed: 1
    dataset:
      plugin: idx
      options:
        images: a.gz
      audit_records: 100
    model:
      plugin: native
      options:
        architecture: mlp
        epochs: 2
    reference_models:
      count: 1
    audit:
      attacks:
        - plugin: loss-threshold
          options:
            loss: cross_entropy
        - plugin: entropy
    """ + "\n" + sweep
}
// Line numbers: `model:` is line 10, `epochs:` 14, `attacks:` 18; the sweep starts on line 23,
// so its first key (`mode:` or `parameters:`) is on line 24.

/// The node at `path` in a point's text, as flow text.
func value(_ path: String, in text: String) throws -> String? {
    let root = try #require(try Yams.compose(yaml: text))
    return ConfigKeyPath(path)!.node(in: root).map { node in
        switch node {
        case .scalar(let s): return s.string
        case .sequence(let s): return "[" + s.compactMap(\.scalar?.string).joined(separator: ",") + "]"
        default: return "{…}"
        }
    }
}

func configError(_ body: () throws -> Any) -> ConfigError? {
    do {
        _ = try body()
        return nil
    } catch let e as ConfigError {
        return e
    } catch let e as ConfigErrors {
        return e.errors.first
    } catch {
        return nil
    }
}

@Suite struct KeyPathTests {
    @Test func parsesKeysAndIndices() throws {
        let p = try #require(ConfigKeyPath("audit.attacks[0].options.known_member_fraction"))
        #expect(p.steps == [.key("audit"), .key("attacks"), .index(0), .key("options"), .key("known_member_fraction")])
        #expect(p.description == "audit.attacks[0].options.known_member_fraction")
        #expect(p.lastKey == "known_member_fraction")
        #expect(ConfigKeyPath("a[1][2]")?.steps == [.key("a"), .index(1), .index(2)])
        for bad in ["", "a..b", "a.[0]", "a[x]", "a[-1]", "a[0", ".a", "a."] {
            #expect(ConfigKeyPath(bad) == nil, "\(bad)")
        }
    }

    @Test func withinIsByWholeSteps() {
        let a = ConfigKeyPath("audit.attacks")!, b = ConfigKeyPath("audit.attacks[1].options")!
        #expect(b.isWithin(a))
        #expect(!a.isWithin(b))
        #expect(!ConfigKeyPath("audit.attacksX")!.isWithin(a))
    }
}

@Suite struct SweepExpansionTests {
    @Test func gridIsEveryCombinationFirstKeySlowest() throws {
        let study = try Study.parse(
            studyText(
                """
                sweep:
                  parameters:
                    model.options.epochs: [5, 20]
                    model.options.architecture: [mlp, lenet5, cnn]
                """), file: "s.yaml")
        #expect(study.sweep.mode == .grid)
        #expect(study.points.count == 6)
        let seen = try study.points.map {
            [try value("model.options.epochs", in: $0.text)!, try value("model.options.architecture", in: $0.text)!]
        }
        #expect(
            seen == [["5", "mlp"], ["5", "lenet5"], ["5", "cnn"], ["20", "mlp"], ["20", "lenet5"], ["20", "cnn"]])
        #expect(
            study.points.map(\.name) == [
                "0-epochs-5-architecture-mlp", "1-epochs-5-architecture-lenet5", "2-epochs-5-architecture-cnn",
                "3-epochs-20-architecture-mlp", "4-epochs-20-architecture-lenet5", "5-epochs-20-architecture-cnn",
            ])
        #expect(
            study.points[4].values == [
                SweptValue(key: "model.options.epochs", value: "20", number: 20),
                SweptValue(key: "model.options.architecture", value: "lenet5", number: nil),
            ])
    }

    @Test func zipTakesListsInLockstep() throws {
        let study = try Study.parse(
            studyText(
                """
                sweep:
                  mode: zip
                  parameters:
                    model.options.architecture: [lenet5, mlp, mlp]
                    model.options.hidden_sizes: [null, [64], [64, 64]]
                """), file: "s.yaml")
        #expect(study.points.count == 3)
        #expect(
            try study.points.map { try value("model.options.architecture", in: $0.text) } == ["lenet5", "mlp", "mlp"])
        // null removes the key, so the plugin's default applies.
        #expect(
            try study.points.map { try value("model.options.hidden_sizes", in: $0.text) } == [nil, "[64]", "[64,64]"])
        #expect(study.points[2].name == "2-architecture-mlp-hidden_sizes-64x64")
    }

    @Test func listIndicesReachOneItem() throws {
        let study = try Study.parse(
            studyText(
                """
                sweep:
                  parameters:
                    audit.attacks[0].options.loss: [probability]
                    audit.attacks[1].options.class_thresholds: [true]
                """), file: "s.yaml")
        let text = try #require(study.points.first?.text)
        #expect(try value("audit.attacks[0].options.loss", in: text) == "probability")
        #expect(try value("audit.attacks[0].plugin", in: text) == "loss-threshold")
        // The second attack had no options: the mapping is made.
        #expect(try value("audit.attacks[1].options.class_thresholds", in: text) == "true")
        #expect(try value("audit.attacks[1].plugin", in: text) == "entropy")
        #expect(study.points[0].config.attacks.count == 2)
    }

    @Test func pointsAreOrdinaryRunsInTheirOwnFoldersSharingOneStore() throws {
        let study = try Study.parse(
            studyText(
                """
                sweep:
                  parameters:
                    model.options.epochs: [2, 3]
                """), file: "s.yaml")
        #expect(study.output == "/tmp/study-tests/s")
        #expect(study.modelStore == "/tmp/study-tests/s/models")
        for p in study.points {
            #expect(p.config.output == "/tmp/study-tests/s/points/\(p.name)")
            #expect(p.config.modelStore == "/tmp/study-tests/s/models")
            #expect(p.config.name == "s-\(p.name)")
            #expect(!Study.hasSweep(p.text))
            // The point's text is an ordinary config: it parses alone, to the same thing.
            let again = try AuditConfig.parse(p.text, file: "s.yaml")
            #expect(again.output == p.config.output && again.auditRecords == 100 && again.referenceCount == 1)
        }
        #expect(Study.hasSweep(study.text))
    }

    @Test func aConfiguredStoreIsKept() throws {
        let text = studyText("sweep:\n  parameters:\n    run.seed: [1, 2]\n")
            .replacingOccurrences(of: "  seed: 1\n", with: "  seed: 1\n  model_store: /tmp/study-tests/shared-store\n")
        let study = try Study.parse(text, file: "s.yaml")
        #expect(
            study.points.map(\.config.modelStore) == ["/tmp/study-tests/shared-store", "/tmp/study-tests/shared-store"])
        #expect(study.points.map(\.config.seed) == [1, 2])
    }
}

@Suite struct SweepErrorTests {
    func error(_ sweep: String) -> ConfigError? { configError { try Study.parse(studyText(sweep), file: "s.yaml") } }

    @Test func unknownTopKeyNamesItsLineAndASuggestion() throws {
        let e = try #require(error("sweep:\n  parameters:\n    modle.options.epochs: [1, 2]\n"))
        #expect(e.file == "s.yaml")
        #expect(e.line == 25)
        #expect(e.key == "sweep.parameters.modle.options.epochs")
        #expect(e.message.contains("unknown top-level key `modle`"))
        #expect(e.message.contains("did you mean `model`"))
    }

    @Test func badKeyPath() throws {
        let e = try #require(
            error("sweep:\n  parameters:\n    model.options.epochs: [1]\n    audit.attacks.[0]: [x]\n"))
        #expect(e.line == 26)
        #expect(e.message.contains("not a key path"))
    }

    @Test func indexOutOfRange() throws {
        let e = try #require(error("sweep:\n  parameters:\n    audit.attacks[2].options.loss: [x]\n"))
        #expect(e.line == 25)
        #expect(e.message.contains("`audit.attacks` has 2 items, so index 2 is out of range"))
    }

    @Test func emptyList() throws {
        let e = try #require(error("sweep:\n  parameters:\n    model.options.epochs: []\n"))
        #expect(e.line == 25)
        #expect(e.message.contains("empty"))
    }

    @Test func notAList() throws {
        let e = try #require(error("sweep:\n  parameters:\n    model.options.epochs: 5\n"))
        #expect(e.line == 25)
        #expect(e.message.contains("must be a list"))
    }

    @Test func zipListsOfUnequalLength() throws {
        let e = try #require(
            error("sweep:\n  mode: zip\n  parameters:\n    model.options.epochs: [1, 2]\n    run.seed: [1, 2, 3]\n"))
        #expect(e.line == 27)
        #expect(e.message.contains("has 3 values but `model.options.epochs` has 2"))
    }

    @Test func unknownModeAndKey() throws {
        let mode = try #require(error("sweep:\n  mode: grd\n  parameters:\n    run.seed: [1]\n"))
        #expect(mode.line == 24 && mode.message.contains("did you mean `grid`"))
        let key = try #require(error("sweep:\n  paramters:\n    run.seed: [1]\n"))
        #expect(key.line == 24 && key.message.contains("did you mean `parameters`"))
    }

    @Test func reservedAndOverlappingKeys() throws {
        let reserved = try #require(error("sweep:\n  parameters:\n    run.output: [a, b]\n"))
        #expect(reserved.line == 25 && reserved.message.contains("cannot set `run.output`"))
        let whole = try #require(error("sweep:\n  parameters:\n    run: [{seed: 1}]\n"))
        #expect(whole.message.contains("cannot set `run.output`"))
        let overlap = try #require(
            error(
                "sweep:\n  parameters:\n    audit.attacks[0]: [{plugin: gap}]\n    audit.attacks[0].options.loss: [x]\n"
            ))
        #expect(overlap.line == 26 && overlap.message.contains("overlaps `audit.attacks[0]` (line 25)"))
    }

    @Test func aBadSweptValueIsReportedAtItsOwnLine() throws {
        // `reference_models.count` must not be negative: AuditConfig's check on the point's text,
        // moved back to the line in the study's config that gave the value.
        let e = try #require(error("sweep:\n  parameters:\n    reference_models.count:\n      - 2\n      - -1\n"))
        #expect(e.file == "s.yaml")
        #expect(e.line == 27)
        #expect(e.key == "reference_models.count")
        #expect(e.message.contains("in sweep point `1-count--1`"))
        #expect(e.message.contains("must not be negative"))
    }

    @Test func aMisspeltKeyUnderASweptPathPointsAtTheSweep() throws {
        let e = try #require(error("sweep:\n  parameters:\n    model.optons.epochs: [1, 2]\n"))
        #expect(e.line == 25)
        #expect(e.message.contains("unknown key `optons`"))
        #expect(e.message.contains("and 1 more point"))
    }

    @Test func aConfigWithoutSweepIsASingleRun() throws {
        let e = try #require(configError { try Study.parse(studyText(""), file: "s.yaml") })
        #expect(e.message.contains("mia-audit run"))
    }
}
