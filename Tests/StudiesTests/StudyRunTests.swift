import Foundation
import MIATestSupport
import Testing

@testable import AuditCore

/// A tiny study on Fashion-MNIST: 200 audit records, an MLP with 16 hidden units, 2 reference models.
func tinyStudy(output: String, sweep: String) -> String {
    """
    run:
      name: tiny
      output: \(output)
      seed: 3
      threads: 2
    dataset:
      plugin: idx
      options:
        images: /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
        labels: /usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz
      audit_records: 200
    model:
      plugin: native
      options:
        architecture: mlp
        hidden_sizes: [16]
        epochs: 2
    reference_models:
      count: 2
    audit:
      fprs: [0.01, 0.1]
      bootstrap_samples: 20
      attacks:
        - plugin: loss-threshold
          options:
            loss: cross_entropy
        - plugin: entropy
    \(sweep)
    """
}

/// Finished models in a store: folders holding a `meta.json`.
func storedModels(_ store: String) throws -> Int {
    try FileManager.default.contentsOfDirectory(atPath: store).filter {
        FileManager.default.fileExists(atPath: "\(store)/\($0)/meta.json")
    }.count
}

func scratch(_ name: String) throws -> String {
    let dir = NSTemporaryDirectory() + "mia-studies-\(name)-\(getpid())"
    try? FileManager.default.removeItem(atPath: dir)
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

func comparison(_ folder: String) throws -> StudyComparison {
    let data = try #require(FileManager.default.contents(atPath: folder + "/comparison.json"))
    return try StudyComparison.decode(jsonData: data)
}

@Suite(.serialized) struct StudyRunTests {
    @Test(
        .enabled(
            if: FileManager.default.fileExists(atPath: binary), "needs the release build (scripts/test.sh makes it)"))
    func twoPointsThatDifferOnlyInAnAttackShareTheirModels() throws {
        let dir = try scratch("share")
        let output = dir + "/study"
        let config = dir + "/study.yaml"
        try tinyStudy(
            output: output,
            sweep: """
                sweep:
                  parameters:
                    audit.attacks[0].options.loss: [cross_entropy, probability]
                """
        ).write(toFile: config, atomically: true, encoding: .utf8)
        let r = try mia(["study", config, "-q"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("comparison: \(output)/comparison.json"))

        // One target and two reference models in the shared store, not two of each.
        #expect(try storedModels(output + "/models") == 1 + 2)
        for point in ["0-loss-cross_entropy", "1-loss-probability"] {
            #expect(FileManager.default.fileExists(atPath: "\(output)/points/\(point)/metrics.json"))
            #expect(!FileManager.default.fileExists(atPath: "\(output)/points/\(point)/models"))
        }
        let c = try comparison(output)
        #expect(c.points.map(\.finished) == [true, true])
        #expect(c.points.map(\.modelsTrained) == [3, 0])
        #expect(c.points.map(\.modelsLoaded) == [0, 3])
        // Same models, same unswept attack: the same figures at both points.
        #expect(c.points[0].attack("entropy") == c.points[1].attack("entropy"))
        #expect(c.points[0].target == c.points[1].target)
        #expect(c.points[1].value(of: "audit.attacks[0].options.loss")?.value == "probability")
        let html = try String(contentsOfFile: output + "/comparison.html", encoding: .utf8)
        #expect(html.contains("points/1-loss-probability/report.html"))
    }

    @Test(
        .enabled(
            if: FileManager.default.fileExists(atPath: binary), "needs the release build (scripts/test.sh makes it)"))
    func aGridTrainsEachDistinctModelOnceAndResumes() throws {
        let dir = try scratch("grid")
        let output = dir + "/study"
        let config = dir + "/study.yaml"
        try tinyStudy(
            output: output,
            sweep: """
                sweep:
                  parameters:
                    model.options.epochs: [2, 3]
                    audit.attacks[0].options.loss: [cross_entropy, probability]
                """
        ).write(toFile: config, atomically: true, encoding: .utf8)
        let first = try mia(["study", config, "-q"])
        #expect(first.status == 0, "\(first.stderr)")
        // Two trainings (2 and 3 epochs) of 1 + 2 models; the attack option shares them.
        #expect(try storedModels(output + "/models") == 2 * 3)
        #expect(try comparison(output).points.map(\.modelsTrained) == [3, 0, 3, 0])

        // An interrupted study: the third point never wrote its metrics. Running again runs only it,
        // from the stored models.
        let third = "\(output)/points/2-epochs-3-loss-cross_entropy/metrics.json"
        try FileManager.default.removeItem(atPath: third)
        let again = try mia(["study", config])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.components(separatedBy: "finished earlier, skipped").count - 1 == 3)
        #expect(
            again.stdout.contains(
                "point 3/4 2-epochs-3-loss-cross_entropy: running (3 of 3 models already in the store)"))
        #expect(FileManager.default.fileExists(atPath: third))
        #expect(try storedModels(output + "/models") == 2 * 3)
        let c = try comparison(output)
        #expect(c.points.map(\.finished) == [true, true, true, true])
        // Counts from the first invocation are kept; the rerun point trained nothing.
        #expect(c.points.map(\.modelsTrained) == [3, 0, 0, 0])
        #expect(c.points.map(\.modelsLoaded) == [0, 3, 3, 3])
    }

    @Test(
        .enabled(
            if: FileManager.default.fileExists(atPath: binary), "needs the release build (scripts/test.sh makes it)"))
    func everyPointIsCheckedBeforeAnyRuns() throws {
        let dir = try scratch("check")
        let output = dir + "/study"
        let config = dir + "/study.yaml"
        // The third value is not an architecture: nothing may run, and the error names its line.
        let text = tinyStudy(
            output: output,
            sweep: """
                sweep:
                  parameters:
                    model.options.architecture: [mlp, logistic, transformer]
                """)
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let r = try mia(["study", config])
        #expect(r.status == 2)
        let line = text.components(separatedBy: "\n").firstIndex { $0.contains("model.options.architecture") }! + 1
        #expect(
            r.stderr.contains(
                "\(config):\(line): `model.options.architecture`: in sweep point `2-architecture-transformer`"))
        #expect(!FileManager.default.fileExists(atPath: output + "/points"))
        #expect(!FileManager.default.fileExists(atPath: output + "/models"))
    }
}
