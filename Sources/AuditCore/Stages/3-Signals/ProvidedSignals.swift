import Foundation

/// Signals computed elsewhere (bring your own signals): a folder of `.npy` files in the layout of
/// a run's `signals/`, checked for names, types and shapes before any attack runs.
///
/// Required: `labels.npy` [N] (integers), `target_logits.npy` [N, C] (floats), and the target's
/// membership, either `target_membership.npy` [N] (0/1 or bool) or the config's
/// `signals.membership` file (a `.npy` mask or index list, or a text file of indices, one per
/// line). Optional, in pairs: `reference_logits.npy` [R, N, C] with
/// `reference_membership.npy` [R, N]; `population_labels.npy` [P] with
/// `population_target_logits.npy` [P, C] (and `population_reference_logits.npy` [R, P, C] when
/// there are reference models). float64 and int64 arrays are accepted and converted.
///
/// The reference logits are not read into memory: little-endian float32 C-order files are
/// mapped read-only in place; float64 ones are converted block by block into the run's
/// `signals/` when the run writes it (`SignalsStage.write`), and mapped from there.
public struct ProvidedSignals {
    var signals: SignalSet
    var membership: [Bool]
    var referenceMembership: [[Bool]]
    /// SHA-256 of the membership file, recorded in the run.
    var membershipHash: String
    var folder: String

    /// Whether every audit record is IN at least one reference model (online attacks).
    var everyRecordIn: Bool {
        guard !referenceMembership.isEmpty else { return false }
        return (0..<signals.recordCount).allSatisfy { i in referenceMembership.contains { $0[i] } }
    }

    static func load(_ choice: SignalsChoice) throws -> ProvidedSignals {
        let dir = choice.path
        func path(_ name: String) -> String { (dir as NSString).appendingPathComponent(name) }
        func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: path(name)) }
        func fail(_ message: String) -> ConfigError { choice.node.error(message) }

        let (labels, ls) = try NpyAny.ints(path("labels.npy"))
        guard ls.count == 1 else { throw fail("labels.npy must be [N], is \(ls)") }
        let n = ls[0]
        let (logits, ts) = try NpyAny.floats(path("target_logits.npy"))
        guard ts.count == 2, ts[0] == n, ts[1] >= 2 else {
            throw fail("target_logits.npy must be [\(n), C] with C ≥ 2, is \(ts)")
        }
        let c = ts[1]
        if let bad = labels.firstIndex(where: { $0 < 0 || Int($0) >= c }) {
            throw fail("labels.npy: record \(bad) has label \(labels[bad]), outside [0, \(c))")
        }

        let membershipPath = choice.membership ?? path("target_membership.npy")
        guard FileManager.default.fileExists(atPath: membershipPath) else {
            throw fail("no target membership: give target_membership.npy in the folder or `signals.membership`")
        }
        // The folder's own target_membership.npy is a mask; a `signals.membership` file is read
        // in its declared format (`MembershipFile`).
        let membership = try MembershipFile.read(
            membershipPath, count: n, format: choice.membership == nil ? .mask : choice.membershipFormat)
        guard membership.contains(true), membership.contains(false) else {
            throw fail("\(membershipPath): the target membership must hold both members and non-members")
        }

        var r = 0
        var referenceLogits = SignalArray([])
        var referenceMembership: [[Bool]] = []
        var membershipBytes: [UInt8] = []
        if exists("reference_logits.npy") || exists("reference_membership.npy") {
            let (rl, rs) = try NpyAny.largeFloats(path("reference_logits.npy"))
            guard rs.count == 3, rs[1] == n, rs[2] == c else {
                throw fail("reference_logits.npy must be [R, \(n), \(c)], is \(rs)")
            }
            r = rs[0]
            let (rm, ms) = try NpyAny.mask(path("reference_membership.npy"))
            guard ms == [r, n] else { throw fail("reference_membership.npy must be [\(r), \(n)], is \(ms)") }
            referenceLogits = rl
            membershipBytes = rm
            referenceMembership = (0..<r).map { k in (0..<n).map { rm[k * n + $0] != 0 } }
        }
        var p = 0
        var populationLabels: [Int32] = [], populationTarget: [Float] = [], populationReference = SignalArray([])
        if exists("population_labels.npy") || exists("population_target_logits.npy") {
            let (pl, ps) = try NpyAny.ints(path("population_labels.npy"))
            guard ps.count == 1 else { throw fail("population_labels.npy must be [P], is \(ps)") }
            p = ps[0]
            let (pt, pts) = try NpyAny.floats(path("population_target_logits.npy"))
            guard pts == [p, c] else { throw fail("population_target_logits.npy must be [\(p), \(c)], is \(pts)") }
            populationLabels = pl
            populationTarget = pt
            if r > 0 {
                let (pr, prs) = try NpyAny.largeFloats(path("population_reference_logits.npy"))
                guard prs == [r, p, c] else {
                    throw fail("population_reference_logits.npy must be [\(r), \(p), \(c)], is \(prs)")
                }
                populationReference = pr
            }
        }
        // The signals' identity (for reusing attack scores): every file they were read from,
        // hashed block by block (the reference files can exceed memory).
        var key = SHA256()
        for file in [membershipPath] + Self.files.map(path).filter({ FileManager.default.fileExists(atPath: $0) }) {
            let digest = SHA256.hex(contentsOf: file) ?? "unreadable"
            key.update("\((file as NSString).lastPathComponent)=\(digest)\n")
        }
        let set = SignalSet(
            classCount: c, labels: labels, targetLogits: logits, targetMembership: membership.map { $0 ? 1 : 0 },
            referenceCount: r, referenceLogits: referenceLogits, referenceMembership: membershipBytes,
            populationLabels: populationLabels, populationTargetLogits: populationTarget,
            populationReferenceLogits: populationReference,
            key: "provided:" + key.hexDigest())
        return ProvidedSignals(
            signals: set, membership: membership, referenceMembership: referenceMembership,
            membershipHash: SHA256.hex(contentsOf: membershipPath) ?? "unreadable", folder: dir)
    }

    /// The signal files a folder may hold.
    static let files = [
        "labels.npy", "target_logits.npy", "target_membership.npy", "reference_logits.npy", "reference_membership.npy",
        "population_labels.npy", "population_target_logits.npy", "population_reference_logits.npy",
    ]
}

