import Foundation
import Testing

@testable import AuditCore

/// Issue 9: `mia-audit plan` expects a time from a measured epoch even when the store is empty,
/// and `run.parallel_models` sets how many models train side by side.
@Suite(.serialized) struct PlanTrialTests {
    /// Hand-computed: first epochs 1.5 s and 1.7 s from the start (1.0 s and 1.2 s by the
    /// backend's clock), 10 epochs: 1.6 + 9 × 1.1 = 11.5 s per model; 5 models 2 at a time are
    /// 3 rounds: 34.5 s.
    @Test func estimateArithmetic() {
        let layout = TrainingLayout(sideBySide: 2, blasThreads: 1)
        func model(_ wall: Double, _ epoch: Double, finished: Double? = nil) -> TrialMeasurement.Model {
            .init(
                role: "r", memberCount: 10, epochSeconds: epoch, firstEpochWallSeconds: wall, finishedSeconds: finished)
        }
        var t = TrialMeasurement(
            models: [model(1.5, 1.0), model(1.7, 1.2)], layout: layout, epochs: 10, datasetSeconds: 0.1)
        #expect(abs(t.secondsPerModel! - 11.5) < 1e-12)
        #expect(abs(TrialMeasurement.expectedSeconds(perModel: 11.5, count: 5, layout: layout) - 34.5) < 1e-12)
        #expect(TrialMeasurement.rounds(count: 4, layout: layout) == 2)
        #expect(TrialMeasurement.rounds(count: 1, layout: TrainingLayout(sideBySide: 1, blasThreads: 2)) == 1)
        t.epochs = nil
        #expect(t.secondsPerModel == nil)
        // A trial model that finished is its own measure.
        t.models = [model(0.5, 0.4, finished: 0.9), model(0.6, 0.5, finished: 1.1)]
        #expect(abs(t.secondsPerModel! - 1.0) < 1e-12)
    }

    static func number(_ pattern: String, in text: String) -> Double? {
        guard let r = text.range(of: pattern, options: .regularExpression) else { return nil }
        let match = String(text[r])
        guard let n = match.range(of: "[0-9]+(\\.[0-9]+)?", options: .regularExpression) else { return nil }
        return Double(match[n])
    }

    /// On an empty store, `plan` trains the first missing models side by side until their first
    /// epoch, stores nothing, and expects a time close to what `train` then takes.
    @Test(.timeLimit(.minutes(3))) func trialEstimatesAnEmptyStore() throws {
        let binary = try ReleaseBinary.path()
        let dir = try ReleaseBinary.scratch("trial")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = ReleaseBinary.config(
            output: dir + "/run", auditRecords: 4000, populationRecords: 200, hidden: 256, epochs: 8, references: 3,
            threads: 2)
        try config.write(toFile: dir + "/a.yaml", atomically: true, encoding: .utf8)
        let store = dir + "/run/models"

        let skipped = try Command.run(binary, ["plan", dir + "/a.yaml", "--no-trial"], cwd: dir)
        #expect(skipped.status == 0, "\(skipped.stderr)")
        #expect(skipped.stdout.contains("expected time: unknown"), "\(skipped.stdout)")
        #expect(!skipped.stdout.contains("trial:"))

        let plan = try Command.run(binary, ["plan", dir + "/a.yaml"], cwd: dir)
        #expect(plan.status == 0, "\(plan.stderr)")
        let out = plan.stdout
        #expect(out.contains("training here: 2 models side by side, 1 BLAS thread each"), "\(out)")
        #expect(out.contains("trial: trained target, reference 1 side by side"), "\(out)")
        #expect(out.contains("on 2000 members each until each reported its first epoch"), "\(out)")
        // The native backend saves a model stopped between epochs: the trial measures the file.
        let measuredFile = try #require(Self.number("measured: [0-9.]+ MiB saved by a trial model", in: out), "\(out)")
        // 4 models x 4200 records x 10 classes x 4 bytes = 0.64 MiB.
        #expect(out.contains("0.6 MiB of logits (computed: 4 models x 4200 records x 10 classes x 4 bytes)"), "\(out)")
        // Nothing stored, no claim left behind.
        #expect(ReleaseBinary.finishedModels(store: store).isEmpty)
        let leftovers = FileManager.default.enumerator(atPath: store)?.allObjects.compactMap { $0 as? String } ?? []
        #expect(!leftovers.contains { $0.hasSuffix("claim") || $0.hasSuffix("model.bin") }, "\(leftovers)")

        // The printed arithmetic holds: per model = first + 7 x epoch; expected = per model x 2 rounds.
        let first = try #require(Self.number("per model: [0-9.]+ s to the first epoch", in: out), "\(out)")
        let epoch = try #require(Self.number("more epochs x [0-9.]+ s", in: out), "\(out)")
        let perModel = try #require(Self.number("= [0-9.]+ s \\(every epoch", in: out), "\(out)")
        #expect(out.contains("+ 7 more epochs"), "\(out)")
        #expect(abs(perModel - (first + 7 * epoch)) < 0.02, "\(out)")
        #expect(
            out.contains(
                String(format: "of training here: %.2f s per model x 2 rounds of 2 side by side for 4 models", perModel)
            ), "\(out)")

