import PluginKit

/// Owning arrays of signals for the attack tests, built on `Signals` (the one Swift signals
/// type): `withSignals` lends the arrays as a `Signals`, `score(with:)` runs an attack on them.
/// Test-only; the host lends its own `SignalSet` as `mia_signals_t`.
final class TestSignals {
    var recordCount: Int
    var classCount: Int
    var referenceCount: Int
    var populationCount: Int
    var labels: [Int32]
    var targetLogits: [Float]
    var referenceLogits: [Float]
    var referenceMembership: [UInt8]
    var populationLabels: [Int32]
    var populationTargetLogits: [Float]
    var populationReferenceLogits: [Float]
    var targetMembership: [UInt8]
    var features: [Float]
    var populationFeatures: [Float]
    var featureShape: [Int]
    /// Lent as `Signals.releasedProbabilities`.
    var releasedProbabilities = false
    /// Query augmentations, lent as `Signals.augmentationCount` and `Signals.augmented…Logits`
    /// (augmentation-major, slice 0 equal to the arrays above); 1 and empty for none.
    var augmentationCount = 1
    var augmentedTargetLogits: [Float] = []
    var augmentedReferenceLogits: [Float] = []
    var augmentedPopulationTargetLogits: [Float] = []
    var augmentedPopulationReferenceLogits: [Float] = []
    /// Checkpoints, lent as `Signals.checkpointEpochs` and `Signals.checkpoint…Logits`
    /// ([E, N, C], [E, R, N, C]); empty for none.
    var checkpointEpochs: [Int] = []
    var checkpointTargetLogits: [Float] = []
    var checkpointReferenceLogits: [Float] = []

    init(
        classCount: Int, labels: [Int32], targetLogits: [Float], referenceCount: Int = 0,
        referenceLogits: [Float] = [], referenceMembership: [UInt8] = [], populationLabels: [Int32] = [],
        populationTargetLogits: [Float] = [], populationReferenceLogits: [Float] = [],
        targetMembership: [UInt8] = [], features: [Float] = [], populationFeatures: [Float] = [],
        featureShape: [Int] = []
    ) {
        precondition(targetLogits.count == labels.count * classCount, "target logits must be [N, C]")
        precondition(
            referenceLogits.count == referenceCount * labels.count * classCount, "reference logits must be [R, N, C]")
        self.recordCount = labels.count
        self.classCount = classCount
        self.referenceCount = referenceCount
        self.populationCount = populationLabels.count
        self.labels = labels
        self.targetLogits = targetLogits
        self.referenceLogits = referenceLogits
        self.referenceMembership = referenceMembership
        self.populationLabels = populationLabels
        self.populationTargetLogits = populationTargetLogits
        self.populationReferenceLogits = populationReferenceLogits
        self.targetMembership = targetMembership
        self.features = features
        self.populationFeatures = populationFeatures
        self.featureShape = featureShape
    }

    /// Lends the arrays as a `Signals` for the duration of `body`. Empty arrays become nil.
    func withSignals<T>(seed: UInt64 = 0, query: (any TargetQueries)? = nil, _ body: (Signals) throws -> T) rethrows
        -> T
    {
        let arrays: [any LendableBuffer] = [
            labels, targetLogits, referenceLogits, referenceMembership, populationLabels, populationTargetLogits,
            populationReferenceLogits, targetMembership, features, populationFeatures, augmentedTargetLogits,
            augmentedReferenceLogits, augmentedPopulationTargetLogits, augmentedPopulationReferenceLogits,
            checkpointTargetLogits, checkpointReferenceLogits,
        ]
        return try withLentBuffers(arrays) { b in
            var s = Signals(
                recordCount: recordCount, classCount: classCount, referenceCount: referenceCount,
                populationCount: populationCount,
                labels: b.typed(0, as: Int32.self), targetLogits: b.typed(1, as: Float.self),
                referenceLogits: b.typedOrNil(2, as: Float.self), referenceMembership: b.typedOrNil(3, as: UInt8.self),
                populationLabels: b.typedOrNil(4, as: Int32.self),
                populationTargetLogits: b.typedOrNil(5, as: Float.self),
                populationReferenceLogits: b.typedOrNil(6, as: Float.self),
                targetMembership: b.typedOrNil(7, as: UInt8.self),
                features: b.typedOrNil(8, as: Float.self), populationFeatures: b.typedOrNil(9, as: Float.self),
                featureShape: featureShape, seed: seed, query: query, releasedProbabilities: releasedProbabilities)
            if augmentationCount > 1 {
                s.augmentationCount = augmentationCount
                s.augmentedTargetLogits = b.typedOrNil(10, as: Float.self)
                s.augmentedReferenceLogits = b.typedOrNil(11, as: Float.self)
                s.augmentedPopulationTargetLogits = b.typedOrNil(12, as: Float.self)
                s.augmentedPopulationReferenceLogits = b.typedOrNil(13, as: Float.self)
            }
            if !checkpointEpochs.isEmpty {
                s.checkpointEpochs = checkpointEpochs
                s.checkpointTargetLogits = b.typedOrNil(14, as: Float.self)
                s.checkpointReferenceLogits = b.typedOrNil(15, as: Float.self)
            }
            return try body(s)
        }
    }

    /// Scores every record with `attack`; returns the scores and the evaluation mask.
    func score(with attack: any AttackStrategy, seed: UInt64 = 0, query: (any TargetQueries)? = nil) throws -> (
        scores: [Double], mask: [UInt8]
    ) {
        var scores = [Double](repeating: 0, count: recordCount)
        var mask = [UInt8](repeating: 1, count: recordCount)
        try withSignals(seed: seed, query: query) { s in
            try scores.withUnsafeMutableBufferPointer { sp in
                try mask.withUnsafeMutableBufferPointer { mp in
                    try attack.score(s, into: sp, evaluationMask: mp)
                }
            }
        }
        return (scores, mask)
    }
}
