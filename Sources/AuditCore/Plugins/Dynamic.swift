import Foundation
import PluginABI
import PluginKit

// The C -> Swift adapters: each wraps a component's C table, and turns a non-zero status into
// a thrown `PluginError` that names the plugin, the component and the call (the one boundary).

func callPlugin(_ component: ComponentInfo, _ call: String, _ body: (UnsafeMutablePointer<mia_error_t>) -> mia_status_t)
    throws
{
    var error = mia_error_t()
    let status = PluginGuard.inFlight(component, call) { body(&error) }
    guard status != MIA_OK else { return }
    var message = readMessage(&error)
    if message.isEmpty { message = "(the plugin gave no message)" }
    throw PluginError(
        PluginStatus(rawValue: status) ?? .internal, message,
        origin: "\(component.kind) `\(component.name)` (\(component.plugin.path)) failed in \(call)")
}

/// Creates an instance through `create_component` (ABI 1.2: the component's descriptor and the
/// options, as JSON and typed) when the table has it, else through the 1.0 function `legacy`.
/// Returns nil when the call fails (it throws): the host then never calls `destroy`/`close`.
func createInstance(
    _ component: ComponentInfo, _ call: String, optionsJSON: String, host: UnsafePointer<mia_host_t>,
    modern: (
        (
            UnsafePointer<mia_create_args_t>, UnsafeMutablePointer<UnsafeMutableRawPointer?>,
            UnsafeMutablePointer<mia_error_t>
        ) -> mia_status_t
    )?,
    legacy: (UnsafeMutablePointer<UnsafeMutableRawPointer?>, UnsafeMutablePointer<mia_error_t>) -> mia_status_t
) throws -> UnsafeMutableRawPointer? {
    var out: UnsafeMutableRawPointer?
    if let modern, let descriptor = component.descriptor {
        try CreateArguments.with(component: descriptor, host: host, json: optionsJSON, schema: component.options) {
            args in
            try callPlugin(component, call) { modern(args, &out, $0) }
        }
    } else {
        try callPlugin(component, call) { legacy(&out, $0) }
    }
    return out
}

/// A dataset loader behind the C ABI.
final class DynamicDataset {
    let component: ComponentInfo
    let bridge: HostBridge
    let table: UnsafePointer<mia_dataset_vtable_t>
    var instance: UnsafeMutableRawPointer?
    /// Whether `open` succeeded: only then is `close` called (never after a failed open).
    var opened = false
    /// The child process holding the instance (`plugins.isolation: process`); nil in process.
    var session: IsolatedSession?

    init(_ component: ComponentInfo, optionsJSON: String, bridge: HostBridge) throws {
        precondition(component.kind == .dataset)
        self.component = component
        self.bridge = bridge
        table = component.vtable.assumingMemoryBound(to: mia_dataset_vtable_t.self)
        if let session = try IsolatedSession.start(component, bridge: bridge) {
            self.session = session
            try Self.openInChild(session, optionsJSON: optionsJSON)
            return
        }
        let t = table.pointee
        instance = try createInstance(
            component, "open", optionsJSON: optionsJSON, host: bridge.table,
            modern: t.open_component.map { f in { f($0, $1, $2) } },
            legacy: { t.open(bridge.table, optionsJSON, $0, $1) })
        opened = true
    }

    deinit { if opened { PluginGuard.inFlight(component, "close") { table.pointee.close(instance) } } }

    func info() throws -> DatasetInfo {
        if let session { return try infoInChild(session) }
        var i = mia_dataset_info_t()
        i.struct_size = UInt32(MemoryLayout<mia_dataset_info_t>.size)
        try callPlugin(component, "info") { table.pointee.info(instance, &i, $0) }
        return DatasetInfo(
            recordCount: Int(i.record_count), classCount: Int(i.class_count),
            featureShape: TensorView.dims(i.feature_shape, i.feature_ndim))
    }

