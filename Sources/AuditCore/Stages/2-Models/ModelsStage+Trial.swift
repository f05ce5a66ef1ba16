import Foundation
import Kernels
import PluginKit

/// What `mia-audit plan` measured by training the first missing models until each reported its
/// first epoch: the cost of a model when the store holds none to measure.
public struct TrialMeasurement: Sendable {
    /// One trial model: which, and what its training cost up to its first epoch.
    public struct Model: Sendable {
        public var role: String
        public var memberCount: Int
        /// The first epoch's seconds by the backend's own clock (`EpochRecord.seconds`).
        public var epochSeconds: Double
        /// Seconds from the start of the training call to the first epoch's report: the epoch plus
        /// what the backend does once per model before it (initialisation, buffers).
        public var firstEpochWallSeconds: Double
        /// When the backend finished the whole training before it saw the cancellation (a
        /// one-epoch model, a backend that reports no epoch): the whole training's seconds.
        public var finishedSeconds: Double?
        /// The saved model's size, when the trial finished the model and the backend saved it.
        public var fileBytes: Int?
    }

    public var models: [Model]
    /// How they were trained: the layout `trainMissing` uses for the models still to train.
    public var layout: TrainingLayout
    /// The backend's `epochs` option, when it has one.
    public var epochs: Int?
    public var datasetSeconds: Double

    /// The expected training seconds of one model: the first epoch with its set-up, then
    /// `epochs - 1` more epochs at the first epoch's cost (averaged over the trial models, which
    /// ran side by side as the run will). A finished trial model's own time when there is one.
    /// Nil when the backend has no `epochs` option and no trial model finished.
    public var secondsPerModel: Double? {
        let finished = models.compactMap(\.finishedSeconds)
        if !finished.isEmpty { return finished.reduce(0, +) / Double(finished.count) }
        guard let epochs, epochs >= 1, !models.isEmpty else { return nil }
        let first = models.map(\.firstEpochWallSeconds).reduce(0, +) / Double(models.count)
        return first + Double(epochs - 1) * meanEpochSeconds
    }

    public var meanEpochSeconds: Double {
        models.isEmpty ? .nan : models.map(\.epochSeconds).reduce(0, +) / Double(models.count)
    }

    /// The expected wall seconds of training `count` models `layout.sideBySide` at a time:
    /// seconds per model × ⌈count / side by side⌉ rounds (an upper bound when the last round is
    /// not full: its models take the idle threads, by a factor the trial does not measure).
    public static func expectedSeconds(perModel: Double, count: Int, layout: TrainingLayout) -> Double {
        perModel * Double(rounds(count: count, layout: layout))
    }

    public static func rounds(count: Int, layout: TrainingLayout) -> Int {
        (count + layout.sideBySide - 1) / max(1, layout.sideBySide)
    }
}

extension ModelsStage {
    /// The layout in which this process would train `count` missing models.
    public func trainingLayout(missing count: Int) -> TrainingLayout {
        TrainingLayout(missing: count, threads: config.threads, parallelModels: config.parallelModels)
    }

    /// The bytes of one model's logits file: (audit + population records) × classes × 4, plus
    /// the `.npy` header (under 256 bytes, not counted).
    public var logitsBytesPerModel: Int {
        (config.auditRecords + config.populationRecords) * plan.datasetInfo.classCount * 4
    }

