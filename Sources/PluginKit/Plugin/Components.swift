import PluginABI

/// What every component declares about itself: the strings of its `mia_component_t`.
public protocol PluginComponent: AnyObject {
    /// Unique name in a run (`loss-threshold`): lowercase letters, digits and '-'.
    static var name: String { get }
    /// One line for `mia-audit plugins`.
    static var summary: String { get }
    /// The options it takes; the host checks a config against them before any work.
    static var options: [OptionSpec] { get }
}

/// What a dataset holds.
public struct DatasetInfo: Sendable, Equatable, Codable {
    public var recordCount: Int
    public var classCount: Int
    /// Shape of one record's features (for an image: channels, height, width).
    public var featureShape: [Int]

    public init(recordCount: Int, classCount: Int, featureShape: [Int]) {
        self.recordCount = recordCount
        self.classCount = classCount
        self.featureShape = featureShape
    }

    /// Number of floats in one record.
    public var featureSize: Int { featureShape.reduce(1, *) }
}

/// A dataset loader: yields records (f32 features, i32 labels).
///
/// An implementation must: report a truncated, foreign or missing file as a `PluginError`
/// naming the file; give the same records for the same options every time; never crash on bad
/// input. The conformance suite (Tests/PluginKitTests) checks these for every built-in loader.
public protocol DatasetLoader: PluginComponent {
    init(options: PluginOptions, host: HostServices) throws
    func info() throws -> DatasetInfo
    /// Copies records [start, start + count) into `features` ([count, featureSize]) and `labels`.
    func read(
        start: Int, count: Int, features: UnsafeMutableBufferPointer<Float>,
        labels: UnsafeMutableBufferPointer<Int32>) throws
}

/// What a model is for: the dataset's record shape and class count.
public struct ModelSpec: Sendable, Equatable, Codable {
    public var featureShape: [Int]
    public var classCount: Int

    public init(featureShape: [Int], classCount: Int) {
        self.featureShape = featureShape
        self.classCount = classCount
    }

    public var featureSize: Int { featureShape.reduce(1, *) }
}

/// One epoch of training history. Held-out figures are NaN without a held-out set.
public struct EpochRecord: Sendable, Equatable, Codable {
    public var epoch: Int
    public var trainLoss: Double
    public var trainAccuracy: Double
    public var heldoutLoss: Double
    public var heldoutAccuracy: Double
    public var seconds: Double
    /// The ε a differentially private training has spent so far (nil when it is not DP).
    public var dpEpsilon: Double?

    public init(
        epoch: Int, trainLoss: Double, trainAccuracy: Double, heldoutLoss: Double = .nan,
        heldoutAccuracy: Double = .nan, seconds: Double, dpEpsilon: Double? = nil
    ) {
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.trainAccuracy = trainAccuracy
        self.heldoutLoss = heldoutLoss
        self.heldoutAccuracy = heldoutAccuracy
        self.seconds = seconds
        self.dpEpsilon = dpEpsilon
    }
}

/// The data of one training: views valid only during `train`.
public struct TrainingData {
    /// [count, featureSize] f32.
    public var features: UnsafeBufferPointer<Float>
    public var labels: UnsafeBufferPointer<Int32>
    /// Optional held-out records, for the history.
    public var heldoutFeatures: UnsafeBufferPointer<Float>?
    public var heldoutLabels: UnsafeBufferPointer<Int32>?
    /// Seed of every random choice of this training.
    public var seed: UInt64
    /// Optional public records beside the private set ([m, featureSize] and [m]), disjoint from
    /// it and from every audited record: distillation's transfer set, adversarial
    /// regularization's reference set. Nil when the host gave none.
    public var auxiliaryFeatures: UnsafeBufferPointer<Float>?
    public var auxiliaryLabels: UnsafeBufferPointer<Int32>?
    /// Epochs (1-based, ascending) at whose end the host wants a checkpoint.
    public var checkpointEpochs: [Int]
    /// Hands the host the model as it is at the end of a checkpoint epoch (it may predict and
    /// save through the instance meanwhile). Call it through `reachedEpoch`.
    public var onCheckpoint: ((Int) throws -> Void)?
    /// Dirac gradient canaries the host asks a DP-SGD training to insert and score (ABI 1.4); nil
    /// for none. A backend that cannot insert them throws `PluginError(.invalidArgument, …)`.
    public var gradientCanaries: GradientCanaries?
    /// Soft targets to train a distillation student on instead of the labels (ABI 1.5), one row
    /// per training record; nil for an ordinary training. A backend that trains on them calls
    /// `markUsed()`; one that cannot throws `PluginError(.invalidArgument, …)`.
    public var softTargets: TeacherTargets?

