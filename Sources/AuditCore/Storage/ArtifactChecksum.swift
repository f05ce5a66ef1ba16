import Foundation
import Logging

/// The SHA-256 of a file the host stores for reuse (logits in the model store, an attack's scores
/// and mask), kept beside it in `<file>.sha256` and checked before the file is reused.
///
/// The file is written first (atomically), its checksum second (atomically): a file without a
/// checksum, or whose bytes no longer match it, is not reused but computed again, and the
/// caller logs a warning naming it. The backend's `model.bin` is not covered here: its format
/// carries its own checksum, which the backend checks when it loads the file.
enum ArtifactChecksum {
    static func sidecar(_ path: String) -> String { path + ".sha256" }

    /// What the check of a stored file found.
    enum Verdict: Equatable {
        /// The file is there and matches its checksum.
        case intact
        /// The file is not there.
        case missing
        /// The file is there but has no checksum, or its bytes differ from it (the reason).
        case corrupt(String)
    }

    /// Records the checksum of the file at `path` (just written by this process).
    static func record(_ path: String) throws {
        guard let digest = SHA256.hex(contentsOf: path) else {
            throw NpyError(path: path, message: "cannot read the file back to record its checksum")
        }
        try AtomicFile.write(digest + "\n", to: sidecar(path))
    }

    /// Checks the file at `path` against its recorded checksum.
    static func verify(_ path: String) -> Verdict {
        guard FileManager.default.fileExists(atPath: path) else { return .missing }
        guard let text = try? String(contentsOfFile: sidecar(path), encoding: .utf8) else {
            return .corrupt("it has no checksum (\((sidecar(path) as NSString).lastPathComponent))")
        }
        let stored = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let actual = SHA256.hex(contentsOf: path) else { return .corrupt("it cannot be read") }
        return actual == stored
            ? .intact : .corrupt("its SHA-256 is \(actual.prefix(16))…, recorded \(stored.prefix(16))…")
    }

    /// Whether the file at `path` can be reused: intact. A corrupt one is logged as a warning
    /// naming it, with `then` (what happens instead, e.g. "computing the logits again").
    static func isIntact(_ path: String, logger: Logger, then: String) -> Bool {
        switch verify(path) {
        case .intact: return true
        case .missing: return false
        case .corrupt(let why):
            logger.warning("stored file \(path) is corrupt: \(why); \(then)")
            return false
        }
    }
}
