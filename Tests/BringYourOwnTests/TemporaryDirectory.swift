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
