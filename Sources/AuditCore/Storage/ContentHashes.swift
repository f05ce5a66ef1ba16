import Foundation

/// The SHA-256 of files and folders named by paths, remembered so that a large dataset file is
/// not read again on every run.
///
/// A file's digest is remembered under its path with what `stat` says of it (size, modification
/// and status-change times to the nanosecond, device and inode): while all of them match, the
/// file is taken as unchanged. Replacing the file (a copy, a rename over it, an edit in place)
/// changes at least the inode or the times, and the file is read again. The memory lives in the
/// model store, `<store>/content-hashes.json`, written atomically (read, merged, renamed into
/// place: two processes writing at once lose at most the other's new entries, which are then
/// hashed again), and in this process, so a run reads each file at most once.
///
/// A folder's digest is the SHA-256 of its files' relative paths and digests, sorted by path
/// (every file below it, hidden ones too). A path that cannot be read gets a digest unique to
/// this process: nothing keyed on it is ever reused.
final class ContentHashes: @unchecked Sendable {
    /// What `stat` says of a file, and its digest.
    struct Entry: Codable, Equatable {
        var size: Int64
        var mtime: String
        var ctime: String
        var device: UInt64
        var inode: UInt64
        var sha256: String

        /// Whether `other` describes the same file as it was (every field but the digest).
        func sameFile(_ other: Entry) -> Bool {
            size == other.size && mtime == other.mtime && ctime == other.ctime && device == other.device
                && inode == other.inode
        }
    }

    struct File: Codable {
        static let currentScheme = "mia-content-hashes-v1"
        var scheme = currentScheme
        var entries: [String: Entry]
    }

    /// The memory file, or nil to remember in this process only.
    let cachePath: String?
    private let lock = NSLock()
    private var memory: [String: Entry] = [:]
    private var fresh: [String: Entry] = [:]
    private var loaded = false

    /// Digests computed in this process by every instance, by path and `stat` fields.
    private static let processLock = NSLock()
    nonisolated(unsafe) private static var process: [String: Entry] = [:]
    /// Whether digests computed by other instances in this process are used (tests turn it off
    /// to see the memory file at work).
    let sharesProcessMemory: Bool
    /// How many files this instance has read to hash them.
    private(set) var filesRead = 0

    convenience init(cachePath: String?) { self.init(cachePath: cachePath, sharesProcessMemory: true) }

    init(cachePath: String?, sharesProcessMemory: Bool) {
        self.cachePath = cachePath
        self.sharesProcessMemory = sharesProcessMemory
    }

    /// The digest of the file or folder at `path` (hex).
    func digest(of path: String) -> String {
        var st = stat()
        guard stat(path, &st) == 0 else { return Self.unreadable(path) }
        if (st.st_mode & S_IFMT) == S_IFDIR { return folderDigest(path) }
        return fileDigest(path, st)
    }

    /// Writes the digests computed since the last save into the memory file (merged with what it
    /// holds now). Does nothing when there is nothing new or no file.
    func save() throws {
        guard let cachePath else { return }
        let new: [String: Entry] = lock.withLock {
            let n = fresh; fresh = [:]; return n
        }
        guard !new.isEmpty else { return }
        var file = Self.read(cachePath) ?? File(entries: [:])
        file.entries.merge(new) { _, b in b }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try FileManager.default.createDirectory(
            atPath: (cachePath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try AtomicFile.write(try encoder.encode(file), to: cachePath)
    }

    private func folderDigest(_ folder: String) -> String {
        guard let names = try? FileManager.default.subpathsOfDirectory(atPath: folder) else {
            return Self.unreadable(folder)
        }
        var h = SHA256()
        h.update("folder\n")
        for name in names.sorted() {
            let path = (folder as NSString).appendingPathComponent(name)
            var st = stat()
            guard stat(path, &st) == 0 else { return Self.unreadable(path) }
            if (st.st_mode & S_IFMT) == S_IFDIR { continue }
            h.update("\(name)\0\(fileDigest(path, st))\n")
        }
        return h.hexDigest()
    }

    private func fileDigest(_ path: String, _ st: stat) -> String {
        let probe = Entry(
            size: Int64(st.st_size), mtime: "\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)",
            ctime: "\(st.st_ctim.tv_sec).\(st.st_ctim.tv_nsec)", device: UInt64(st.st_dev), inode: UInt64(st.st_ino),
            sha256: "")
        func matches(_ e: Entry?) -> Entry? { e.flatMap { $0.sameFile(probe) ? $0 : nil } }
        if sharesProcessMemory, let e = matches(Self.processLock.withLock({ Self.process[path] })) { return e.sha256 }
        if let e = matches(remembered(path)) {
            Self.processLock.withLock { Self.process[path] = e }
            return e.sha256
        }
        guard let digest = SHA256.hex(contentsOf: path) else { return Self.unreadable(path) }
        var entry = probe
        entry.sha256 = digest
        Self.processLock.withLock { Self.process[path] = entry }
        lock.withLock {
            filesRead += 1
            memory[path] = entry
            fresh[path] = entry
        }
        return digest
    }

    private func remembered(_ path: String) -> Entry? {
        lock.withLock {
            if !loaded, let cachePath {
                memory = Self.read(cachePath)?.entries ?? [:]
                loaded = true
            }
            return memory[path]
        }
    }

    private static func read(_ path: String) -> File? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        guard let file = try? JSONDecoder().decode(File.self, from: data), file.scheme == File.currentScheme else {
            return nil
        }
        return file
    }

    /// A digest that no other process will compute: whatever is keyed on it is never reused.
    static func unreadable(_ path: String) -> String {
        processLock.withLock {
            if let token = unreadableTokens[path] { return token }
            let token = "unreadable:" + SHA256.hex("\(path) \(getpid()) \(UUID().uuidString)")
            unreadableTokens[path] = token
            return token
        }
    }
    nonisolated(unsafe) private static var unreadableTokens: [String: String] = [:]
}