    /// Reads records [start, start + count): features [count, featureSize], labels [count].
    func read(start: Int, count: Int, featureShape: [Int]) throws -> (features: [Float], labels: [Int32]) {
        if let session { return try readInChild(session, start: start, count: count, featureShape: featureShape) }
        let size = featureShape.reduce(1, *)
        var features = [Float](repeating: 0, count: count * size)
        var labels = [Int32](repeating: 0, count: count)
        try features.withUnsafeMutableBufferPointer { f in
            try labels.withUnsafeMutableBufferPointer { l in
                var ft = TensorView.make(f.baseAddress!, dtype: MIA_DTYPE_F32, shape: [count] + featureShape)
                var lt = TensorView.make(l.baseAddress!, dtype: MIA_DTYPE_I32, shape: [count])
                try callPlugin(component, "read") {
                    table.pointee.read(instance, Int64(start), Int64(count), &ft, &lt, $0)
                }
            }
        }
        return (features, labels)
    }
}

/// A model backend behind the C ABI.
final class DynamicModel {
    let component: ComponentInfo
    let spec: ModelSpec
    let bridge: HostBridge
    let table: UnsafePointer<mia_model_vtable_t>
    var instance: UnsafeMutableRawPointer?
    /// Whether `create` succeeded: only then is `destroy` called (never after a failed create).
    var created = false
    /// The child process holding the instance (`plugins.isolation: process`); nil in process.
    var session: IsolatedSession?

    init(_ component: ComponentInfo, optionsJSON: String, spec: ModelSpec, bridge: HostBridge) throws {
        precondition(component.kind == .model)
        self.component = component
        self.spec = spec
        self.bridge = bridge
        table = component.vtable.assumingMemoryBound(to: mia_model_vtable_t.self)
        if let session = try IsolatedSession.start(component, bridge: bridge) {
            self.session = session
            try Self.createInChild(session, optionsJSON: optionsJSON, spec: spec)
            return
        }
        let t = table.pointee
        var s = mia_model_spec_t()
        s.struct_size = UInt32(MemoryLayout<mia_model_spec_t>.size)
        s.feature_ndim = Int32(spec.featureShape.count)
        TensorView.setDims(&s.feature_shape, spec.featureShape)
        s.class_count = Int32(spec.classCount)
        instance = try createInstance(
            component, "create", optionsJSON: optionsJSON, host: bridge.table,
            modern: t.create_component.map { f in { f($0, &s, $1, $2) } },
            legacy: { t.create(bridge.table, optionsJSON, &s, $0, $1) })
        created = true
    }

    deinit { if created { PluginGuard.inFlight(component, "destroy") { table.pointee.destroy(instance) } } }

