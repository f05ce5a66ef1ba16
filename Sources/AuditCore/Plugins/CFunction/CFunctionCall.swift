import CFFI
import Foundation
import PluginABI
import PluginKit

/// A call to a `c_function` attack's C function, built at run time with libffi from the
/// signature the config declares: `ffi_prep_cif` once, then `ffi_call` once per audit record.
///
/// Owns the call interface, one argument slot per parameter, and the scratch rows it gathers a
/// record's reference models into (the signals hold them as [R, N, C]; the function gets [R, C]).
/// One instance is used by one thread at a time.
final class CFunctionCall {
    let spec: CFunctionSpec
    private let function: @convention(c) () -> Void
    private var cif = ffi_cif()
    private let argumentTypes: UnsafeMutablePointer<UnsafeMutablePointer<ffi_type>?>
    /// 16 bytes per parameter: the value of each argument (a pointer argument holds the pointer).
    private let slots: UnsafeMutableRawPointer
    private let argumentPointers: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    private let result = UnsafeMutableRawPointer.allocate(byteCount: 16, alignment: 16)

    /// Loads the library, finds the symbol and prepares the call interface.
    ///
    /// - Throws: `PluginError(.invalidArgument)` when the library or symbol cannot be found or
    ///   libffi refuses the signature.
    init(_ spec: CFunctionSpec) throws {
        self.spec = spec
        guard let handle = dlopen(spec.library, RTLD_NOW | RTLD_LOCAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown dlopen error"
            throw PluginError(.invalidArgument, "cannot load `\(spec.library)`: \(reason)")
        }
        guard let symbol = dlsym(handle, spec.symbol) else {
            throw PluginError(.invalidArgument, "`\(spec.library)` exports no symbol `\(spec.symbol)`")
        }
        function = unsafeBitCast(symbol, to: (@convention(c) () -> Void).self)
        let n = spec.parameters.count
        argumentTypes = .allocate(capacity: n)
        slots = .allocate(byteCount: 16 * n, alignment: 16)
        slots.initializeMemory(as: UInt8.self, repeating: 0, count: 16 * n)
        argumentPointers = .allocate(capacity: n)
        for (i, p) in spec.parameters.enumerated() {
            argumentTypes[i] = Self.ffiType(p.type)
            argumentPointers[i] = slots + 16 * i
            if let v = p.value { Self.store(v, as: p.type, at: slots + 16 * i) }
        }
        let status = ffi_prep_cif(&cif, mia_ffi_default_abi(), UInt32(n), Self.ffiType(spec.returns), argumentTypes)
        guard status == FFI_OK else {
            throw PluginError(
                .invalidArgument,
                "libffi cannot build a call to \(spec.prototype) (ffi_prep_cif status \(status.rawValue))")
        }
    }

    deinit {
        argumentTypes.deallocate()
        slots.deallocate()
        argumentPointers.deallocate()
        result.deallocate()
    }

    static func ffiType(_ type: CType) -> UnsafeMutablePointer<ffi_type> {
        switch type {
        case .floatPointer, .doublePointer, .int32Pointer, .uint8Pointer: mia_ffi_type_pointer()
        case .int32: mia_ffi_type_sint32()
        case .int64: mia_ffi_type_sint64()
        case .float: mia_ffi_type_float()
        case .double: mia_ffi_type_double()
        }
    }

    /// Writes a scalar argument of `type` (an integer role or a constant).
    static func store(_ value: Double, as type: CType, at slot: UnsafeMutableRawPointer) {
        switch type {
        case .int32: slot.storeBytes(of: Int32(value), as: Int32.self)
        case .int64: slot.storeBytes(of: Int64(value), as: Int64.self)
        case .float: slot.storeBytes(of: Float(value), as: Float.self)
        case .double: slot.storeBytes(of: value, as: Double.self)
        default: preconditionFailure("not a scalar type: \(type)")
        }
    }

    static func store(_ value: Int, as type: CType, at slot: UnsafeMutableRawPointer) {
        switch type {
        case .int32: slot.storeBytes(of: Int32(truncatingIfNeeded: value), as: Int32.self)
        case .int64: slot.storeBytes(of: Int64(value), as: Int64.self)
        default: preconditionFailure("not an integer type: \(type)")
        }
    }

    /// What the attack needs from the host, from the roles its function takes.
    var requirements: AttackRequirements {
        var r: AttackRequirements = []
        if spec.takes(.referenceLogits) || spec.takes(.referenceMembership) { r.insert(.referenceModels) }
        if spec.takes(.populationLogits) || spec.takes(.populationLabels) { r.insert(.population) }
        return r
    }

