import Foundation

/// Answers of one prediction API kept on disk, so a rerun queries nothing it already asked.
///
/// One append-only file per (url, response shape, class count): a text line naming them, then
/// records of a 16-byte key (a 128-bit hash of the record's feature bytes) and the record's
/// `classCount` float32 logits. Records are appended a batch at a time with one `write` on an
/// `O_APPEND` descriptor; a torn last record (a crash mid-write) is ignored when the file is read.
final class QueryCache {
    let path: String
    let classCount: Int
    private var entries: [Key128: [Float]] = [:]
    private let lock = NSLock()
    private let fd: Int32

    struct Key128: Hashable {
        let a: UInt64, b: UInt64
    }

    init(folder: String, url: String, shape: ResponseShape, classCount: Int) throws {
        self.classCount = classCount
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let identity = "mia-http-cache/1 \(shape.rawValue) \(classCount) \(url)"
        let bytes = Array(identity.utf8)
        let h = bytes.withUnsafeBytes { QueryCache.hash($0) }
        path = folder + "/" + String(format: "%016llx%016llx", h.a, h.b) + ".cache"
        let headerLine = Array((identity + "\n").utf8)
        let recordSize = 16 + 4 * classCount
        var loaded: [Key128: [Float]] = [:]
        if let data = FileManager.default.contents(atPath: path) {
            let all = [UInt8](data)
            guard all.starts(with: headerLine) else {
                throw ShapeError(
                    "`\(path)` is not the query cache of \(url) (\(shape.rawValue), \(classCount) classes)")
            }
            var p = headerLine.count
            all.withUnsafeBytes { raw in
                while p + recordSize <= all.count {
                    let key = Key128(
                        a: raw.loadUnaligned(fromByteOffset: p, as: UInt64.self),
                        b: raw.loadUnaligned(fromByteOffset: p + 8, as: UInt64.self))
                    loaded[key] = (0..<classCount).map {
                        raw.loadUnaligned(fromByteOffset: p + 16 + 4 * $0, as: Float.self)
                    }
                    p += recordSize
                }
            }
            if p != all.count { truncate(path, off_t(p)) }  // drop a torn record
        }
        entries = loaded
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw ShapeError("cannot write the query cache `\(path)`: \(String(cString: strerror(errno)))")
        }
        if entries.isEmpty && (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) == 0 {
            _ = headerLine.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        }
    }

    deinit { close(fd) }

    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return entries.count
    }

    /// The key of a record's features.
    static func key(_ features: UnsafeBufferPointer<Float>) -> Key128 { hash(UnsafeRawBufferPointer(features)) }

    /// Two independent 64-bit hashes (FNV-1a, and a multiply-rotate hash) of `bytes`.
    static func hash(_ bytes: UnsafeRawBufferPointer) -> Key128 {
        var a: UInt64 = 0xcbf2_9ce4_8422_2325
        var b: UInt64 = 0x9e37_79b9_7f4a_7c15 ^ UInt64(bytes.count)
        for byte in bytes {
            a = (a ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
            b = ((b ^ UInt64(byte)) &* 0xbf58_476d_1ce4_e5b9)
            b = (b << 31) | (b >> 33)
        }
        b ^= b >> 29
        b = b &* 0x94d0_49bb_1331_11eb
        b ^= b >> 32
        return Key128(a: a, b: b)
    }

    func lookup(_ key: Key128) -> [Float]? {
        lock.lock()
        defer { lock.unlock() }
        return entries[key]
    }

    /// Stores answers and appends them to the file in one write.
    func store(_ answers: [(Key128, [Float])]) {
        guard !answers.isEmpty else { return }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(answers.count * (16 + 4 * classCount))
        for (key, logits) in answers {
            withUnsafeBytes(of: key.a) { bytes += $0 }
            withUnsafeBytes(of: key.b) { bytes += $0 }
            logits.withUnsafeBytes { bytes += $0 }
        }
        lock.lock()
        defer { lock.unlock() }
        for (key, logits) in answers { entries[key] = logits }
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }
}