/// Reading `.npy` arrays a user made with NumPy, whatever the integer or float width.
enum NpyAny {
    static func descr(_ path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw NpyError(path: path, message: "cannot read the file")
        }
        defer { try? handle.close() }
        let head = String(decoding: handle.readData(ofLength: 256), as: UTF8.self)
        guard let r = head.range(of: "'descr': '") else { throw NpyError(path: path, message: "not a .npy file") }
        return String(head[r.upperBound...].prefix { $0 != "'" })
    }

    static func floats(_ path: String) throws -> ([Float], [Int]) {
        switch try descr(path) {
        case "<f4": return try Npy.read(Float.self, from: path)
        case "<f8":
            let (v, s) = try Npy.read(Double.self, from: path)
            return (v.map { Float($0) }, s)
        case let d: throw NpyError(path: path, message: "must hold float32 or float64 values, holds `\(d)`")
        }
    }

    /// A large float array ([R, N, C] reference logits): float32 mapped in place; float64
    /// checked (header and size) and left for conversion when the run writes its signals.
    static func largeFloats(_ path: String) throws -> (SignalArray, [Int]) {
        let m = try NpyMapping(path: path)
        switch m.header.descr {
        case "<f4":
            _ = try m.buffer(Float.self)
            return (SignalArray(mapping: m), m.header.shape)
        case "<f8":
            _ = try m.buffer(Double.self)
            return (SignalArray(storage: .float64File(path, count: m.header.count)), m.header.shape)
        case let d: throw NpyError(path: path, message: "must hold float32 or float64 values, holds `\(d)`")
        }
    }

    /// A 0/1 mask of any integer or bool type, as bytes (1 = member), in one pass over the file.
    /// Any other value is refused with its flat index.
    static func mask(_ path: String) throws -> ([UInt8], [Int]) {
        let m = try NpyMapping(path: path)
        func strict<T: BinaryInteger>(_ b: UnsafeBufferPointer<T>) throws -> [UInt8] {
            if let bad = b.firstIndex(where: { $0 != 0 && $0 != 1 }) {
                throw NpyError(
                    path: path, message: "entry \(bad) (flat index) is \(b[bad]); a membership mask holds only 0 and 1")
            }
            return b.map { UInt8($0) }
        }
        switch m.header.descr {
        case "|u1", "|b1": return (try strict(try m.buffer(UInt8.self, accepting: ["|u1", "|b1"])), m.header.shape)
        case "<i4": return (try strict(try m.buffer(Int32.self)), m.header.shape)
        case "<i8": return (try strict(try m.buffer(Int64.self)), m.header.shape)
        case let d:
            throw NpyError(path: path, message: "must hold integers (int32, int64, uint8 or bool), holds `\(d)`")
        }
    }

    static func ints(_ path: String) throws -> ([Int32], [Int]) {
        switch try descr(path) {
        case "<i4": return try Npy.read(Int32.self, from: path)
        case "<i8":
            let (v, s) = try Npy.read(Int64.self, from: path)
            return (v.map { Int32(clamping: $0) }, s)
        case "|u1", "|b1":
            let (v, s) = try Npy.read(UInt8.self, from: path, accepting: ["|u1", "|b1"])
            return (v.map { Int32($0) }, s)
        case let d:
            throw NpyError(path: path, message: "must hold integers (int32, int64, uint8 or bool), holds `\(d)`")
        }
    }
}