    /// Trains on `features` [n, featureSize] and `labels` [n]; returns the per-epoch history.
    ///
    /// `auxiliary` records (public, disjoint from every audited record) go to defences that need
    /// data beyond the private set. At the end of each of `checkpointEpochs` that training
    /// reaches, `onCheckpoint(epoch)` runs on the training thread while the model holds that
    /// epoch's weights (it may call `predict` and `save`); a throw stops training. `softTargets`
    /// make the training a distillation student's (ABI 1.5). Returns the per-epoch history.
    func train(
        features: [Float], labels: [Int32], heldoutFeatures: [Float]? = nil, heldoutLabels: [Int32]? = nil,
        auxiliaryFeatures: [Float]? = nil, auxiliaryLabels: [Int32]? = nil, seed: UInt64,
        checkpointEpochs: [Int] = [], onCheckpoint: ((Int) throws -> Void)? = nil,
        gradientCanaries: GradientCanaries? = nil, softTargets: SoftTargetRequest? = nil,
        onEpoch: ((EpochRecord) -> Void)? = nil
    ) throws -> [EpochRecord] {
        if let session {
            if softTargets != nil { try refuseSoftTargetsInChild() }
            return try trainInChild(
                session, [(features, labels), (heldoutFeatures, heldoutLabels), (auxiliaryFeatures, auxiliaryLabels)],
                seed: seed,
                checkpointEpochs: checkpointEpochs, onCheckpoint: onCheckpoint, onEpoch: onEpoch)
        }
        final class Context {
            var records: [EpochRecord] = []
            var forward: ((EpochRecord) -> Void)?
            var checkpoint: ((Int) throws -> Void)?
        }
        let context = Context()
        context.forward = onEpoch
        context.checkpoint = onCheckpoint
        let shape = spec.featureShape
        // Views of the caller's arrays, lent in place for the call (the backend only reads them):
        // each array is pinned by a nested `withUnsafeBufferPointer`, no copy is made.
        let epochs = checkpointEpochs.map { Int32($0) }
        var pins: [mia_tensor_t] = []
        var slots: [(Int?, Int?)] = []
        func lend<R>(_ sets: ArraySlice<([Float]?, [Int32]?)>, _ body: () throws -> R) rethrows -> R {
            guard let (f, l) = sets.first else { return try body() }
            guard let f, let l, !l.isEmpty else {
                slots.append((nil, nil))
                return try lend(sets.dropFirst(), body)
            }
            return try f.withUnsafeBufferPointer { fp in
                try l.withUnsafeBufferPointer { lp in
                    pins.append(
                        TensorView.make(
                            UnsafeMutableRawPointer(mutating: fp.baseAddress!), dtype: MIA_DTYPE_F32,
                            shape: [lp.count] + shape))
                    pins.append(
                        TensorView.make(
                            UnsafeMutableRawPointer(mutating: lp.baseAddress!), dtype: MIA_DTYPE_I32, shape: [lp.count])
                    )
                    slots.append((pins.count - 2, pins.count - 1))
                    return try lend(sets.dropFirst(), body)
                }
            }
        }
        return try lend(
            [(features, labels), (heldoutFeatures, heldoutLabels), (auxiliaryFeatures, auxiliaryLabels)][...]
        ) {
            return try pins.withUnsafeBufferPointer { views in
                func view(_ slot: Int?) -> UnsafePointer<mia_tensor_t>? { slot.map { views.baseAddress! + $0 } }
                try epochs.withUnsafeBufferPointer { epochList in
                    var args = mia_train_args_t()
                    args.struct_size = UInt32(MemoryLayout<mia_train_args_t>.size)
                    args.features = view(slots[0].0)
                    args.labels = view(slots[0].1)
                    args.heldout_features = view(slots[1].0)
                    args.heldout_labels = view(slots[1].1)
                    args.auxiliary_features = view(slots[2].0)
                    args.auxiliary_labels = view(slots[2].1)
                    args.seed = seed
                    args.on_epoch = { ctx, record in
                        guard let ctx, let record else { return }
                        let r = record.pointee
                        let c = Unmanaged<Context>.fromOpaque(ctx).takeUnretainedValue()
                        let epsilon =
                            abiCovers(r.struct_size, \mia_epoch_record_t.dp_epsilon) && r.dp_epsilon.isFinite
                            ? r.dp_epsilon : nil
                        let e = EpochRecord(
                            epoch: Int(r.epoch), trainLoss: r.train_loss, trainAccuracy: r.train_accuracy,
                            heldoutLoss: r.heldout_loss, heldoutAccuracy: r.heldout_accuracy, seconds: r.seconds,
                            dpEpsilon: epsilon)
                        c.records.append(e)
                        c.forward?(e)
                    }
                    args.on_epoch_context = Unmanaged.passUnretained(context).toOpaque()
                    if onCheckpoint != nil && !epochList.isEmpty {
                        args.checkpoint_epochs = epochList.baseAddress
                        args.checkpoint_count = Int32(epochList.count)
                        args.on_checkpoint = { ctx, epoch, error in
                            guard let ctx else { return MIA_ERR_INVALID_ARGUMENT }
                            let c = Unmanaged<Context>.fromOpaque(ctx).takeUnretainedValue()
                            do {
                                try c.checkpoint?(Int(epoch))
                                return MIA_OK
                            } catch let thrown {
                                return PluginError.from(thrown).write(to: error)
                            }
                        }
                        args.on_checkpoint_context = Unmanaged.passUnretained(context).toOpaque()
                    }
                    try Self.lending(gradientCanaries) { canaries in
                        args.gradient_canaries = canaries
                        try lending(softTargets) { soft in
                            args.soft_targets = soft
                            try callPlugin(component, "train") { table.pointee.train(instance, &args, $0) }
                        }
                    }
                }
                return context.records
            }
        }
    }

