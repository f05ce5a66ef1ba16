import Foundation
import Logging

/// Secrets in a config (API tokens in an `http` backend's `headers`): given by reference, expanded
/// when the config is read, and never written to an output (issue 13, item 12).
///
/// In any string value of the config (not in keys, numbers or booleans):
/// - `${NAME}` is the environment variable NAME (letters, digits, `_`; not starting with a digit);
///   unset, it is an error naming the key and line;
/// - `${file:PATH}` is the content of the file PATH (relative to the config's folder), without
///   its final line break; an unreadable file is an error naming the key and line;
/// - `$${` is a literal `${`.
///
/// Every value so expanded (of 4 characters or more) is a secret for the rest of the process:
/// `redact` replaces it by `***` in every file written through `AtomicFile` (config.yaml,
/// metrics.json, report.html, ...), in error messages and in the log. The config as run
/// (`config.yaml`, the report's "config as run") holds the references (`${TOKEN}`), never the values.
public final class Secrets: @unchecked Sendable {
    public static let shared = Secrets()
    private let lock = NSLock()
    private var values: Set<String> = []

    /// The shortest value treated as a secret: shorter ones would mangle ordinary text.
    static let minimumLength = 4

    /// Records `value` as a secret.
    func add(_ value: String) {
        guard value.count >= Self.minimumLength else { return }
        lock.lock()
        values.insert(value)
        lock.unlock()
    }

    /// `text` with every known secret replaced by `***`.
    public func redact(_ text: String) -> String {
        lock.lock()
        let known = values
        lock.unlock()
        guard !known.isEmpty else { return text }
        var out = text
        for v in known.sorted(by: { $0.count > $1.count }) where out.contains(v) {
            out = out.replacingOccurrences(of: v, with: "***")
        }
        return out
    }

    /// `data` redacted when it is UTF-8 text holding a secret; unchanged otherwise.
    func redact(_ data: Data) -> Data {
        lock.lock()
        let empty = values.isEmpty
        lock.unlock()
        guard !empty, let text = String(data: data, encoding: .utf8) else { return data }
        let redacted = redact(text)
        return redacted == text ? data : Data(redacted.utf8)
    }

    /// `text` with its `${...}` references expanded; errors name `node`'s key and line.
    func expand(_ text: String, at node: ConfigNode) throws -> String {
        guard text.contains("${") else { return text }
        var out = ""
        var rest = Substring(text)
        while let open = rest.range(of: "${") {
            if open.lowerBound > rest.startIndex, rest[rest.index(before: open.lowerBound)] == "$" {
                // `$${` is a literal `${`.
                out += rest[..<rest.index(before: open.lowerBound)] + "${"
                rest = rest[open.upperBound...]
                continue
            }
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else {
                throw node.error("`${` without its closing `}` (write `$${` for a literal `${`)")
            }
            let reference = String(rest[open.upperBound..<close])
            let value = try resolve(reference, at: node)
            add(value)
            out += value
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }

    private func resolve(_ reference: String, at node: ConfigNode) throws -> String {
        if reference.hasPrefix("file:") {
            let given = String(reference.dropFirst(5))
            let base = ((node.file as NSString).deletingLastPathComponent as NSString).standardizingPath
            let path = AuditConfig.resolve(given, base)
            guard let data = FileManager.default.contents(atPath: path), var value = String(data: data, encoding: .utf8)
            else {
                throw node.error("`${file:\(given)}`: cannot read `\(path)`")
            }
            if value.hasSuffix("\r\n") { value.removeLast(2) } else if value.hasSuffix("\n") { value.removeLast() }
            return value
        }
        guard reference.range(of: "^[A-Za-z_][A-Za-z0-9_]*$", options: .regularExpression) != nil else {
            throw node.error(
                "`${\(reference)}` is not a reference: use `${NAME}` (an environment variable) or `${file:PATH}`")
        }
        guard let raw = getenv(reference) else {
            throw node.error("environment variable `\(reference)` (in `${\(reference)}`) is not set")
        }
        return String(cString: raw)
    }
}

/// A log handler that passes every message through `Secrets.redact` to the handler it wraps.
public struct RedactingLogHandler: LogHandler {
    var wrapped: any LogHandler

    public init(_ wrapped: any LogHandler) { self.wrapped = wrapped }

    public var logLevel: Logger.Level {
        get { wrapped.logLevel }
        set { wrapped.logLevel = newValue }
    }

    public var metadata: Logger.Metadata {
        get { wrapped.metadata }
        set { wrapped.metadata = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { wrapped[metadataKey: key] }
        set { wrapped[metadataKey: key] = newValue }
    }

    public func log(event: LogEvent) {
        var e = event
        e.message = Logger.Message(stringLiteral: Secrets.shared.redact("\(event.message)"))
        wrapped.log(event: e)
    }
}
