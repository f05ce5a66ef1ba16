import CPluginGuard
import Foundation
import PluginABI
import PluginKit

/// `plugins.isolation: process`: an attack's `score` runs in a child process (`mia-audit
/// isolated-score`, see `IsolatedWorker`) that loads the same library and calls the same C
/// table, with the signals and the scores in one shared-memory block (`IsolatedCallBlock`).
/// A crash, `exit`, or time-out of the child becomes a `PluginError` naming the library's path,
/// the component, the call and the signal; the host process is untouched.
extension DynamicAttack {
    /// The hidden subcommand of `mia-audit` that runs the child's side.
    public static let isolatedSubcommand = "isolated-score"

    /// The scores from a child process when this attack's library is isolated; nil otherwise.
    func scoreInChildProcess(_ signals: UnsafePointer<mia_signals_t>, queries: QueryService?) throws -> (
        scores: [Double], mask: [UInt8]
    )? {
        let settings = PluginGuard.settings(for: component.plugin)
        guard settings.isolation == .process else { return nil }
        let origin = IsolatedChildEnd.origin(component)
        guard queries == nil else {
            throw PluginError(
                .unsupported,
                "an attack that queries the target cannot run in a child process yet; set `plugins.libraries` to `isolation: none` for this library",
                origin: "attack `\(component.name)` (\(component.plugin.path))")
        }
        guard signals.pointee.augmentation_count <= 1 else {
            throw PluginError(
                .unsupported,
                "a child process does not receive query augmentations (`audit.augmentations`) yet; set `plugins.isolation: none` for this library",
                origin: "attack `\(component.name)` (\(component.plugin.path))")
        }
        guard signals.pointee.checkpoint_count <= 0 else {
            throw PluginError(
                .unsupported,
                "a child process does not receive checkpoint logits (`audit.checkpoints`) yet; set `plugins.isolation: none` for this library",
                origin: "attack `\(component.name)` (\(component.plugin.path))")
        }
        let block = try fill(signals)
        defer { block.close() }
        try PluginGuard.inFlight(component, "score (child process)", timed: false) {
            try runChild(block, timeout: settings.timeoutSeconds, origin: origin)
        }
        let h = block.header.pointee
        guard h.status == MIA_OK else {
            let call = h.failed_call == Int32(MIA_ISOLATED_CREATE) ? "create" : "score"
            var message = block.message
            if message.isEmpty { message = "(the plugin gave no message)" }
            throw PluginError(
                PluginStatus(rawValue: h.status) ?? .internal, message, origin: "\(origin) failed in \(call)")
        }
        let n = Int(h.record_count)
        let scores = Array(UnsafeBufferPointer(start: block.pointer(Int(MIA_ISOLATED_SCORES), Double.self), count: n))
        let mask = Array(UnsafeBufferPointer(start: block.pointer(Int(MIA_ISOLATED_MASK), UInt8.self), count: n))
        return (scores, mask)
    }

