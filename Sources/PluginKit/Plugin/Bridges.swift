import Foundation
import PluginABI

// The Swift -> C bridges: one C vtable per kind, shared by every component of that kind, whose
// functions call the Swift component. `create_component` / `open_component` (ABI 1.2) receive
// the component's descriptor, whose `context` holds the Swift type to create; every other
// function reads the instance's box. Errors become status + message in `guarded`, the one
// boundary.

final class Box<T> {
    let value: T
    init(_ value: T) { self.value = value }
}

@inline(__always)
func unbox<T>(_ instance: UnsafeMutableRawPointer?, _ type: T.Type) throws -> T {
    guard let instance else { throw PluginError(.invalidArgument, "null instance") }
    return Unmanaged<Box<T>>.fromOpaque(instance).takeUnretainedValue().value
}

@inline(__always)
func release<T>(_ instance: UnsafeMutableRawPointer?, _ type: T.Type) {
    guard let instance else { return }
    Unmanaged<Box<T>>.fromOpaque(instance).release()
}

func string(_ p: UnsafePointer<CChar>?, _ what: String) throws -> String {
    guard let p else { throw PluginError(.invalidArgument, "\(what) is null") }
    return String(cString: p)
}

func view<T>(_ ptr: UnsafePointer<T>?, _ count: Int) -> UnsafeBufferPointer<T>? {
    ptr.map { UnsafeBufferPointer(start: $0, count: count) }
}

func floatTensor(_ t: UnsafePointer<mia_tensor_t>?) -> (UnsafeBufferPointer<Float>?, [Int]) {
    guard let t, t.pointee.dtype == MIA_DTYPE_F32, let d = t.pointee.data else { return (nil, []) }
    let shape = TensorView.shape(t.pointee)
    return (
        UnsafeBufferPointer(start: d.assumingMemoryBound(to: Float.self), count: shape.reduce(1, *)),
        Array(shape.dropFirst())
    )
}

typealias ErrPtr = UnsafeMutablePointer<mia_error_t>?

/// Whether a struct of `size` bytes (its `struct_size`) holds `field` whole: a reader touches an
/// appended field only then.
public func abiCovers<S, T>(_ size: UInt32, _ field: KeyPath<S, T>) -> Bool {
    guard let offset = MemoryLayout<S>.offset(of: field) else { return false }
    return Int(size) >= offset + MemoryLayout<T>.size
}

/// The component a descriptor entry creates, kept in its `context` for the life of the process.
///
/// Always a `Box<Component>`: written and read as one concrete type, never a `T` inferred from
/// the argument. (It was `Box<T>` from an `any DatasetLoader.Type`: Swift 6 mode opens an
/// existential passed to an unconstrained `T` (SE-0352), so it boxed the concrete metatype,
/// 8 bytes, which the bridge read as the existential one, 16 bytes with a witness table, and
/// `open_component` called `init` through garbage.)
func componentContext(_ component: Component) -> UnsafeMutableRawPointer {
    Unmanaged.passRetained(Box<Component>(component)).toOpaque()
}

/// The Swift type of the component `args` creates (from its descriptor's `context`), which must
/// be of the `kind` this vtable serves: a host handing another kind's entry is refused.
func componentType<T>(
    _ args: UnsafePointer<mia_create_args_t>?, _ kind: KeyPath<Component, T?>, _ kindName: String
) throws -> T {
    guard let args, let entry = args.pointee.component, let context = entry.pointee.context else {
        throw PluginError(.invalidArgument, "create: null arguments or component context")
    }
    guard let type = Unmanaged<Box<Component>>.fromOpaque(context).takeUnretainedValue().value[keyPath: kind] else {
        let name = entry.pointee.name.map { String(cString: $0) } ?? "?"
        throw PluginError(
            .invalidArgument, "component '\(name)' was handed to the \(kindName) vtable but is of another kind")
    }
    return type
}

/// The options of `args`, from their JSON text.
func options(_ args: UnsafePointer<mia_create_args_t>?) throws -> PluginOptions {
    try PluginOptions(json: string(args?.pointee.options_json, "options"))
}

