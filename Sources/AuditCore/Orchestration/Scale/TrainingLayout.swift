/// How one process trains the models it lacks: how many side by side, and how many BLAS
/// threads each gets (the host owns BLAS threading; backends must not change it).
///
/// `run.parallel_models: N` trains N models at once (never more than are missing) on
/// `threads / N` BLAS threads each (at least 1); 1 trains one model at a time on all
/// `run.threads`. `auto` (the default) trains `run.threads` models side by side, one BLAS thread
/// each: on the 2-core machine of benchmarks/parallel/README.md that beat one model on both
/// cores for every model measured (LeNet-5 and two MLPs; figures there). When the queue runs
/// dry, the models still training take the idle threads (`ModelsStage.handOverThreads`).
public struct TrainingLayout: Equatable, Sendable, CustomStringConvertible {
    /// Models trained at once.
    public var sideBySide: Int
    /// BLAS threads of each of them.
    public var blasThreads: Int

    init(sideBySide: Int, blasThreads: Int) {
        self.sideBySide = sideBySide
        self.blasThreads = blasThreads
    }

    /// The layout for `missing` models on `threads` BLAS threads; `parallelModels` nil is `auto`.
    init(missing: Int, threads: Int, parallelModels: Int?) {
        let wanted = parallelModels ?? Self.automatic(threads: threads)
        let side = max(1, min(wanted, missing))
        self.init(sideBySide: side, blasThreads: max(1, threads / side))
    }

    /// What `auto` picks: as many models as BLAS threads, one thread each (see the type's comment).
    static func automatic(threads: Int) -> Int { max(1, threads) }

    public var description: String {
        sideBySide == 1
            ? "one model at a time on \(blasThreads) BLAS thread\(blasThreads == 1 ? "" : "s")"
            : "\(sideBySide) models side by side, \(blasThreads) BLAS thread\(blasThreads == 1 ? "" : "s") each"
    }
}
