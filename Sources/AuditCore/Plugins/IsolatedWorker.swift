import CPluginGuard
import Foundation
import Logging
import PluginABI
import PluginKit

/// The child's side of an isolated `score` call (`mia-audit isolated-score BLOCK LIBRARY
/// COMPONENT`, started by `DynamicAttack.scoreInChildProcess`): maps the host's block, loads the
/// library, creates the attack with the host's options, calls `score` with pointers into the
/// block, and records in the block where it got to, so that a crash or `exit` is blamed on the
/// right call. Calls the plugin's table directly: the host, not the child, reports what went wrong.
public enum IsolatedWorker {
    /// Runs the call; returns the process's exit status (0 when the outcome is in the block).
    public static func run(block path: String, library: String, component name: String, label: String, logger: Logger)
        -> Int32
    {
        let block: IsolatedCallBlock
        do {
            block = try IsolatedCallBlock(path: path)
        } catch {
            FileHandle.standardError.write(Data("error: isolated-score: \(error)\n".utf8))
            return 3
        }
        let h = block.header
        h.pointee.stage = Int32(MIA_ISOLATED_CREATE)
        let registry = PluginRegistry()
        registry.load(library)
        guard let component = registry.component(.attack, named: name),
            component.plugin.path == (library as NSString).resolvingSymlinksInPath
        else {
            let why = registry.problems.map(\.description).joined(separator: "; ")
            block.message = "no attack `\(name)` in \(library)\(why.isEmpty ? "" : ": \(why)")"
            h.pointee.stage = Int32(MIA_ISOLATED_REFUSED)
            return 3
        }
        let table = component.vtable.assumingMemoryBound(to: mia_attack_vtable_t.self)
        let bridge = HostBridge(label: label, logger: logger, cancellation: CancellationFlag())
        var error = mia_error_t()
        func finish(_ status: mia_status_t, _ call: Int32) -> Int32 {
            h.pointee.status = status
            h.pointee.failed_call = status == MIA_OK ? 0 : call
            if status != MIA_OK { block.message = readMessage(&error) }
            h.pointee.stage = Int32(MIA_ISOLATED_FINISHED)
            return 0
        }
        // Created as the host creates it in process (`createInstance`: ABI 1.2's
        // `create_component` when the table has it, else 1.0's `create`).
        var instance: UnsafeMutableRawPointer?
        let optionsJSON = block.pointer(Int(MIA_ISOLATED_OPTIONS), CChar.self).map { String(cString: $0) } ?? "{}"
        let t = table.pointee
        do {
            instance = try createInstance(
                component, "create", optionsJSON: optionsJSON, host: bridge.table,
                modern: t.create_component.map { f in { f($0, $1, $2) } },
                legacy: { t.create(bridge.table, optionsJSON, $0, $1) })
        } catch {
            let failure = error as? PluginError ?? PluginError(.internal, "\(error)")
            h.pointee.status = failure.status.rawValue
            h.pointee.failed_call = Int32(MIA_ISOLATED_CREATE)
            block.message = failure.message
            h.pointee.stage = Int32(MIA_ISOLATED_FINISHED)
            return 0
        }
        defer { table.pointee.destroy(instance) }

        let n = Int(h.pointee.record_count), p = Int(h.pointee.population_count)
        let shape = withUnsafeBytes(of: h.pointee.feature_shape) {
            Array($0.bindMemory(to: Int64.self).prefix(Int(h.pointee.feature_ndim)))
        }
        func tensor(_ slot: Int32, rows: Int) -> mia_tensor_t? {
            guard let data = block.pointer(Int(slot), Float.self) else { return nil }
            return TensorView.make(
                UnsafeMutableRawPointer(data), dtype: MIA_DTYPE_F32, shape: [rows] + shape.map { Int($0) })
        }
        var features = tensor(Int32(MIA_ISOLATED_FEATURES), rows: n) ?? mia_tensor_t()
        var populationFeatures = tensor(Int32(MIA_ISOLATED_POPULATION_FEATURES), rows: p) ?? mia_tensor_t()
        let status = withUnsafePointer(to: &features) { f in
            withUnsafePointer(to: &populationFeatures) { pf in
                var s = mia_signals_t()
                s.struct_size = UInt32(MemoryLayout<mia_signals_t>.size)
                s.record_count = h.pointee.record_count
                s.class_count = h.pointee.class_count
                s.reference_count = h.pointee.reference_count
                s.population_count = h.pointee.population_count
                s.labels = UnsafePointer(block.pointer(Int(MIA_ISOLATED_LABELS), Int32.self))
                s.target_logits = UnsafePointer(block.pointer(Int(MIA_ISOLATED_TARGET_LOGITS), Float.self))
                s.reference_logits = UnsafePointer(block.pointer(Int(MIA_ISOLATED_REFERENCE_LOGITS), Float.self))
                s.reference_membership = UnsafePointer(
                    block.pointer(Int(MIA_ISOLATED_REFERENCE_MEMBERSHIP), UInt8.self))
                s.population_labels = UnsafePointer(block.pointer(Int(MIA_ISOLATED_POPULATION_LABELS), Int32.self))
                s.population_target_logits = UnsafePointer(
                    block.pointer(Int(MIA_ISOLATED_POPULATION_TARGET_LOGITS), Float.self))
                s.population_reference_logits = UnsafePointer(
                    block.pointer(Int(MIA_ISOLATED_POPULATION_REFERENCE_LOGITS), Float.self))
                s.target_membership = UnsafePointer(block.pointer(Int(MIA_ISOLATED_TARGET_MEMBERSHIP), UInt8.self))
                s.features = f.pointee.data == nil ? nil : f
                s.population_features = pf.pointee.data == nil ? nil : pf
                s.seed = h.pointee.seed
                s.flags = h.pointee.flags
                s.thread_count = h.pointee.thread_count
                h.pointee.stage = Int32(MIA_ISOLATED_SCORE)
                return table.pointee.score(
                    instance, &s, block.pointer(Int(MIA_ISOLATED_SCORES), Double.self),
                    block.pointer(Int(MIA_ISOLATED_MASK), UInt8.self), &error)
            }
        }
        guard status == MIA_OK else { return finish(status, Int32(MIA_ISOLATED_SCORE)) }
        let scores = UnsafeBufferPointer(start: block.pointer(Int(MIA_ISOLATED_SCORES), Double.self), count: n)
        if let bad = scores.firstIndex(where: { !$0.isFinite }) {
            error = mia_error_t()
            _ = PluginError(.internal, "score of record \(bad) is \(scores[bad])").write(to: &error)
            return finish(MIA_ERR_INTERNAL, Int32(MIA_ISOLATED_SCORE))
        }
        return finish(MIA_OK, 0)
    }
}