    /// Logits [n, classCount] for `features` [n, featureSize], computed in chunks of `batch`.
    func predict(features: UnsafeBufferPointer<Float>, count n: Int, batch: Int = 4096) throws -> [Float] {
        if let session { return try predictInChild(session, features: features, count: n, batch: batch) }
        let size = spec.featureSize, c = spec.classCount
        var logits = [Float](repeating: 0, count: n * c)
        try logits.withUnsafeMutableBufferPointer { o in
            var start = 0
            while start < n {
                let m = min(batch, n - start)
                var ft = TensorView.make(
                    UnsafeMutableRawPointer(mutating: features.baseAddress! + start * size), dtype: MIA_DTYPE_F32,
                    shape: [m] + spec.featureShape)
                var ot = TensorView.make(o.baseAddress! + start * c, dtype: MIA_DTYPE_F32, shape: [m, c])
                try callPlugin(component, "predict") { table.pointee.predict(instance, &ft, &ot, $0) }
                start += m
            }
        }
        return logits
    }

    func predict(features: [Float], count: Int) throws -> [Float] {
        try features.withUnsafeBufferPointer { try predict(features: $0, count: count) }
    }

    func save(to path: String) throws {
        if let session { return try fileInChild(session, "save", path: path) }
        try callPlugin(component, "save") { table.pointee.save(instance, path, $0) }
    }

    func load(from path: String) throws {
        if let session { return try fileInChild(session, "load", path: path) }
        try callPlugin(component, "load") { table.pointee.load(instance, path, $0) }
    }
}

/// An attack strategy behind the C ABI.
public final class DynamicAttack {
    let component: ComponentInfo
    let bridge: HostBridge
    let table: UnsafePointer<mia_attack_vtable_t>
    var instance: UnsafeMutableRawPointer?
    /// Whether `create` succeeded: only then is `destroy` called (never after a failed create).
    var created = false
    /// For a child process that creates the attack again (`plugins.isolation: process`).
    let optionsJSON: String

    init(_ component: ComponentInfo, optionsJSON: String, bridge: HostBridge) throws {
        precondition(component.kind == .attack)
        self.component = component
        self.optionsJSON = optionsJSON
        self.bridge = bridge
        table = component.vtable.assumingMemoryBound(to: mia_attack_vtable_t.self)
        let t = table.pointee
        instance = try createInstance(
            component, "create", optionsJSON: optionsJSON, host: bridge.table,
            modern: t.create_component.map { f in { f($0, $1, $2) } },
            legacy: { t.create(bridge.table, optionsJSON, $0, $1) })
        created = true
    }

    deinit { if created { PluginGuard.inFlight(component, "destroy") { table.pointee.destroy(instance) } } }

    var requirements: AttackRequirements {
        AttackRequirements(
            rawValue: PluginGuard.inFlight(component, "requirements") { table.pointee.requirements(instance) })
    }

    /// Scores every audit record; the query service is offered for the duration of the call.
    func score(_ signals: UnsafePointer<mia_signals_t>, queries: QueryService?) throws -> (
        scores: [Double], mask: [UInt8]
    ) {
        if let isolated = try scoreInChildProcess(signals, queries: queries) { return isolated }
        let n = Int(signals.pointee.record_count)
        var scores = [Double](repeating: 0, count: n)
        var mask = [UInt8](repeating: 1, count: n)
        bridge.queries = queries
        defer { bridge.queries = nil }
        try scores.withUnsafeMutableBufferPointer { s in
            try mask.withUnsafeMutableBufferPointer { m in
                try callPlugin(component, "score") {
                    table.pointee.score(instance, signals, s.baseAddress!, m.baseAddress!, $0)
                }
            }
        }
        if let bad = scores.firstIndex(where: { !$0.isFinite }) {
            throw PluginError(
                .internal, "score of record \(bad) is \(scores[bad])",
                origin: "attack `\(component.name)` (\(component.plugin.path))")
        }
        return (scores, mask)
    }
}