    /// Measures what a model of this audit costs before any is in the store: loads the dataset,
    /// then trains the first missing models on their real members, as many side by side (with
    /// the same BLAS threads each) as a run would train at once, until each has reported its first
    /// epoch through `on_epoch`; then cancels them through the host's cancellation flag (each
    /// backend throws `cancelled`). Nothing is written to the store: a backend may not save a
    /// model whose training was cancelled, so the model file's size waits for the first stored
    /// model. A trial model that finished before it saw the cancellation is saved to a temporary
    /// file only to measure its size.
    ///
    /// Leaves the runner's cancellation flag set: call it last. Returns nil when no model is
    /// missing. Throws the backend's error, or `cancelled` when the user interrupted the trial.
    public func measureTrial(_ status: StoreStatus) throws -> TrialMeasurement? {
        guard !status.missing.isEmpty else { return nil }
        let datasetStart = Date()
        let population = try DatasetStage(context).run()
        let datasetSeconds = Date().timeIntervalSince(datasetStart)
        let spec = ModelSpec(featureShape: population.info.featureShape, classCount: population.info.classCount)
        let layout = trainingLayout(missing: status.missing.count)
        let jobs = Array(status.missing.prefix(layout.sideBySide))
        BLAS.setThreadCount(layout.blasThreads)
        defer { BLAS.setThreadCount(config.threads) }

        final class State: @unchecked Sendable {
            let lock = NSLock()
            var reported = 0
            var stopped = false
            var models: [TrialMeasurement.Model?]
            var errors: [Error] = []
            init(_ count: Int) { models = Array(repeating: nil, count: count) }
        }
        let state = State(jobs.count)
        let cancellation = self.cancellation
        /// Counts a model as measured; the last one stops them all.
        func reported() {
            state.reported += 1
            if state.reported == jobs.count {
                state.stopped = true
                cancellation.cancel()
            }
        }
        logger.info("trial: training \(jobs.map(\.role).joined(separator: ", ")) until their first epoch (\(layout))")
        Parallel.perform(jobs.count) { i in  // shares `state` under its lock
            let job = jobs[i]
            let start = Date()
            var trained: DynamicModel?
            do {
                let (f, l, hf, hl) = trainingData(job, population, spec)
                let model = try DynamicModel(
                    plan.model.info, optionsJSON: plan.model.optionsJSON, spec: spec, bridge: bridge(job.role))
                trained = model
                let (af, al) = publicRecords(population)
                _ = try model.train(
                    features: f, labels: l, heldoutFeatures: hf, heldoutLabels: hl, auxiliaryFeatures: af,
                    auxiliaryLabels: al,
                    seed: job.seed,
                    onEpoch: { epoch in
                        state.lock.withLock {
                            guard state.models[i] == nil else { return }
                            state.models[i] = TrialMeasurement.Model(
                                role: job.role, memberCount: job.members.count, epochSeconds: epoch.seconds,
                                firstEpochWallSeconds: Date().timeIntervalSince(start))
                            reported()
                        }
                    })
                let seconds = Date().timeIntervalSince(start)
                let bytes = try? savedSize(model)
                state.lock.withLock {
                    if state.models[i] == nil {
                        state.models[i] = TrialMeasurement.Model(
                            role: job.role, memberCount: job.members.count, epochSeconds: seconds,
                            firstEpochWallSeconds: seconds)
                        reported()
                    }
                    state.models[i]!.finishedSeconds = seconds
                    state.models[i]!.fileBytes = bytes
                }
            } catch let e as PluginError where e.status == .cancelled && state.lock.withLock({ state.stopped }) {
                // Stopped after the first epoch, as asked. A backend that can save a model stopped
                // between epochs (the native one can, once an epoch is done) gives its file's size;
                // one that cannot is simply not measured.
                let bytes = trained.flatMap { try? savedSize($0) }
                state.lock.withLock { if state.models[i] != nil, let bytes { state.models[i]!.fileBytes = bytes } }
            } catch {
                state.lock.withLock {
                    state.errors.append(error)
                    state.stopped = true  // stop the others: one failure is enough to report
                    cancellation.cancel()
                }
            }
        }
        if let first = state.errors.first { throw first }
        let models = state.models.compactMap { $0 }
        guard models.count == jobs.count else {
            throw PluginError(.cancelled, "the trial was interrupted before every model reported its first epoch")
        }
        return TrialMeasurement(
            models: models, layout: layout, epochs: try? PluginOptions(plan.model.options).int("epochs"),
            datasetSeconds: datasetSeconds)
    }

    /// The size of the file `model.save` writes, through a temporary file removed afterwards.
    private func savedSize(_ model: DynamicModel) throws -> Int {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "mia-trial-\(getpid())-\(UUID().uuidString)"
        ).path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try model.save(to: path)
        return (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    }
}