/// The message of the 1.0/1.1 `create`/`open` of a Swift plugin, which only a 1.2 host calls through
/// `create_component`/`open_component`.
func needsNewerHost(_ error: ErrPtr) -> mia_status_t {
    PluginError(
        .unsupported,
        "this plugin needs a host of plugin ABI 1.2 or later (it creates components through create_component)"
    )
    .write(to: error)
}

enum DatasetBridge {
    // Safe to share: built once by Swift's thread-safe static initialisation, never written after.
    nonisolated(unsafe) static let table: UnsafePointer<mia_dataset_vtable_t> = {
        var t = mia_dataset_vtable_t()
        t.struct_size = UInt32(MemoryLayout<mia_dataset_vtable_t>.size)
        t.open = { _, _, _, error in needsNewerHost(error) }
        t.open_component = { args, out, error in
            guarded(error) {
                let type = try componentType(args, \.datasetType, "dataset")
                let loader = try type.init(options: options(args), host: HostServices(args?.pointee.host))
                out?.pointee = Unmanaged.passRetained(Box<any DatasetLoader>(loader)).toOpaque()
            }
        }
        t.info = { instance, info, error in
            guarded(error) {
                let i = try unbox(instance, (any DatasetLoader).self).info()
                guard let info else { throw PluginError(.invalidArgument, "info: null output") }
                info.pointee.record_count = Int64(i.recordCount)
                info.pointee.class_count = Int32(i.classCount)
                info.pointee.feature_ndim = Int32(i.featureShape.count)
                TensorView.setDims(&info.pointee.feature_shape, i.featureShape)
            }
        }
        t.read = { instance, start, count, features, labels, error in
            guarded(error) {
                let f = try TensorView.buffer(features, Float.self, dtype: MIA_DTYPE_F32, what: "read features")
                let l = try TensorView.buffer(labels, Int32.self, dtype: MIA_DTYPE_I32, what: "read labels")
                try unbox(instance, (any DatasetLoader).self).read(
                    start: Int(start), count: Int(count), features: f, labels: l)
            }
        }
        t.close = { instance in release(instance, (any DatasetLoader).self) }
        let p = UnsafeMutablePointer<mia_dataset_vtable_t>.allocate(capacity: 1)
        p.initialize(to: t)
        return UnsafePointer(p)
    }()
}

