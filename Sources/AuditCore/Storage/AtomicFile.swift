import Foundation
// The `.npy` codec (`Npy`, `NpyMapping`, `NpyWriter`) lives in PluginKit, shared with the plugins
// that read arrays; every file of AuditCore sees it through this one import.
@_exported import PluginKit

/// Writes files so that a reader never sees half of one: a temporary file in the same folder,
/// flushed, then renamed into place.
enum AtomicFile {
    /// Writes `data` (with any secret of the config redacted: `Secrets`) to `path` atomically.
    static func write(_ data: Data, to path: String) throws {
        let data = Secrets.shared.redact(data)
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let tmp = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard FileManager.default.createFile(atPath: tmp, contents: data) else {
            throw NpyError(path: tmp, message: "cannot create the file")
        }
        let fd = open(tmp, O_RDONLY)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
        guard rename(tmp, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(tmp)
            throw NpyError(path: path, message: "cannot rename into place: \(reason)")
        }
    }

    static func write(_ text: String, to path: String) throws { try write(Data(text.utf8), to: path) }
}