    /// A block holding `signals` and the options, with room for the scores and the mask (preset to 1).
    private func fill(_ signals: UnsafePointer<mia_signals_t>) throws -> IsolatedCallBlock {
        let s = signals.pointee
        let n = Int(s.record_count), c = Int(s.class_count), r = Int(s.reference_count), p = Int(s.population_count)
        func floats(_ t: UnsafePointer<mia_tensor_t>?) -> (UnsafeRawPointer?, Int) {
            guard let t, let data = t.pointee.data else { return (nil, 0) }
            return (UnsafeRawPointer(data), Int(mia_tensor_count(t)) * 4)
        }
        let options = Array(optionsJSON.utf8) + [0]
        // In the order of the MIA_ISOLATED_* slots.
        let sources: [(UnsafeRawPointer?, Int)] = [
            (UnsafeRawPointer(s.labels), n * 4), (UnsafeRawPointer(s.target_logits), n * c * 4),
            (UnsafeRawPointer(s.reference_logits), r * n * c * 4), (UnsafeRawPointer(s.reference_membership), r * n),
            (UnsafeRawPointer(s.population_labels), p * 4), (UnsafeRawPointer(s.population_target_logits), p * c * 4),
            (UnsafeRawPointer(s.population_reference_logits), r * p * c * 4),
            (UnsafeRawPointer(s.target_membership), n),
            floats(s.features), floats(s.population_features),
        ]
        let lengths = sources.map { $0.0 == nil ? 0 : $0.1 } + [n * 8, max(n, 1), options.count]
        let (offsets, size) = IsolatedCallBlock.layout(lengths)
        let block = try IsolatedCallBlock(size: size)
        let h = block.header
        h.pointee.magic = MIA_ISOLATED_MAGIC
        h.pointee.size = UInt64(size)
        h.pointee.record_count = s.record_count
        h.pointee.population_count = s.population_count
        h.pointee.class_count = s.class_count
        h.pointee.reference_count = s.reference_count
        h.pointee.seed = s.seed
        h.pointee.flags = s.flags & ~UInt32(MIA_SIGNALS_REFERENCE_MAPPED)
        h.pointee.thread_count = s.thread_count
        if let f = s.features {
            let dims = withUnsafeBytes(of: f.pointee.shape) {
                Array($0.bindMemory(to: Int64.self).prefix(Int(f.pointee.ndim)))
            }
            h.pointee.feature_ndim = Int32(dims.count - 1)
            withUnsafeMutableBytes(of: &h.pointee.feature_shape) { b in
                for (i, d) in dims.dropFirst().enumerated() { b.storeBytes(of: d, toByteOffset: i * 8, as: Int64.self) }
            }
        }
        for (slot, offset) in offsets.enumerated() { block.setOffset(slot, offset) }
        for (slot, (source, length)) in sources.enumerated() where source != nil && length > 0 {
            (block.base + offsets[slot]).copyMemory(from: source!, byteCount: length)
        }
        (block.base + offsets[Int(MIA_ISOLATED_MASK)]).initializeMemory(as: UInt8.self, repeating: 1, count: n)
        options.withUnsafeBytes {
            (block.base + offsets[Int(MIA_ISOLATED_OPTIONS)]).copyMemory(from: $0.baseAddress!, byteCount: $0.count)
        }
        h.pointee.options_length = UInt64(options.count - 1)
        return block
    }

    /// Runs the child on `block` and waits for it, within `timeout` seconds; turns every way
    /// it can end other than a finished call into an error.
    private func runChild(_ block: IsolatedCallBlock, timeout: Double?, origin: String) throws {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        let level = IsolatedChildEnd.logLevel(bridge)
        child.arguments = [
            Self.isolatedSubcommand, block.childPath, component.plugin.path, component.name, "--label", bridge.label,
            "--log-level", level,
        ]
        child.environment = IsolatedChildEnd.environment
        let ended = DispatchSemaphore(value: 0)
        child.terminationHandler = { _ in ended.signal() }
        do {
            try child.run()
        } catch {
            throw PluginError(.io, "cannot start the child process: \(error)", origin: origin)
        }
        let start = Date()
        var stoppedFor: String?
        while ended.wait(timeout: .now() + .milliseconds(20)) == .timedOut {
            if bridge.cancellation.isCancelled {
                stoppedFor = "cancelled"
            } else if let timeout, Date().timeIntervalSince(start) > timeout {
                stoppedFor = "timeout"
            } else {
                continue
            }
            kill(child.processIdentifier, SIGKILL)
            ended.wait()
            break
        }
        let stage = block.header.pointee.stage
        let call = stage == Int32(MIA_ISOLATED_SCORE) ? "score" : "create"
        switch stoppedFor {
        case "cancelled": throw IsolatedChildEnd.cancelled(call, origin: origin)
        case "timeout": throw IsolatedChildEnd.timedOut(call, limit: timeout, origin: origin)
        default: break
        }
        let status = child.terminationStatus
        if child.terminationReason == .uncaughtSignal {
            throw IsolatedChildEnd.killed(by: status, call, origin: origin)
        }
        if stage == Int32(MIA_ISOLATED_REFUSED) {
            throw PluginError(.internal, "the child process could not load it: \(block.message)", origin: origin)
        }
        guard stage == Int32(MIA_ISOLATED_FINISHED) else { throw IsolatedChildEnd.exited(status, call, origin: origin) }
        guard status == 0 else {
            throw PluginError(
                .internal, "the child process exited with status \(status) after `score` returned", origin: origin)
        }
    }
}
