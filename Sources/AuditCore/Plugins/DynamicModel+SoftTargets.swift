import Foundation
import PluginABI
import PluginKit

/// A distillation student's soft targets (ABI 1.5, `mia_soft_targets_t`): the teacher's
/// probabilities [n, C] on the training records, at `temperature`.
struct SoftTargetRequest {
    var probabilities: [Float]
    var temperature: Double
}

extension DynamicModel {
    /// Runs `body` with a `mia_soft_targets_t` lent for `request` (nil when there is none); then
    /// refuses a backend that did not train on them (`out_used` left 0), naming it.
    func lending<R>(_ request: SoftTargetRequest?, _ body: (UnsafeMutablePointer<mia_soft_targets_t>?) throws -> R)
        throws -> R
    {
        guard let request else { return try body(nil) }
        try Self.checkSoftTargets(component)
        let c = spec.classCount
        let n = request.probabilities.count / max(1, c)
        var s = mia_soft_targets_t()
        s.struct_size = UInt32(MemoryLayout<mia_soft_targets_t>.size)
        s.temperature = request.temperature
        let (result, used) = try request.probabilities.withUnsafeBufferPointer { p in
            var view = TensorView.make(
                UnsafeMutableRawPointer(mutating: p.baseAddress!), dtype: MIA_DTYPE_F32, shape: [n, c])
            return try withUnsafePointer(to: &view) { v in
                s.probabilities = v
                let r = try withUnsafeMutablePointer(to: &s) { try body($0) }
                return (r, s.out_used == 1)
            }
        }
        guard used else {
            throw PluginError(
                .invalidArgument,
                "the model backend `\(component.name)` (\(component.plugin.path)) trained without the soft targets of a distillation student (ABI 1.5 `soft_targets`): it does not offer distillation; use a backend that does (`native`)"
            )
        }
        return result
    }

    /// Refuses a backend older than ABI 1.5 (it cannot see soft targets), naming its library.
    static func checkSoftTargets(_ component: ComponentInfo) throws {
        guard component.plugin.abiMinor >= 5 else {
            throw PluginError(
                .invalidArgument,
                "the model backend `\(component.name)` (\(component.plugin.path)) cannot train a distillation student: it was built for plugin ABI \(component.plugin.abiMajor).\(component.plugin.abiMinor) and soft targets came in ABI 1.5; rebuild it against this host's headers with soft-target training, or use `native`"
            )
        }
    }
}

extension DynamicModel {
    /// A model in a child process (`plugins.isolation: process`) gets no soft targets yet: the
    /// child's protocol does not carry them.
    func refuseSoftTargetsInChild() throws {
        throw PluginError(
            .invalidArgument,
            "the model backend `\(component.name)` (\(component.plugin.path)) runs in a child process (`plugins.isolation: process`), which cannot train a distillation student yet; run it in process for `audit.trajectory.source: distillation`"
        )
    }
}
