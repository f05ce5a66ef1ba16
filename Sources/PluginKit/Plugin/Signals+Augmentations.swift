import PluginABI

/// Query augmentations (ABI 1.3): the host asked every model about transformed copies of each
/// record (horizontal flip, pixel shifts; `audit.augmentations`) and lends them augmentation-major
/// beside the ordinary arrays. Augmentation 0 is the record itself.
///
/// An attack that uses them walks `augmentation(a)` for a in `0..<augmentationCount`: each is an
/// ordinary `Signals` (A = 1) whose logits are that augmentation's slice, lent in place (no
/// copy), so every loop written for un-augmented signals runs on it unchanged. An attack that
/// ignores them sees augmentation 0, the un-augmented signals.
extension Signals {
    /// Augmentation `a` (0 ..< `augmentationCount`) as ordinary signals: the logits arrays are
    /// that augmentation's slices of the `augmented…` arrays; everything else is shared.
    /// `augmentation(0)` equals the signals themselves, bit for bit.
    public func augmentation(_ a: Int) -> Signals {
        precondition(a >= 0 && a < augmentationCount, "augmentation \(a) outside 0..<\(augmentationCount)")
        guard augmentationCount > 1, a > 0 else {
            var s = self
            s.dropAugmentations()
            return s
        }
        func slice(_ array: UnsafeBufferPointer<Float>?, _ size: Int) -> UnsafeBufferPointer<Float>? {
            guard let array, size > 0 else { return nil }
            return UnsafeBufferPointer(rebasing: array[(a * size)..<((a + 1) * size)])
        }
        let n = recordCount, c = classCount, r = referenceCount, p = populationCount
        var s = self
        s.targetLogits = slice(augmentedTargetLogits, n * c) ?? targetLogits
        if referenceLogits != nil { s.referenceLogits = slice(augmentedReferenceLogits, r * n * c) }
        if populationTargetLogits != nil { s.populationTargetLogits = slice(augmentedPopulationTargetLogits, p * c) }
        if populationReferenceLogits != nil {
            s.populationReferenceLogits = slice(augmentedPopulationReferenceLogits, r * p * c)
        }
        s.dropAugmentations()
        return s
    }

    /// The host's augmented arrays from a `mia_signals_t` (ABI 1.3 fields, read only when its
    /// `struct_size` covers them). Any array missing or an A below 2 leaves the signals at A = 1.
    mutating func readAugmentations(_ c: mia_signals_t) {
        guard abiCovers(c.struct_size, \mia_signals_t.augmented_population_reference_logits), c.augmentation_count > 1
        else { return }
        let a = Int(c.augmentation_count), n = recordCount, k = classCount, r = referenceCount, p = populationCount
        guard let target = c.augmented_target_logits else { return }
        func view(_ pointer: UnsafePointer<Float>?, _ count: Int) -> UnsafeBufferPointer<Float>? {
            pointer.map { UnsafeBufferPointer(start: $0, count: count) }
        }
        // An array the host lends un-augmented must come augmented too, or A stays 1.
        if referenceLogits != nil && c.augmented_reference_logits == nil { return }
        if populationTargetLogits != nil && c.augmented_population_target_logits == nil { return }
        if populationReferenceLogits != nil && c.augmented_population_reference_logits == nil { return }
        augmentationCount = a
        augmentedTargetLogits = UnsafeBufferPointer(start: target, count: a * n * k)
        augmentedReferenceLogits = referenceLogits == nil ? nil : view(c.augmented_reference_logits, a * r * n * k)
        augmentedPopulationTargetLogits =
            populationTargetLogits == nil ? nil : view(c.augmented_population_target_logits, a * p * k)
        augmentedPopulationReferenceLogits =
            populationReferenceLogits == nil ? nil : view(c.augmented_population_reference_logits, a * r * p * k)
    }

    private mutating func dropAugmentations() {
        augmentationCount = 1
        augmentedTargetLogits = nil
        augmentedReferenceLogits = nil
        augmentedPopulationTargetLogits = nil
        augmentedPopulationReferenceLogits = nil
    }
}