enum ModelBridge {
    // Safe to share: built once by Swift's thread-safe static initialisation, never written after.
    nonisolated(unsafe) static let table: UnsafePointer<mia_model_vtable_t> = {
        var t = mia_model_vtable_t()
        t.struct_size = UInt32(MemoryLayout<mia_model_vtable_t>.size)
        t.create = { _, _, _, _, error in needsNewerHost(error) }
        t.create_component = { args, spec, out, error in
            guarded(error) {
                let type = try componentType(args, \.modelType, "model")
                guard let spec else { throw PluginError(.invalidArgument, "model spec is null") }
                let s = ModelSpec(
                    featureShape: TensorView.dims(spec.pointee.feature_shape, spec.pointee.feature_ndim),
                    classCount: Int(spec.pointee.class_count))
                let model = try type.init(options: options(args), spec: s, host: HostServices(args?.pointee.host))
                out?.pointee = Unmanaged.passRetained(Box<any ModelBackend>(model)).toOpaque()
            }
        }
        t.train = { instance, args, error in
            guarded(error) {
                guard let a = args?.pointee else { throw PluginError(.invalidArgument, "train: null arguments") }
                let f = try TensorView.buffer(a.features, Float.self, dtype: MIA_DTYPE_F32, what: "training features")
                let l = try TensorView.buffer(a.labels, Int32.self, dtype: MIA_DTYPE_I32, what: "training labels")
                var hf: UnsafeBufferPointer<Float>?
                var hl: UnsafeBufferPointer<Int32>?
                if a.heldout_features != nil, a.heldout_labels != nil {
                    hf = UnsafeBufferPointer(
                        try TensorView.buffer(
                            a.heldout_features, Float.self, dtype: MIA_DTYPE_F32, what: "held-out features"))
                    hl = UnsafeBufferPointer(
                        try TensorView.buffer(
                            a.heldout_labels, Int32.self, dtype: MIA_DTYPE_I32, what: "held-out labels"))
                }
                var data = TrainingData(
                    features: UnsafeBufferPointer(f), labels: UnsafeBufferPointer(l), heldoutFeatures: hf,
                    heldoutLabels: hl,
                    seed: a.seed)
                // ABI 1.1 fields, read only when the host's struct covers them.
                if abiCovers(a.struct_size, \mia_train_args_t.auxiliary_labels), a.auxiliary_features != nil,
                    a.auxiliary_labels != nil
                {
                    data.auxiliaryFeatures = UnsafeBufferPointer(
                        try TensorView.buffer(
                            a.auxiliary_features, Float.self, dtype: MIA_DTYPE_F32, what: "auxiliary features"))
                    data.auxiliaryLabels = UnsafeBufferPointer(
                        try TensorView.buffer(
                            a.auxiliary_labels, Int32.self, dtype: MIA_DTYPE_I32, what: "auxiliary labels"))
                }
                if abiCovers(a.struct_size, \mia_train_args_t.on_checkpoint_context), let callback = a.on_checkpoint,
                    a.checkpoint_count > 0, let epochs = a.checkpoint_epochs
                {
                    data.checkpointEpochs = (0..<Int(a.checkpoint_count)).map { Int(epochs[$0]) }
                    let context = a.on_checkpoint_context
                    data.onCheckpoint = { epoch in
                        var e = mia_error_t()
                        let status = callback(context, Int32(epoch), &e)
                        if status != MIA_OK {
                            throw PluginError(
                                PluginStatus(rawValue: status) ?? .internal,
                                "the host stopped training at the checkpoint of epoch \(epoch): \(readMessage(&e))")
                        }
                    }
                }
                var canaryArgs: UnsafeMutablePointer<mia_gradient_canaries_t>?
                if abiCovers(a.struct_size, \mia_train_args_t.gradient_canaries), let c = a.gradient_canaries,
                    abiCovers(c.pointee.struct_size, \mia_gradient_canaries_t.out_inserted)
                {
                    canaryArgs = c
                    data.gradientCanaries = GradientCanaries.read(c)
                }
                defer { if let canaryArgs, let g = data.gradientCanaries { g.write(to: canaryArgs) } }
                // ABI 1.5: soft targets of a distillation student; `out_used` says the backend trained on them.
                var softArgs: UnsafeMutablePointer<mia_soft_targets_t>?
                if abiCovers(a.struct_size, \mia_train_args_t.soft_targets), let c = a.soft_targets,
                    abiCovers(c.pointee.struct_size, \mia_soft_targets_t.out_used)
                {
                    softArgs = c
                    data.softTargets = try TeacherTargets.read(c)
                }
                defer { if let softArgs, data.softTargets?.used == true { softArgs.pointee.out_used = 1 } }
                try unbox(instance, (any ModelBackend).self).train(data) { record in
                    guard let cb = a.on_epoch else { return }
                    var r = mia_epoch_record_t()
                    r.struct_size = UInt32(MemoryLayout<mia_epoch_record_t>.size)
                    r.epoch = Int32(record.epoch)
                    r.train_loss = record.trainLoss
                    r.train_accuracy = record.trainAccuracy
                    r.heldout_loss = record.heldoutLoss
                    r.heldout_accuracy = record.heldoutAccuracy
                    r.seconds = record.seconds
                    r.dp_epsilon = record.dpEpsilon ?? .nan
                    cb(a.on_epoch_context, &r)
                }
            }
        }
        t.predict = { instance, features, logits, error in
            guarded(error) {
                let f = try TensorView.buffer(features, Float.self, dtype: MIA_DTYPE_F32, what: "features")
                let o = try TensorView.buffer(logits, Float.self, dtype: MIA_DTYPE_F32, what: "logits")
                let count = Int(features!.pointee.shape.0)
                try unbox(instance, (any ModelBackend).self).predict(
                    features: UnsafeBufferPointer(f), count: count, into: o)
            }
        }
        t.save = { instance, path, error in
            guarded(error) { try unbox(instance, (any ModelBackend).self).save(to: string(path, "path")) }
        }
        t.load = { instance, path, error in
            guarded(error) { try unbox(instance, (any ModelBackend).self).load(from: string(path, "path")) }
        }
        t.destroy = { instance in release(instance, (any ModelBackend).self) }
        let p = UnsafeMutablePointer<mia_model_vtable_t>.allocate(capacity: 1)
        p.initialize(to: t)
        return UnsafePointer(p)
    }()
}

