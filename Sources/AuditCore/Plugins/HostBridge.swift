import Foundation
import Logging
import PluginABI
import PluginKit

/// A flag the user's interrupt sets and every plugin can read through `mia_host_t.is_cancelled`.
public final class CancellationFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    public init() {}
    public var isCancelled: Bool { lock.withLock { value } }
    public func cancel() { lock.withLock { value = true } }
}

/// Receives progress reports from plugins.
protocol ProgressSink: AnyObject, Sendable {
    func report(task: String, done: Int, total: Int)
}

/// The host's side of `mia_host_t`: one per component instance, kept alive as long as it.
///
/// Owns the C table it hands out; its `context` is this object. The query service is offered
/// only while `queries` is set (during an attack's `score`).
final class HostBridge: @unchecked Sendable {
    let logger: Logger
    let cancellation: CancellationFlag
    weak var progressSink: (any ProgressSink)?
    let label: String
    let table: UnsafeMutablePointer<mia_host_t>
    private let queryTable: UnsafeMutablePointer<mia_host_query_v1_t>
    private let resultsTable: UnsafeMutablePointer<mia_host_results_v1_t>
    private let resultsLock = NSLock()
    private var results: [String: Double] = [:]
    /// The numbers the component recorded through `MIA_HOST_RESULTS_V1`, by name.
    var reportedValues: [String: Double] { resultsLock.withLock { results } }
    var queries: QueryService? {
        didSet {
            queryTable.pointee.class_count = Int32(queries?.classCount ?? 0)
            queryTable.pointee.feature_size = Int64(queries?.featureSize ?? 0)
        }
    }

    init(label: String, logger: Logger, cancellation: CancellationFlag, progress: (any ProgressSink)? = nil) {
        self.label = label
        self.logger = logger
        self.cancellation = cancellation
        self.progressSink = progress
        table = .allocate(capacity: 1)
        queryTable = .allocate(capacity: 1)
        resultsTable = .allocate(capacity: 1)
        var t = mia_host_t()
        t.struct_size = UInt32(MemoryLayout<mia_host_t>.size)
        t.abi_major = UInt32(MIA_ABI_MAJOR)
        t.abi_minor = UInt32(MIA_ABI_MINOR)
        t.log = { ctx, level, message in
            guard let ctx, let message else { return }
            let me = Unmanaged<HostBridge>.fromOpaque(ctx).takeUnretainedValue()
            let text = "\(me.label): \(String(cString: message))"
            switch level {
            case MIA_LOG_DEBUG: me.logger.debug("\(text)")
            case MIA_LOG_WARNING: me.logger.warning("\(text)")
            case MIA_LOG_ERROR: me.logger.error("\(text)")
            default: me.logger.info("\(text)")
            }
        }
        t.progress = { ctx, task, done, total in
            guard let ctx else { return }
            let me = Unmanaged<HostBridge>.fromOpaque(ctx).takeUnretainedValue()
            me.progressSink?.report(
                task: task.map { String(cString: $0) } ?? me.label, done: Int(done), total: Int(total))
        }
        t.is_cancelled = { ctx in
            guard let ctx else { return false }
            return Unmanaged<HostBridge>.fromOpaque(ctx).takeUnretainedValue().cancellation.isCancelled
        }
        t.get_extension = { ctx, id in
            guard let ctx, let id else { return nil }
            let me = Unmanaged<HostBridge>.fromOpaque(ctx).takeUnretainedValue()
            if String(cString: id) == MIA_HOST_QUERY_V1, me.queries != nil { return UnsafeRawPointer(me.queryTable) }
            if String(cString: id) == MIA_HOST_RESULTS_V1 { return UnsafeRawPointer(me.resultsTable) }
            return nil
        }
        table.initialize(to: t)

        var q = mia_host_query_v1_t()
        q.struct_size = UInt32(MemoryLayout<mia_host_query_v1_t>.size)
        q.predict_target = { ctx, features, out, error in
            hostGuard(error) { try queryService(ctx).predictTarget(features, out) }
        }
        q.train_shadow = { ctx, features, labels, seed, out, error in
            hostGuard(error) {
                let model = try queryService(ctx).trainShadow(features, labels, seed)
                out?.pointee = OpaquePointer(Unmanaged.passRetained(model).toOpaque())
            }
        }
        q.predict_shadow = { ctx, model, features, out, error in
            hostGuard(error) {
                guard let model else { throw PluginError(.invalidArgument, "null shadow model") }
                let m = Unmanaged<DynamicModel>.fromOpaque(UnsafeRawPointer(model)).takeUnretainedValue()
                let service = try queryService(ctx)
                try service.predict(m, features, out, defence: service.defence)
            }
        }
        q.release_shadow = { _, model in
            guard let model else { return }
            Unmanaged<DynamicModel>.fromOpaque(UnsafeRawPointer(model)).release()
        }
        queryTable.initialize(to: q)
        var r = mia_host_results_v1_t()
        r.struct_size = UInt32(MemoryLayout<mia_host_results_v1_t>.size)
        r.record = { ctx, name, value in
            guard let ctx, let name else { return }
            let me = Unmanaged<HostBridge>.fromOpaque(ctx).takeUnretainedValue()
            let key = String(cString: name)
            me.resultsLock.withLock { me.results[key] = value }
        }
        resultsTable.initialize(to: r)
        resultsTable.pointee.context = Unmanaged.passUnretained(self).toOpaque()
        table.pointee.context = Unmanaged.passUnretained(self).toOpaque()
        queryTable.pointee.context = Unmanaged.passUnretained(self).toOpaque()
    }

    deinit {
        table.deallocate()
        queryTable.deallocate()
        resultsTable.deallocate()
    }
}

private func queryService(_ ctx: UnsafeMutableRawPointer?) throws -> QueryService {
    guard let ctx, let q = Unmanaged<HostBridge>.fromOpaque(ctx).takeUnretainedValue().queries else {
        throw PluginError(.unsupported, "the query service is not available now")
    }
    return q
}

private func hostGuard(_ out: UnsafeMutablePointer<mia_error_t>?, _ body: () throws -> Void) -> mia_status_t {
    do {
        try body()
        return MIA_OK
    } catch {
        return PluginError.from(error).write(to: out)
    }
}