/// The host's implementation of the query service: the target's outputs, and shadow models
/// trained with the target's backend and options.
final class QueryService: @unchecked Sendable {
    let target: DynamicModel
    let makeModel: () throws -> DynamicModel
    let classCount: Int
    let featureSize: Int
    private let lock = NSLock()
    private(set) var queryCount = 0
    private(set) var shadowCount = 0

    /// The output defence the target's answers pass through. Shadow models answer through it
    /// too: the attacker knows the target's output format and post-processes its own models'
    /// outputs the same way (as the host does for reference models), so that its attack models
    /// learn from outputs like the ones they will judge.
    let defence: OutputDefence?
    /// The public records every training of the audit gets (`dataset.public_records`), given to
    /// shadow trainings too, so that they follow the target's recipe.
    let auxiliary: (features: [Float], labels: [Int32])?

    init(
        target: DynamicModel, defence: OutputDefence? = nil, auxiliary: (features: [Float], labels: [Int32])? = nil,
        makeModel: @escaping () throws -> DynamicModel
    ) {
        self.target = target
        self.defence = defence
        self.auxiliary = auxiliary
        self.makeModel = makeModel
        classCount = target.spec.classCount
        featureSize = target.spec.featureSize
    }

    private func rows(_ t: UnsafePointer<mia_tensor_t>?) throws -> (UnsafeBufferPointer<Float>, Int) {
        let f = try TensorView.buffer(t, Float.self, dtype: MIA_DTYPE_F32, what: "query features")
        let n = featureSize == 0 ? 0 : f.count / featureSize
        guard n * featureSize == f.count else {
            throw PluginError(
                .invalidArgument, "query features hold \(f.count) floats, not a multiple of \(featureSize)")
        }
        return (UnsafeBufferPointer(f), n)
    }

    func predict(
        _ model: DynamicModel, _ features: UnsafePointer<mia_tensor_t>?, _ out: UnsafeMutablePointer<mia_tensor_t>?,
        defence: OutputDefence? = nil
    ) throws {
        let (f, n) = try rows(features)
        let o = try TensorView.buffer(out, Float.self, dtype: MIA_DTYPE_F32, what: "query logits")
        guard o.count == n * classCount else {
            throw PluginError(.invalidArgument, "query logits must be [\(n), \(classCount)], got \(o.count) floats")
        }
        var logits = try model.predict(features: f, count: n)
        if let defence { logits = defence.apply(logits, classCount: classCount) }
        _ = o.initialize(from: logits)
    }

    func predictTarget(_ features: UnsafePointer<mia_tensor_t>?, _ out: UnsafeMutablePointer<mia_tensor_t>?) throws {
        let (_, n) = try rows(features)
        lock.withLock { queryCount += n }
        try predict(target, features, out, defence: defence)
    }

    func trainShadow(_ features: UnsafePointer<mia_tensor_t>?, _ labels: UnsafePointer<mia_tensor_t>?, _ seed: UInt64)
        throws -> DynamicModel
    {
        let (f, n) = try rows(features)
        let l = try TensorView.buffer(labels, Int32.self, dtype: MIA_DTYPE_I32, what: "shadow labels")
        guard l.count == n else { throw PluginError(.invalidArgument, "shadow labels: \(l.count) for \(n) records") }
        let model = try makeModel()
        _ = try model.train(
            features: Array(f), labels: Array(l), auxiliaryFeatures: auxiliary?.features,
            auxiliaryLabels: auxiliary?.labels, seed: seed)
        lock.withLock { shadowCount += 1 }
        return model
    }
}