/// An attack instance with the host it was created with (for the query service).
struct AttackInstance {
    let attack: any AttackStrategy
    let host: HostServices
}

enum AttackBridge {
    // Safe to share: built once by Swift's thread-safe static initialisation, never written after.
    nonisolated(unsafe) static let table: UnsafePointer<mia_attack_vtable_t> = {
        var t = mia_attack_vtable_t()
        t.struct_size = UInt32(MemoryLayout<mia_attack_vtable_t>.size)
        t.create = { _, _, _, error in needsNewerHost(error) }
        t.create_component = { args, out, error in
            guarded(error) {
                let type = try componentType(args, \.attackType, "attack")
                let services = HostServices(args?.pointee.host)
                let attack = try type.init(options: options(args), host: services)
                out?.pointee = Unmanaged.passRetained(Box(AttackInstance(attack: attack, host: services))).toOpaque()
            }
        }
        t.requirements = { instance in
            (try? unbox(instance, AttackInstance.self).attack.requirements.rawValue) ?? 0
        }
        t.score = { instance, signals, scores, mask, error in
            guarded(error) {
                let a = try unbox(instance, AttackInstance.self)
                guard let s = signals?.pointee, let scores, let mask else {
                    throw PluginError(.invalidArgument, "score: null signals or outputs")
                }
                let n = Int(s.record_count), c = Int(s.class_count), r = Int(s.reference_count),
                    p = Int(s.population_count)
                guard let labels = view(s.labels, n), let logits = view(s.target_logits, n * c) else {
                    throw PluginError(.invalidArgument, "score: labels and target logits are required")
                }
                let (features, shape) = floatTensor(s.features)
                let (populationFeatures, _) = floatTensor(s.population_features)
                var swiftSignals = Signals(
                    recordCount: n, classCount: c, referenceCount: r, populationCount: p, labels: labels,
                    targetLogits: logits, referenceLogits: view(s.reference_logits, r * n * c),
                    referenceMembership: view(s.reference_membership, r * n),
                    populationLabels: view(s.population_labels, p),
                    populationTargetLogits: view(s.population_target_logits, p * c),
                    populationReferenceLogits: view(s.population_reference_logits, r * p * c),
                    targetMembership: view(s.target_membership, n), features: features,
                    populationFeatures: populationFeatures, featureShape: shape, seed: s.seed, query: a.host.query,
                    // ABI 1.1 field, read only when the host's struct covers it.
                    referenceMapped: abiCovers(s.struct_size, \mia_signals_t.flags)
                        && s.flags & UInt32(MIA_SIGNALS_REFERENCE_MAPPED) != 0,
                    threadCount: abiCovers(s.struct_size, \mia_signals_t.thread_count)
                        ? max(1, Int(s.thread_count)) : 1,
                    releasedProbabilities: abiCovers(s.struct_size, \mia_signals_t.flags)
                        && s.flags & UInt32(MIA_SIGNALS_RELEASED_PROBABILITIES) != 0)
                swiftSignals.readAugmentations(s)  // ABI 1.3
                swiftSignals.readCheckpoints(s)  // ABI 1.4
                let out = UnsafeMutableBufferPointer(start: scores, count: n)
                try a.attack.score(
                    swiftSignals, into: out, evaluationMask: UnsafeMutableBufferPointer(start: mask, count: n))
                if let bad = out.firstIndex(where: { !$0.isFinite }) {
                    throw PluginError(.internal, "score of record \(bad) is not finite (\(out[bad]))")
                }
            }
        }
        t.destroy = { instance in release(instance, AttackInstance.self) }
        let p = UnsafeMutablePointer<mia_attack_vtable_t>.allocate(capacity: 1)
        p.initialize(to: t)
        return UnsafePointer(p)
    }()
}
