import Foundation

/// A float array of the signals: held in memory, or lent in place from a mapped `.npy` file
/// (reference logits at scale: [R, N, C] f32 of hundreds of models), or, until the run
/// converts it, a `.npy` file of float64 values.
struct SignalArray {
    enum Storage {
        case memory([Float])
        case mapped(NpyMapping)
        /// A float64 `.npy` file that `SignalsStage.write` converts into the run folder (and maps).
        case float64File(String, count: Int)
    }

    var storage: Storage

    init(_ values: [Float]) { storage = .memory(values) }
    init(mapping: NpyMapping) { storage = .mapped(mapping) }
    init(storage: Storage) { self.storage = storage }

    /// Maps the little-endian float32 C-order `.npy` file at `path`.
    static func mapping(_ path: String) throws -> SignalArray {
        let m = try NpyMapping(path: path)
        _ = try m.buffer(Float.self)
        return SignalArray(mapping: m)
    }

    var count: Int {
        switch storage {
        case .memory(let v): v.count
        case .mapped(let m): m.header.count
        case .float64File(_, let count): count
        }
    }

    var isEmpty: Bool { count == 0 }

    /// Whether the values are a read-only file mapping.
    var isMapped: Bool {
        if case .mapped = storage { return true }
        return false
    }

    /// The mapped file, if any.
    var mapping: NpyMapping? {
        if case .mapped(let m) = storage { return m }
        return nil
    }

    /// Lends the values in place. A `float64File` not yet converted is a programming error.
    func withUnsafeBufferPointer<T>(_ body: (UnsafeBufferPointer<Float>) throws -> T) rethrows -> T {
        switch storage {
        case .memory(let v): return try v.withUnsafeBufferPointer(body)
        case .mapped(let m): return try body(try! m.buffer(Float.self))  // checked when mapped
        case .float64File(let path, _): preconditionFailure("\(path) is used before its conversion to float32")
        }
    }

    /// A copy of the values in memory (for small arrays and tests).
    var values: [Float] { withUnsafeBufferPointer { Array($0) } }

    /// Drops the resident pages of elements `range` (mapped arrays only; a no-op otherwise).
    func release(_ range: Range<Int>) {
        mapping?.release(payloadBytes: (range.lowerBound * 4)..<(range.upperBound * 4))
    }

    /// Drops every resident page (mapped arrays only).
    func releaseAll() { mapping?.releaseAll() }

    /// Calls `body` with consecutive blocks of about `blockBytes` of the values, releasing each
    /// block's pages after it when mapped: bounded resident memory for a pass over the array.
    func forEachBlock(
        blockBytes: Int = 8 << 20, rowLength: Int = 1, _ body: (UnsafeBufferPointer<Float>) throws -> Void
    ) rethrows {
        let rows = max(1, blockBytes / max(1, rowLength * 4))
        let step = rows * max(1, rowLength)
        try withUnsafeBufferPointer { all in
            var start = 0
            while start < all.count {
                let end = min(all.count, start + step)
                try body(UnsafeBufferPointer(rebasing: all[start..<end]))
                release(start..<end)
                start = end
            }
        }
    }
}
