import PluginABI

/// A status code of the C contract.
public enum PluginStatus: Int32, Sendable, CustomStringConvertible {
    case invalidArgument = 1, io, unsupported, cancelled, outOfMemory, `internal`

    public var description: String {
        switch self {
        case .invalidArgument: "invalid argument"
        case .io: "I/O error"
        case .unsupported: "unsupported"
        case .cancelled: "cancelled"
        case .outOfMemory: "out of memory"
        case .internal: "internal error"
        }
    }
}

/// An error a component reports: a status and a sentence for a person.
///
/// Plugin code throws it (or any error: others map to `internal`); the export bridge turns it
/// into a status and a message at the boundary, and the host's adapters turn that back into a
/// `PluginError` carrying the plugin's path and component name.
public struct PluginError: Error, Sendable, CustomStringConvertible {
    public var status: PluginStatus
    public var message: String
    /// Where it came from, filled in by the host: "plugin at PATH, component NAME, call".
    public var origin: String?

    public init(_ status: PluginStatus, _ message: String, origin: String? = nil) {
        self.status = status
        self.message = message
        self.origin = origin
    }

    public var description: String {
        if let origin { return "\(origin): \(message) (\(status))" }
        return message
    }

    /// The status and message an error becomes at the C boundary.
    public static func from(_ error: Error) -> PluginError {
        if let e = error as? PluginError { return e }
        if error is CancellationError { return PluginError(.cancelled, "cancelled") }
        return PluginError(.internal, String(describing: error))
    }
}

extension PluginError {
    /// Writes this error into a C error buffer (truncating on a character boundary) and
    /// returns its status code.
    @discardableResult
    public func write(to error: UnsafeMutablePointer<mia_error_t>?) -> mia_status_t {
        if let error {
            writeMessage(message, to: error)
        }
        return status.rawValue
    }
}

/// Copies `message` into `error.message`, NUL-terminated, cut at a UTF-8 character boundary.
func writeMessage(_ message: String, to error: UnsafeMutablePointer<mia_error_t>) {
    var bytes = Array(message.utf8)
    let capacity = Int(MIA_ERROR_MESSAGE_CAPACITY) - 1
    if bytes.count > capacity {
        var cut = capacity
        while cut > 0 && (bytes[cut] & 0xC0) == 0x80 { cut -= 1 }
        bytes = Array(bytes[..<cut])
    }
    withUnsafeMutableBytes(of: &error.pointee.message) { raw in
        raw.copyBytes(from: bytes)
        raw[bytes.count] = 0
    }
}

/// Reads the message out of a C error buffer.
public func readMessage(_ error: UnsafePointer<mia_error_t>) -> String {
    withUnsafeBytes(of: error.pointee.message) { raw in
        let end = raw.firstIndex(of: 0) ?? raw.count
        return String(decoding: raw[..<end], as: UTF8.self)
    }
}

/// The toolchain whose runtime Swift plugins need; a host refuses a Swift plugin whose value
/// differs from its own, since Swift has no stable ABI on Linux.
public let swiftToolchainID: String = {
    #if compiler(>=6.5)
        return "swift-6.5+"
    #elseif compiler(>=6.4)
        return "swift-6.4"
    #elseif compiler(>=6.3.1)
        return "swift-6.3.1"
    #elseif compiler(>=6.3)
        return "swift-6.3.0"
    #elseif compiler(>=6.2)
        return "swift-6.2"
    #else
        return "swift-older-than-6.2"
    #endif
}()