        // Against the real thing: the same models trained by `train`, as the run trains them.
        let train = try Command.run(binary, ["train", dir + "/a.yaml", "-v"], cwd: dir)
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stderr.contains("training 2 models side by side, 1 BLAS thread each"), "\(train.stderr)")
        let records = ReleaseBinary.finishedModels(store: store).compactMap { key -> Double? in
            guard let data = FileManager.default.contents(atPath: "\(store)/\(key)/meta.json") else { return nil }
            return (try? ModelStore.decoder().decode(ModelRecord.self, from: data))?.trainSeconds
        }
        #expect(records.count == 4)
        // The trial's file is the size of the files the real trainings stored.
        for key in ReleaseBinary.finishedModels(store: store) {
            let size = try FileManager.default.attributesOfItem(atPath: "\(store)/\(key)/model.bin")[.size] as! Int
            #expect(
                abs(Double(size) / 1_048_576 - measuredFile) < 0.051,
                "trial said \(measuredFile) MiB, stored \(size) bytes")
        }
        let actual = records.reduce(0, +) / Double(max(1, records.count))
        // Loose: the machine is shared; forgetting the epochs (8x) or the set-up would show.
        #expect(
            actual / perModel > 0.4 && actual / perModel < 2.5,
            "expected \(perModel) s per model, trained in \(actual) s")
        print("trial: expected \(perModel) s per model, trained in \(actual) s")

        // With models in the store, plan measures on them instead.
        let again = try Command.run(binary, ["plan", dir + "/a.yaml"], cwd: dir)
        #expect(again.stdout.contains("in the store:        4") && !again.stdout.contains("trial:"), "\(again.stdout)")
    }

    /// `run.parallel_models: 1` trains (and tries) one model at a time on every thread.
    @Test(.timeLimit(.minutes(2))) func oneAtATimeUsesEveryThread() throws {
        let binary = try ReleaseBinary.path()
        let dir = try ReleaseBinary.scratch("one-at-a-time")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = ReleaseBinary.config(output: dir + "/run", epochs: 3, references: 2, threads: 2)
            .replacingOccurrences(of: "  threads: 2\n", with: "  threads: 2\n  parallel_models: 1\n")
        try config.write(toFile: dir + "/a.yaml", atomically: true, encoding: .utf8)
        let plan = try Command.run(binary, ["plan", dir + "/a.yaml"], cwd: dir)
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(
            plan.stdout.contains(
                "training here: one model at a time on 2 BLAS threads (run.threads: 2, run.parallel_models: 1)"),
            "\(plan.stdout)")
        #expect(
            plan.stdout.contains("trial: trained target (2 BLAS threads) on 100 members until it reported"),
            "\(plan.stdout)")
        #expect(plan.stdout.contains("x 3 models one at a time"), "\(plan.stdout)")
        let train = try Command.run(binary, ["train", dir + "/a.yaml", "-v"], cwd: dir)
        #expect(
            train.status == 0 && train.stderr.contains("training one model at a time on 2 BLAS threads"),
            "\(train.stderr)")
    }
}
