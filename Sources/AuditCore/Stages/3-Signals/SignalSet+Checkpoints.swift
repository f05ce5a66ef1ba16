import Foundation
import PluginABI
import PluginKit

/// Every model's logits on the audit records at the checkpoint epochs (`audit.checkpoints`), lent
/// all at once (ABI 1.4) to attacks that ask with `MIA_NEEDS_CHECKPOINTS` (the loss trajectory),
/// beside the final models' signals. Gathered by `AttacksStage+Trajectories` from the store's
/// `logits-<N>-<P>-epoch<E>.npy`; held in memory ([E, R, N, C] f32).
struct CheckpointSignals {
    /// The epochs every model reached, ascending.
    var epochs: [Int32]
    /// [E, N, C]: the target at each epoch.
    var targetLogits: [Float]
    /// [E, R, N, C]: every reference model at each epoch (empty without reference models).
    var referenceLogits: [Float]
    /// Where the logits came from when not the models' own checkpoints (distillation students:
    /// their keys), hashed into the scores' key; empty for the models' own.
    var origin = ""

    /// Sets the ABI 1.4 fields of `s` from the buffers lent at `first ..< first + 3` (epochs,
    /// target, references); the references only where `s` lends the final ones.
    func lend(_ b: LentBuffers, from first: Int, into s: inout mia_signals_t) {
        guard !epochs.isEmpty else { return }
        s.checkpoint_count = Int32(epochs.count)
        s.checkpoint_epochs = b.typed(first, as: Int32.self).baseAddress
        s.checkpoint_target_logits = b.typed(first + 1, as: Float.self).baseAddress
        if s.reference_logits != nil && !referenceLogits.isEmpty {
            s.checkpoint_reference_logits = b.typed(first + 2, as: Float.self).baseAddress
        }
    }

    /// The key of the scores of an attack reading these checkpoints of signals `key`: another
    /// list of epochs gives other scores, never reused for these.
    func key(of key: String) -> String {
        var h = SHA256()
        h.update("signals-checkpoints-v1 \(key) epochs=\(epochs.map(String.init).joined(separator: ","))\n")
        if !origin.isEmpty { h.update("origin \(origin)\n") }
        return h.hexDigest()
    }
}