    public init(
        features: UnsafeBufferPointer<Float>, labels: UnsafeBufferPointer<Int32>,
        heldoutFeatures: UnsafeBufferPointer<Float>? = nil, heldoutLabels: UnsafeBufferPointer<Int32>? = nil,
        seed: UInt64, auxiliaryFeatures: UnsafeBufferPointer<Float>? = nil,
        auxiliaryLabels: UnsafeBufferPointer<Int32>? = nil,
        checkpointEpochs: [Int] = [], onCheckpoint: ((Int) throws -> Void)? = nil
    ) {
        self.features = features
        self.labels = labels
        self.heldoutFeatures = heldoutFeatures
        self.heldoutLabels = heldoutLabels
        self.seed = seed
        self.auxiliaryFeatures = auxiliaryFeatures
        self.auxiliaryLabels = auxiliaryLabels
        self.checkpointEpochs = checkpointEpochs
        self.onCheckpoint = onCheckpoint
    }

    public var count: Int { labels.count }
    public var heldoutCount: Int { heldoutLabels?.count ?? 0 }
    public var auxiliaryCount: Int { auxiliaryLabels?.count ?? 0 }

    /// Call at the end of every epoch, once the model holds that epoch's weights: hands them to
    /// the host when `epoch` is a checkpoint epoch. Errors (the host's) stop training.
    public func reachedEpoch(_ epoch: Int) throws {
        if let onCheckpoint, checkpointEpochs.contains(epoch) { try onCheckpoint(epoch) }
    }
}

/// A model backend: trains on records and gives logits.
///
/// An implementation must: be deterministic (same seed, options and data give bit-identical
/// weights on the same machine); allow distinct instances to be used from distinct threads at
/// once (no shared mutable state); leave BLAS threading alone; check `host.isCancelled` at least
/// once per batch or epoch and throw `PluginError(.cancelled, …)`; reject a corrupt, foreign or
/// mismatched file in `load` with an error.
public protocol ModelBackend: PluginComponent {
    init(options: PluginOptions, spec: ModelSpec, host: HostServices) throws
    func train(_ data: TrainingData, onEpoch: (EpochRecord) -> Void) throws
    /// Logits ([count, classCount]) for `features` ([count, featureSize]).
    func predict(features: UnsafeBufferPointer<Float>, count: Int, into logits: UnsafeMutableBufferPointer<Float>)
        throws
    func save(to path: String) throws
    func load(from path: String) throws
}

/// What an attack needs from the host: the Swift face of `mia_needs_t`.
public struct AttackRequirements: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let referenceModels = AttackRequirements(rawValue: MIA_NEEDS_REFERENCE_MODELS)
    public static let referenceIn = AttackRequirements(rawValue: MIA_NEEDS_REFERENCE_IN)
    public static let population = AttackRequirements(rawValue: MIA_NEEDS_POPULATION)
    public static let knownMembership = AttackRequirements(rawValue: MIA_NEEDS_KNOWN_MEMBERSHIP)
    public static let queryAccess = AttackRequirements(rawValue: MIA_NEEDS_QUERY_ACCESS)
    public static let features = AttackRequirements(rawValue: MIA_NEEDS_FEATURES)
    /// ABI 1.4: every model's logits at the checkpoint epochs (`Signals.checkpointEpochs`).
    public static let checkpoints = AttackRequirements(rawValue: MIA_NEEDS_CHECKPOINTS)

    /// Names of the flags, for messages.
    public var names: [String] {
        var n: [String] = []
        if contains(.referenceModels) { n.append("reference models") }
        if contains(.referenceIn) { n.append("reference models trained with each record (online)") }
        if contains(.population) { n.append("a population set") }
        if contains(.knownMembership) { n.append("known membership of part of the audit set") }
        if contains(.queryAccess) { n.append("query access to the target") }
        if contains(.features) { n.append("record features") }
        if contains(.checkpoints) { n.append("checkpoint logits (`audit.checkpoints`)") }
        return n
    }
}

/// An attack strategy: turns signals into one membership score per audit record.
///
/// An implementation must: name its paper and its score direction (higher means member) in
/// its summary or README; be deterministic given `signals.seed`; return finite scores; mark
/// in `evaluationMask` (set to 0) every record whose membership it trained on.
public protocol AttackStrategy: PluginComponent {
    init(options: PluginOptions, host: HostServices) throws
    var requirements: AttackRequirements { get }
    func score(
        _ signals: Signals, into scores: UnsafeMutableBufferPointer<Double>,
        evaluationMask: UnsafeMutableBufferPointer<UInt8>) throws
}
