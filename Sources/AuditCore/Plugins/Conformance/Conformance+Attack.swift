import Foundation
import PluginABI
import PluginKit

/// Signals of a small made-up audit, holding every array an attack may ask for: N records,
/// C classes, R reference models (each record IN half of them), P population records.
/// Owns its arrays; `withSignals` lends them as a `mia_signals_t`.
struct CheckSignals {
    static let n = 48, c = 4, r = 4, p = 24, featureSize = 3
    var labels: [Int32]
    var logits: [Float]
    var referenceLogits: [Float]
    var referenceMembership: [UInt8]
    var populationLabels: [Int32]
    var populationLogits: [Float]
    var populationReferenceLogits: [Float]
    var targetMembership: [UInt8]
    var features: [Float]
    var populationFeatures: [Float]
    /// Epochs 1...3 of every model, lent only when `lendsCheckpoints` (an attack asked with
    /// `MIA_NEEDS_CHECKPOINTS`, as the host does).
    var checkpointEpochs: [Int32] = [1, 2, 3]
    var checkpointTargetLogits: [Float]
    var checkpointReferenceLogits: [Float]
    var lendsCheckpoints = false

    init() {
        let n = Self.n, c = Self.c, r = Self.r, p = Self.p
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Float {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(state >> 40) / Float(1 << 24) * 6 - 3
        }
        labels = (0..<n).map { Int32($0 % c) }
        logits = (0..<n * c).map { _ in next() }
        referenceLogits = (0..<r * n * c).map { _ in next() }
        referenceMembership = (0..<r * n).map { UInt8(($0 / n + $0 % n) % 2) }
        populationLabels = (0..<p).map { Int32($0 % c) }
        populationLogits = (0..<p * c).map { _ in next() }
        populationReferenceLogits = (0..<r * p * c).map { _ in next() }
        targetMembership = (0..<n).map { UInt8($0 % 2) }
        features = (0..<n * Self.featureSize).map { _ in next() }
        populationFeatures = (0..<p * Self.featureSize).map { _ in next() }
        checkpointTargetLogits = (0..<3 * n * c).map { _ in next() }
        checkpointReferenceLogits = (0..<3 * r * n * c).map { _ in next() }
    }

