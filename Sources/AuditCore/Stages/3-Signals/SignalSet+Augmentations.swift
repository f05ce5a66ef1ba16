import Foundation
import PluginABI
import PluginKit

/// The augmentation axis of a `SignalSet` (`audit.augmentations`, `SignalsStage+Augmentations`):
/// every logits array again, for every query view, augmentation-major; view 0 is the record
/// itself, so slice 0 of each equals the un-augmented array it extends.
struct AugmentedSignals {
    var augmentations: QueryAugmentations
    /// [A, N, C] and [A, P, C].
    var targetLogits: [Float]
    var populationTargetLogits: [Float]
    /// [A, R, N, C] and [A, R, P, C], mapped from `signals/augmented_*.npy`.
    var referenceLogits: SignalArray
    var populationReferenceLogits: SignalArray

    var count: Int { augmentations.count }

    /// Sets the ABI 1.3 fields of `s` from the buffers lent at `first ..< first + 4` (target,
    /// reference, population target, population reference), each only where `s` lends the
    /// un-augmented array it extends.
    func lend(_ b: LentBuffers, from first: Int, referenceCount: Int, populationCount: Int, into s: inout mia_signals_t)
    {
        s.augmentation_count = Int32(count)
        s.augmented_target_logits = b.typed(first, as: Float.self).baseAddress
        if s.reference_logits != nil { s.augmented_reference_logits = b.typed(first + 1, as: Float.self).baseAddress }
        if s.population_target_logits != nil {
            s.augmented_population_target_logits = b.typed(first + 2, as: Float.self).baseAddress
        }
        if s.population_reference_logits != nil {
            s.augmented_population_reference_logits = b.typed(first + 3, as: Float.self).baseAddress
        }
    }
}

extension SignalSet {
    /// The key of signals `key` with the query views of `augmentations` added: any other list of
    /// views is other signals, whose scores are never reused for these. Signals without
    /// augmentations keep their key (and their stored scores).
    static func augmentedKey(_ key: String, _ augmentations: QueryAugmentations) -> String {
        guard !augmentations.isEmpty else { return key }
        var h = SHA256()
        h.update("signals-augmented-v1 \(key) views=\(augmentations.count) [\(augmentations)]\n")
        return h.hexDigest()
    }
}
