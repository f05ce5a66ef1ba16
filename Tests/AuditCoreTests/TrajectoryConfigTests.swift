import Foundation
import Logging
import PluginKit
import Testing

@testable import AuditCore

// `audit.trajectory` (distillation students for the loss trajectory): its keys, the refusals of
// bad values with file, key and line, the plan's checks, and the students' store key.
@Suite struct TrajectoryConfigTests {
    /// goodConfig with `audit.trajectory` set to `trajectory` (YAML lines under it, indented 4).
    func config(_ trajectory: String, attack: Bool = true) -> String {
        goodConfig.replacingOccurrences(
            of: "  fprs: [0.01, 0.1]\n", with: "  fprs: [0.01, 0.1]\n  trajectory:\n\(trajectory)")
            + (attack ? "\n    - plugin: loss-trajectory\n" : "")
    }

    @Test func readsTheDistillationSource() throws {
        let c = try AuditConfig.parse(
            config("    source: distillation\n    epochs: 7\n    temperature: 2.5\n"), file: "t.yaml")
        #expect(c.trajectory.source == .distillation && c.trajectory.epochs == 7 && c.trajectory.temperature == 2.5)
        #expect(c.trajectory.line != nil)
        let d = try AuditConfig.parse(config("    source: distillation\n    epochs: 3\n"), file: "t.yaml")
        #expect(d.trajectory.temperature == 1 && d.trajectory.distills)
        let own = try AuditConfig.parse(config("    source: checkpoints\n"), file: "t.yaml")
        #expect(!own.trajectory.distills)
        #expect(!(try AuditConfig.parse(goodConfig, file: "t.yaml")).trajectory.distills)
    }

    @Test(arguments: [
        ("    source: distilation\n    epochs: 3\n", "audit.trajectory.source", "did you mean `distillation`"),
        ("    epochs: 3\n", "audit.trajectory", "missing required key `source`"),
        ("    source: distillation\n", "audit.trajectory", "missing required key `epochs`"),
        ("    source: distillation\n    epochs: 0\n", "audit.trajectory.epochs", "between 1 and 10000, not 0"),
        ("    source: distillation\n    epochs: 2\n    temperature: -1\n", "audit.trajectory.temperature", "positive"),
        ("    source: checkpoints\n    epochs: 2\n", "audit.trajectory.epochs", "belongs to `source: distillation`"),
        (
            "    source: distillation\n    epochs: 2\n    tempreature: 2\n", "audit.trajectory.tempreature",
            "unknown key"
        ),
    ])
    func badValuesAreRefusedWithTheirKeyAndLine(_ yaml: String, _ key: String, _ message: String) throws {
        let e = try #require(parseError(config(yaml)))
        #expect(e.key == key, "\(e)")
        #expect(e.line != nil && e.file == "test.yaml")
        #expect("\(e)".contains(message), "\(e)")
    }

    @Test func distillationNeedsPopulationRecords() throws {
        let text = config("    source: distillation\n    epochs: 2\n").replacingOccurrences(
            of: "population_records: 10", with: "population_records: 0")
        let e = try #require(parseError(text))
        #expect("\(e)".contains("dataset.population_records"), "\(e)")
    }

    func planError(_ text: String) throws -> String {
        do {
            _ = try AuditPlan.make(
                try AuditConfig.parse(text, file: "t.yaml"), registry: TrajectoryABITests.registry,
                logger: Logger(label: "t"))
            return ""
        } catch {
            return "\(error)"
        }
    }

    /// The trajectory attack needs no `audit.checkpoints` with distillation; distillation without
    /// an attack that reads trajectories is refused.
    @Test func thePlanChecksWhatDistillationNeeds() throws {
        let distilled = try planError(config("    source: distillation\n    epochs: 2\n"))
        #expect(!distilled.contains("needs checkpoint logits"), "\(distilled)")
        #expect(!distilled.contains("audit.trajectory"), "\(distilled)")
        let idle = try planError(config("    source: distillation\n    epochs: 2\n", attack: false))
        #expect(idle.contains("audit.trajectory") && idle.contains("no attack reads trajectories"), "\(idle)")
    }

    /// Everything that determines a student changes its key; the same inputs give the same key.
    @Test func theStudentKeyCoversEverythingThatDeterminesTheStudent() throws {
        let native = try #require(TrajectoryABITests.registry.component(.model, named: "native"))
        let backend = ResolvedComponent(info: native, options: ["epochs": .int(3)], givenOptions: [:])
        let provenance = Provenance(store: nil)
        func key(
            teacher: String = "t", backend b: ResolvedComponent? = nil, records: [Float] = [1, 2],
            labels: [Int32] = [0], soft: [Float] = [0.5, 0.5], temperature: Double = 1, epochs: Int = 3,
            seed: UInt64 = 9
        ) -> String {
            provenance.studentKey(
                teacher: teacher, backend: b ?? backend, records: records, labels: labels, softTargets: soft,
                temperature: temperature, epochs: epochs, seed: seed)
        }
        var otherOptions = backend
        otherOptions.options["learning_rate"] = .double(0.1)
        let variants = [
            key(teacher: "u"), key(backend: otherOptions), key(records: [1, 3]), key(labels: [1]),
            key(soft: [0.4, 0.6]), key(temperature: 2), key(epochs: 4), key(seed: 10),
        ]
        #expect(key() == key())
        #expect(Set(variants + [key()]).count == variants.count + 1)
    }
}