    /// Lends every array as a `mia_signals_t` (flags 0, one thread) for `body`.
    func withSignals<R>(seed: UInt64, _ body: (UnsafePointer<mia_signals_t>) throws -> R) rethrows -> R {
        try labels.withUnsafeBufferPointer { l in
            try logits.withUnsafeBufferPointer { t in
                try referenceLogits.withUnsafeBufferPointer { rl in
                    try referenceMembership.withUnsafeBufferPointer { rm in
                        try populationLabels.withUnsafeBufferPointer { pl in
                            try populationLogits.withUnsafeBufferPointer { pt in
                                try populationReferenceLogits.withUnsafeBufferPointer { pr in
                                    try targetMembership.withUnsafeBufferPointer { tm in
                                        try features.withUnsafeBufferPointer { f in
                                            try populationFeatures.withUnsafeBufferPointer { pf in
                                                try checkpointEpochs.withUnsafeBufferPointer { ce in
                                                    try checkpointTargetLogits.withUnsafeBufferPointer { ct in
                                                        try checkpointReferenceLogits.withUnsafeBufferPointer { cr in
                                                            var ft = TensorView.make(
                                                                UnsafeMutableRawPointer(mutating: f.baseAddress!),
                                                                dtype: MIA_DTYPE_F32, shape: [Self.n, Self.featureSize])
                                                            var pft = TensorView.make(
                                                                UnsafeMutableRawPointer(mutating: pf.baseAddress!),
                                                                dtype: MIA_DTYPE_F32, shape: [Self.p, Self.featureSize])
                                                            return try withUnsafePointer(to: &ft) { ftp in
                                                                try withUnsafePointer(to: &pft) { pftp in
                                                                    var s = mia_signals_t()
                                                                    s.struct_size = UInt32(
                                                                        MemoryLayout<mia_signals_t>.size)
                                                                    s.record_count = Int64(Self.n)
                                                                    s.class_count = Int32(Self.c)
                                                                    s.reference_count = Int32(Self.r)
                                                                    s.population_count = Int64(Self.p)
                                                                    s.labels = l.baseAddress
                                                                    s.target_logits = t.baseAddress
                                                                    s.reference_logits = rl.baseAddress
                                                                    s.reference_membership = rm.baseAddress
                                                                    s.population_labels = pl.baseAddress
                                                                    s.population_target_logits = pt.baseAddress
                                                                    s.population_reference_logits = pr.baseAddress
                                                                    s.target_membership = tm.baseAddress
                                                                    s.features = ftp
                                                                    s.population_features = pftp
                                                                    s.seed = seed
                                                                    s.thread_count = 1
                                                                    if lendsCheckpoints {
                                                                        s.checkpoint_count = Int32(ce.count)
                                                                        s.checkpoint_epochs = ce.baseAddress
                                                                        s.checkpoint_target_logits = ct.baseAddress
                                                                        s.checkpoint_reference_logits = cr.baseAddress
                                                                    }
                                                                    return try body(&s)
                                                                }
                                                            }
                                                        }
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

extension ConformanceCheck {
    func checkAttack(_ c: ComponentInfo) {
        guard let base = baseOptions(c) else { return }
        let json = Self.json(base)
        announce("create(\(json))")
        let attack: DynamicAttack
        do {
            attack = try DynamicAttack(c, optionsJSON: json, bridge: bridge())
            record("create(\(json))", .ok, "")
        } catch {
            record("create(\(json))", .violation, "refused its own defaults: \(PluginError.from(error).message)")
            return
        }
        checkBadOptions(c, base, "create") { _ = try DynamicAttack(c, optionsJSON: $0, bridge: bridge()) }
        record("destroy(NULL) after each failed create", .ok, "")

        announce("requirements")
        let needs = attack.requirements
        record(
            "requirements", .ok,
            needs.names.isEmpty ? "needs nothing beyond the target's logits" : needs.names.joined(separator: ", "))
        guard !needs.contains(.queryAccess) else {
            record("score", .skipped, "the attack queries the target; the check offers no query service")
            return
        }
        var signals = CheckSignals()
        signals.lendsCheckpoints = needs.contains(.checkpoints)
        func score(_ instance: DynamicAttack, _ s: CheckSignals, _ call: String) throws -> [Double] {
            announce(call)
            return try s.withSignals(seed: 11) { try instance.score($0, queries: nil).scores }
        }
        let first: [Double]
        do {
            first = try score(attack, signals, "score")
            record("score", .ok, "\(first.count) finite scores")
        } catch {
            record("score", .violation, "failed on well-formed signals: \(PluginError.from(error).message)")
            return
        }
        compare("score again, same instance", first, { try score(attack, signals, "score again, same instance") })
        compare(
            "score, new instance", first,
            {
                try score(try DynamicAttack(c, optionsJSON: json, bridge: bridge()), signals, "score, new instance")
            })

        var nan = signals
        nan.logits[0] = .nan
        nan.logits[CheckSignals.c + 1] = .infinity
        odd("score with NaN and infinite logits (records 0, 1)", attack, nan, score)
        var outOfRange = signals
        outOfRange.labels[0] = Int32(CheckSignals.c)
        outOfRange.labels[1] = -1
        odd(
            "score with labels \(CheckSignals.c) and -1 (records 0, 1), outside [0, \(CheckSignals.c))", attack,
            outOfRange, score)
    }

    /// Runs `again` and records whether it gives exactly `first`.
    func compare(_ call: String, _ first: [Double], _ again: () throws -> [Double]) {
        do {
            let second = try again()
            if let i = zip(first, second).enumerated().first(where: {
                $0.element.0.bitPattern != $0.element.1.bitPattern
            })?.offset {
                record(
                    call, .violation, "record \(i) scored \(second[i]), before \(first[i]) (same signals, same seed)")
            } else {
                record(call, .ok, "identical scores")
            }
        } catch {
            record(call, .violation, "failed, where the same call succeeded before: \(PluginError.from(error).message)")
        }
    }

    /// Scores signals out of contract: a refusal with a message, or finite scores, keep it.
    func odd(
        _ call: String, _ attack: DynamicAttack, _ signals: CheckSignals,
        _ score: (DynamicAttack, CheckSignals, String) throws -> [Double]
    ) {
        do {
            _ = try score(attack, signals, call)
            record(call, .ok, "handled: finite scores")
        } catch {
            let e = PluginError.from(error)
            // `DynamicAttack.score` turns a non-finite score the plugin returned with MIA_OK into
            // this error; a plugin's own refusal carries the origin "... failed in score".
            if e.message.hasPrefix("score of record") && !(e.origin ?? "").contains("failed in score") {
                record(
                    call, .violation,
                    "returned MIA_OK with a non-finite score (\(e.message)); refuse the input or handle it")
            } else {
                refused(call, error)
            }
        }
    }
}