    /// Calls the function once per audit record of `signals`, writing its results to `scores`.
    ///
    /// - Throws: `PluginError(.invalidArgument)` when the signals lack an array a role needs, or
    ///   `PluginError(.internal)` naming the record when the function returns a non-finite score.
    func score(_ signals: mia_signals_t, into scores: UnsafeMutablePointer<Double>) throws {
        let n = Int(signals.record_count), c = Int(signals.class_count)
        let r = Int(signals.reference_count), population = Int(signals.population_count)
        func need<T>(_ pointer: UnsafePointer<T>?, _ what: String) throws -> UnsafePointer<T> {
            guard let pointer else { throw PluginError(.invalidArgument, "the host gave no \(what)") }
            return pointer
        }
        // Arrays passed whole (float) or converted once (double); per-record rows are set below.
        var keep: [UnsafeMutableRawPointer] = []
        defer { keep.forEach { $0.deallocate() } }
        func scratch(_ bytes: Int) -> UnsafeMutableRawPointer {
            let p = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 8), alignment: 16)
            keep.append(p)
            return p
        }
        func converted(_ source: UnsafePointer<Float>, _ count: Int) -> UnsafeRawPointer {
            let d = scratch(8 * count).bindMemory(to: Double.self, capacity: count)
            for k in 0..<count { d[k] = Double(source[k]) }
            return UnsafeRawPointer(d)
        }
        let labels = try need(signals.labels, "labels")
        let logits = try need(signals.target_logits, "target logits")
        var perRecord: [(slot: UnsafeMutableRawPointer, role: CRole, type: CType, buffer: UnsafeMutableRawPointer?)] =
            []
        for (i, p) in spec.parameters.enumerated() {
            let slot = slots + 16 * i
            switch p.role {
            case .constant: break
            case .classes: Self.store(c, as: p.type, at: slot)
            case .referenceCount: Self.store(r, as: p.type, at: slot)
            case .populationCount: Self.store(population, as: p.type, at: slot)
            case .populationLogits:
                let all = try need(signals.population_target_logits, "population logits")
                let pointer = p.type == .floatPointer ? UnsafeRawPointer(all) : converted(all, population * c)
                slot.storeBytes(of: pointer, as: UnsafeRawPointer.self)
            case .populationLabels:
                slot.storeBytes(
                    of: UnsafeRawPointer(try need(signals.population_labels, "population labels")),
                    as: UnsafeRawPointer.self)
            case .label, .index:
                perRecord.append((slot, p.role, p.type, nil))
            case .logits:
                perRecord.append((slot, p.role, p.type, p.type == .doublePointer ? scratch(8 * c) : nil))
            case .referenceLogits:
                _ = try need(signals.reference_logits, "reference logits")
                perRecord.append((slot, p.role, p.type, scratch((p.type == .doublePointer ? 8 : 4) * r * c)))
            case .referenceMembership:
                _ = try need(signals.reference_membership, "reference membership")
                perRecord.append((slot, p.role, p.type, scratch((p.type == .int32Pointer ? 4 : 1) * r)))
            }
        }
        for record in 0..<n {
            for a in perRecord {
                switch a.role {
                case .label: Self.store(Int(labels[record]), as: a.type, at: a.slot)
                case .index: Self.store(record, as: a.type, at: a.slot)
                case .logits:
                    let row = logits + record * c
                    if let b = a.buffer {
                        let d = b.assumingMemoryBound(to: Double.self)
                        for k in 0..<c { d[k] = Double(row[k]) }
                        a.slot.storeBytes(of: UnsafeRawPointer(b), as: UnsafeRawPointer.self)
                    } else {
                        a.slot.storeBytes(of: UnsafeRawPointer(row), as: UnsafeRawPointer.self)
                    }
                case .referenceLogits:
                    let all = signals.reference_logits!, b = a.buffer!
                    for m in 0..<r {
                        let row = all + (m * n + record) * c
                        if a.type == .floatPointer {
                            (b.assumingMemoryBound(to: Float.self) + m * c).update(from: row, count: c)
                        } else {
                            let d = b.assumingMemoryBound(to: Double.self) + m * c
                            for k in 0..<c { d[k] = Double(row[k]) }
                        }
                    }
                    a.slot.storeBytes(of: UnsafeRawPointer(b), as: UnsafeRawPointer.self)
                case .referenceMembership:
                    let all = signals.reference_membership!, b = a.buffer!
                    for m in 0..<r {
                        let v = all[m * n + record]
                        if a.type == .int32Pointer {
                            b.assumingMemoryBound(to: Int32.self)[m] = Int32(v)
                        } else {
                            b.assumingMemoryBound(to: UInt8.self)[m] = v
                        }
                    }
                    a.slot.storeBytes(of: UnsafeRawPointer(b), as: UnsafeRawPointer.self)
                default: break
                }
            }
            ffi_call(&cif, function, result, argumentPointers)
            let score = spec.returns == .float ? Double(result.load(as: Float.self)) : result.load(as: Double.self)
            guard score.isFinite else {
                throw PluginError(
                    .internal,
                    "`\(spec.symbol)` returned \(score) for record \(record) (label \(labels[record])); a score must be finite"
                )
            }
            scores[record] = score
        }
    }
}
