import PluginABI

/// Soft targets of knowledge distillation (ABI 1.5, `mia_soft_targets_t`): a teacher's
/// probabilities for each training record, which a backend that offers distillation trains a
/// student on instead of the labels (the host's loss-trajectory students,
/// `audit.trajectory.source: distillation`).
///
/// The loss is T²·KL(p ‖ softmax(z / T)) at `temperature` T, whose gradient in the logits z is
/// T·(softmax(z / T) − p) (Hinton, Vinyals and Dean 2015). The host owns the probabilities (valid
/// during `train`); a backend that trained on them calls `markUsed()` on the training thread. A
/// backend that cannot throws `PluginError(.invalidArgument, …)` or leaves it unmarked, and the
/// host refuses the model.
public final class TeacherTargets {
    /// [count, classCount] f32: row i is the teacher's softmax at `temperature` for training record i.
    public let probabilities: UnsafeBufferPointer<Float>
    /// T > 0.
    public let temperature: Double
    /// True once a backend trained on them.
    public private(set) var used = false

    public init(probabilities: UnsafeBufferPointer<Float>, temperature: Double) {
        self.probabilities = probabilities
        self.temperature = temperature
    }

    /// Called by a backend that trains on the probabilities (before or after its epochs).
    public func markUsed() { used = true }

    /// The plugin side of the C struct: the host's request from `c`, nil for a null pointer.
    static func read(_ c: UnsafeMutablePointer<mia_soft_targets_t>) throws -> TeacherTargets {
        let p = try TensorView.buffer(
            c.pointee.probabilities, Float.self, dtype: MIA_DTYPE_F32, what: "soft-target probabilities")
        guard c.pointee.temperature > 0, c.pointee.temperature.isFinite else {
            throw PluginError(.invalidArgument, "soft targets: temperature \(c.pointee.temperature) is not > 0")
        }
        return TeacherTargets(probabilities: UnsafeBufferPointer(p), temperature: c.pointee.temperature)
    }
}
