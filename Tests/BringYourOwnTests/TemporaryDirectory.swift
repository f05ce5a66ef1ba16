import Foundation

/// A fresh folder under the system's temporary folder, removed when the value is freed.
final class TemporaryDirectory {
    let path: String

    init(_ label: String = "byo") {
        let base = FileManager.default.temporaryDirectory.path
        path = "\(base)/mia-\(label)-\(getpid())-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `text` to `name` in the folder; returns its path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        try write(name, Data(text.utf8))
    }

    /// Writes an executable script. The file is opened close-on-exec, so a worker that another
    /// test starts meanwhile cannot inherit it open for writing (which makes running it fail
    /// with "Text file busy").
    func writeExecutable(_ name: String, _ text: String) throws -> String {
        let p = "\(path)/\(name)"
        let fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
        guard fd >= 0 else { throw CocoaError(.fileWriteUnknown) }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ Foundation.write(fd, $0.baseAddress, $0.count) }) == bytes.count else {
            throw CocoaError(.fileWriteUnknown)
        }
        return p
    }

    @discardableResult
    func write(_ name: String, _ data: Data) throws -> String {
        let p = "\(path)/\(name)"
        try data.write(to: URL(fileURLWithPath: p))
        return p
    }
}

/// The message of the error `body` throws, or nil when it throws none.
func errorMessage(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch {
        return String(describing: error)
    }
}
