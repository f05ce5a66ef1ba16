import PluginABI

/// Checkpoint logits (ABI 1.4): for an attack that asked with `.checkpoints`, the host lends
/// the logits of the target and of every reference model at each epoch of `audit.checkpoints`
/// (every model read at the end of the same epochs of its one training), all epochs in one
/// call, beside the final models' arrays.
///
/// `checkpoint(e)` views epoch index e as ordinary signals whose target and reference logits
/// are that epoch's slices, lent in place (no copy); labels, memberships and the population
/// are shared (the population's logits stay the final models').
extension Signals {
    /// E, the number of checkpoint epochs lent (0 without).
    public var checkpointCount: Int { checkpointEpochs.count }

    /// Epoch index `e` (0 ..< `checkpointCount`) as ordinary signals: `targetLogits` [N, C] and
    /// `referenceLogits` [R, N, C] are that epoch's; no checkpoints or augmentations of its own.
    public func checkpoint(_ e: Int) -> Signals {
        precondition(e >= 0 && e < checkpointCount, "checkpoint \(e) outside 0..<\(checkpointCount)")
        let n = recordCount, c = classCount, r = referenceCount
        var s = augmentation(0)
        if let target = checkpointTargetLogits {
            s.targetLogits = UnsafeBufferPointer(rebasing: target[(e * n * c)..<((e + 1) * n * c)])
        }
        if let references = checkpointReferenceLogits, r > 0 {
            s.referenceLogits = UnsafeBufferPointer(rebasing: references[(e * r * n * c)..<((e + 1) * r * n * c)])
        }
        s.referenceMapped = false
        s.checkpointEpochs = []
        s.checkpointTargetLogits = nil
        s.checkpointReferenceLogits = nil
        return s
    }

    /// The host's checkpoint arrays from a `mia_signals_t` (ABI 1.4 fields, read only when its
    /// `struct_size` covers them). A count below 1 or a missing target array leaves none.
    mutating func readCheckpoints(_ c: mia_signals_t) {
        guard abiCovers(c.struct_size, \mia_signals_t.checkpoint_reference_logits), c.checkpoint_count > 0,
            let epochs = c.checkpoint_epochs, let target = c.checkpoint_target_logits
        else { return }
        let e = Int(c.checkpoint_count), n = recordCount, k = classCount, r = referenceCount
        if referenceLogits != nil && r > 0 && c.checkpoint_reference_logits == nil { return }
        checkpointEpochs = UnsafeBufferPointer(start: epochs, count: e).map { Int($0) }
        checkpointTargetLogits = UnsafeBufferPointer(start: target, count: e * n * k)
        checkpointReferenceLogits =
            r > 0 ? c.checkpoint_reference_logits.map { UnsafeBufferPointer(start: $0, count: e * r * n * k) } : nil
    }
}
