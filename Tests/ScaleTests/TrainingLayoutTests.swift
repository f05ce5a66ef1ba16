import Foundation
import Testing

@testable import AuditCore

/// Issue 9: `run.parallel_models` sets how many models one process trains side by side, and the
/// BLAS threads each gets.
@Suite struct TrainingLayoutTests {
    @Test func layoutFollowsParallelModels() {
        // auto: as many models as threads, one BLAS thread each; never more models than missing.
        #expect(
            TrainingLayout(missing: 4, threads: 2, parallelModels: nil) == TrainingLayout(sideBySide: 2, blasThreads: 1)
        )
        #expect(
            TrainingLayout(missing: 1, threads: 2, parallelModels: nil) == TrainingLayout(sideBySide: 1, blasThreads: 2)
        )
        #expect(
            TrainingLayout(missing: 3, threads: 8, parallelModels: nil) == TrainingLayout(sideBySide: 3, blasThreads: 2)
        )
        // 1: one model at a time on every thread.
        #expect(
            TrainingLayout(missing: 9, threads: 2, parallelModels: 1) == TrainingLayout(sideBySide: 1, blasThreads: 2))
        // N: the threads shared out, at least one each.
        #expect(
            TrainingLayout(missing: 5, threads: 8, parallelModels: 2) == TrainingLayout(sideBySide: 2, blasThreads: 4))
        #expect(
            TrainingLayout(missing: 9, threads: 2, parallelModels: 4) == TrainingLayout(sideBySide: 4, blasThreads: 1))
        #expect(TrainingLayout(missing: 0, threads: 2, parallelModels: nil).sideBySide == 1)
    }

    @Test func parallelModelsIsAutoOrAPositiveInteger() throws {
        func config(_ value: String?) throws -> AuditConfig {
            let line = value.map { "\n  parallel_models: \($0)" } ?? ""
            return try AuditConfig.parse(
                """
                run:
                  threads: 2\(line)
                dataset: {plugin: idx, audit_records: 10}
                model: {plugin: native}
                audit:
                  attacks: [{plugin: loss-threshold}]
                """, file: "/c/p.yaml")
        }
        #expect(try config(nil).parallelModels == nil)
        #expect(try config("auto").parallelModels == nil)
        #expect(try config("3").parallelModels == 3)
        for bad in ["0", "fast", "[2]", "1.5"] {
            do {
                _ = try config(bad)
                Issue.record("parallel_models: \(bad) parsed")
            } catch let e as ConfigError {
                #expect(e.key == "run.parallel_models" && e.line == 3, "\(e)")
                #expect(e.message.contains("`auto` or an integer of at least 1"), "\(e)")
            }
        }
    }
}
