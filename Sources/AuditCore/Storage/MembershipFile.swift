import Foundation

/// How a membership file is read: as a 0/1 mask over the N audit records, or as a list of member
/// indices. Never guessed from the values: a mask with one bad value must not turn into a list
/// of indices (issue 13).
///
/// The format is the config's `membership_format` (`mask` or `indices`) when given; otherwise
/// it follows from the file: a `.npy` of bool or uint8 is a mask, a `.npy` of int32 or int64 is
/// a list of indices, a text file is a list of indices (one per line, `#` comments). A signals
/// folder's own `target_membership.npy` is always a mask (the layout of a run's `signals/`).
enum MembershipFormat: String, CaseIterable, Sendable {
    case mask
    case indices
}

/// Reads a membership file strictly. A mask must have exactly N entries, each 0 or 1 (or bool);
/// an index list must hold distinct indices in [0, N). Anything else is refused with the file
/// and the first bad entry.
enum MembershipFile {
    /// The members among `count` records, read from `path` in `format` (nil: from the file type,
    /// as `MembershipFormat` describes).
    static func read(_ path: String, count: Int, format declared: MembershipFormat? = nil) throws -> [Bool] {
        let isNpy = path.hasSuffix(".npy")
        if !isNpy {
            if declared == .mask {
                throw NpyError(
                    path: path,
                    message: "`membership_format: mask` needs a `.npy` file; a text file is a list of member indices")
            }
            return try mask(fromIndices: try textIndices(path), count: count, path: path)
        }
        let descr = try NpyAny.descr(path)
        let format = declared ?? (["|u1", "|b1"].contains(descr) ? .mask : .indices)
        let (values, shape) = try wideInts(path, descr: descr)
        guard shape.count == 1 else {
            throw NpyError(path: path, message: "membership must be one-dimensional, is \(shape)")
        }
        switch format {
        case .mask: return try mask(values, count: count, path: path)
        case .indices: return try mask(fromIndices: values, count: count, path: path)
        }
    }

    /// A 0/1 mask of exactly `count` entries.
    static func mask(_ values: [Int64], count: Int, path: String) throws -> [Bool] {
        guard values.count == count else {
            throw NpyError(
                path: path,
                message: "a membership mask must have one entry per audit record (\(count)), has \(values.count)")
        }
        if let bad = values.firstIndex(where: { $0 != 0 && $0 != 1 }) {
            throw NpyError(
                path: path, message: "entry \(bad) of the membership mask is \(values[bad]); a mask holds only 0 and 1")
        }
        return values.map { $0 == 1 }
    }

    /// A list of distinct member indices in [0, count).
    static func mask(fromIndices indices: [Int64], count: Int, path: String) throws -> [Bool] {
        var m = [Bool](repeating: false, count: count)
        var firstAt = [Int64: Int]()
        for (k, i) in indices.enumerated() {
            guard i >= 0 && i < Int64(count) else {
                throw NpyError(
                    path: path,
                    message: "entry \(k): member index \(i) is outside the \(count) audit records"
                        + (indices.allSatisfy { $0 == 0 || $0 == 1 } ? hint : ""))
            }
            if m[Int(i)] {
                throw NpyError(
                    path: path,
                    message: "entry \(k): member index \(i) appears twice (first at entry \(firstAt[i] ?? 0))"
                        + (indices.allSatisfy { $0 == 0 || $0 == 1 } ? hint : ""))
            }
            m[Int(i)] = true
            firstAt[i] = k
        }
        return m
    }

    private static let hint = "; if this file is a 0/1 mask, save it as bool or uint8, or set `membership_format: mask`"

    /// Indices of a text file, one per line; blank lines and `#` comments are skipped.
    static func textIndices(_ path: String) throws -> [Int64] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw NpyError(path: path, message: "cannot read the membership file")
        }
        var indices: [Int64] = []
        for (k, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.isEmpty || t.hasPrefix("#") { continue }
            guard let i = Int64(t) else {
                throw NpyError(path: "\(path):\(k + 1)", message: "`\(t)` is not a record index")
            }
            indices.append(i)
        }
        return indices
    }

    /// Every integer or bool `.npy` array as Int64, without clamping.
    static func wideInts(_ path: String, descr: String) throws -> ([Int64], [Int]) {
        switch descr {
        case "<i8": return try Npy.read(Int64.self, from: path)
        case "<i4":
            let (v, s) = try Npy.read(Int32.self, from: path)
            return (v.map(Int64.init), s)
        case "|u1", "|b1":
            let (v, s) = try Npy.read(UInt8.self, from: path, accepting: ["|u1", "|b1"])
            return (v.map(Int64.init), s)
        default:
            throw NpyError(path: path, message: "must hold integers (int32, int64, uint8 or bool), holds `\(descr)`")
        }
    }
}
