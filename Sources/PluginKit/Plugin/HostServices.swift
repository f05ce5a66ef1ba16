import Foundation
import PluginABI

/// The host's services as a plugin sees them: log, progress, cancellation.
///
/// Wraps the `mia_host_t` a component was created with; `HostServices.standalone` serves code
/// that runs outside a host (tests, tools), logging to standard error.
public struct HostServices: @unchecked Sendable {
    let host: UnsafePointer<mia_host_t>?

    public init(_ host: UnsafePointer<mia_host_t>?) { self.host = host }

    /// Services for code running without a host.
    public static let standalone = HostServices(nil)

    public enum Level: Int32, Sendable { case debug = 0, info, warning, error }

    public func log(_ level: Level, _ message: String) {
        if let host, let fn = host.pointee.log {
            message.withCString { fn(host.pointee.context, level.rawValue, $0) }
        } else if level.rawValue >= Level.warning.rawValue {
            FileHandle.standardError.write(Data((message + "\n").utf8))
        }
    }

    public func progress(_ task: String, done: Int, total: Int) {
        guard let host, let fn = host.pointee.progress else { return }
        task.withCString { fn(host.pointee.context, $0, Int64(done), Int64(total)) }
    }

    public var isCancelled: Bool {
        guard let host, let fn = host.pointee.is_cancelled else { return false }
        return fn(host.pointee.context)
    }

    /// Throws `PluginError(.cancelled)` once the host asked to stop.
    public func checkCancellation() throws {
        if isCancelled { throw PluginError(.cancelled, "the run was cancelled") }
    }

    /// The query service, when the host offers it (only during `score` of an attack that
    /// asked for query access).
    public var query: (any TargetQueries)? {
        guard let host, let fn = host.pointee.get_extension,
            let raw = MIA_HOST_QUERY_V1.withCString({ fn(host.pointee.context, $0) })
        else { return nil }
        return CQueries(table: raw.assumingMemoryBound(to: mia_host_query_v1_t.self))
    }

    /// Records a number the attack chose while scoring (`MIA_HOST_RESULTS_V1`), shown beside its
    /// results; returns whether the host took it (false when it offers no results service).
    @discardableResult
    public func report(_ name: String, _ value: Double) -> Bool {
        guard let host, let fn = host.pointee.get_extension,
            let raw = MIA_HOST_RESULTS_V1.withCString({ fn(host.pointee.context, $0) })
        else { return false }
        let table = raw.assumingMemoryBound(to: mia_host_results_v1_t.self)
        guard let record = table.pointee.record else { return false }
        name.withCString { record(table.pointee.context, $0, value) }
        return true
    }
}

/// `TargetQueries` over the host's C query table.
struct CQueries: TargetQueries {
    let table: UnsafePointer<mia_host_query_v1_t>

    func predictTarget(features: [Float], count: Int) throws -> [Float] {
        try predict(features: features, count: count) { f, o, e in
            table.pointee.predict_target(table.pointee.context, f, o, e)
        }
    }

    func trainShadow(features: [Float], labels: [Int32], seed: UInt64) throws -> any ShadowModel {
        var features = features
        var labels = labels
        var error = mia_error_t()
        var handle: OpaquePointer?
        let status = features.withUnsafeMutableBufferPointer { fp in
            labels.withUnsafeMutableBufferPointer { lp in
                var ft = TensorView.make(
                    fp.baseAddress!, dtype: MIA_DTYPE_F32, shape: [lp.count, fp.count / max(lp.count, 1)])
                var lt = TensorView.make(lp.baseAddress!, dtype: MIA_DTYPE_I32, shape: [lp.count])
                return table.pointee.train_shadow(table.pointee.context, &ft, &lt, seed, &handle, &error)
            }
        }
        if status != MIA_OK { throw PluginError(PluginStatus(rawValue: status) ?? .internal, readMessage(&error)) }
        return CShadow(table: table, handle: handle)
    }

    final class CShadow: ShadowModel {
        let table: UnsafePointer<mia_host_query_v1_t>
        let handle: OpaquePointer?
        init(table: UnsafePointer<mia_host_query_v1_t>, handle: OpaquePointer?) {
            self.table = table
            self.handle = handle
        }
        deinit { table.pointee.release_shadow(table.pointee.context, handle) }
        func predict(features: [Float], count: Int) throws -> [Float] {
            try CQueries(table: table).predict(features: features, count: count) { f, o, e in
                table.pointee.predict_shadow(table.pointee.context, handle, f, o, e)
            }
        }
    }

    func predict(
        features: [Float], count: Int,
        _ call: (UnsafePointer<mia_tensor_t>, UnsafeMutablePointer<mia_tensor_t>, UnsafeMutablePointer<mia_error_t>) ->
            mia_status_t
    ) throws -> [Float] {
        guard count > 0 else { return [] }
        var features = features
        var error = mia_error_t()
        let classCount = Int(table.pointee.class_count)
        let featureSize = Int(table.pointee.feature_size)
        guard features.count == count * featureSize else {
            throw PluginError(
                .invalidArgument, "query features must be [\(count), \(featureSize)], got \(features.count) floats")
        }
        var out = [Float](repeating: 0, count: count * classCount)
        let status = features.withUnsafeMutableBufferPointer { fp in
            out.withUnsafeMutableBufferPointer { op in
                var ft = TensorView.make(fp.baseAddress!, dtype: MIA_DTYPE_F32, shape: [count, featureSize])
                var ot = TensorView.make(op.baseAddress!, dtype: MIA_DTYPE_F32, shape: [count, classCount])
                return call(&ft, &ot, &error)
            }
        }
        if status != MIA_OK { throw PluginError(PluginStatus(rawValue: status) ?? .internal, readMessage(&error)) }
        return out
    }
}
