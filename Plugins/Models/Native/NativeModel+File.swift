import Foundation
import Kernels
import PluginKit

/// The model file, version 1 (all integers and floats little-endian):
///
/// ```
/// "MIANATIV"            8 bytes magic
/// u32 version           1
/// u32 L                 architecture text length
/// L bytes               architecture text (UTF-8; Network.description)
/// u64 P, u64 S          parameter and state float counts
/// P + S f32             parameters, then state (batch-norm running statistics)
/// u32 CRC-32            of every byte before it
/// ```
///
/// `load` checks, in this order, the size, magic, version, checksum, architecture and counts, and
/// names what failed; it changes the model only when everything matched.
enum ModelFile {
    static let magic = Array("MIANATIV".utf8)
    static let version: UInt32 = 1

    static func encode(_ network: Network) -> [UInt8] {
        var out: [UInt8] = magic
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        let text = Array(network.description.utf8)
        put(version)
        put(UInt32(text.count))
        out.append(contentsOf: text)
        put(UInt64(network.parameterCount))
        put(UInt64(network.stateCount))
        for buffer in [network.parameters, network.state] {
            for i in 0..<buffer.count { put(buffer.pointer[i].bitPattern) }
        }
        let crc = out.withUnsafeBytes { CRC32.checksum($0) }
        put(crc)
        return out
    }

    /// Checks `bytes` against `network` and copies the weights in.
    static func decode(_ bytes: [UInt8], into network: Network, path: String) throws {
        func fail(_ why: String) -> PluginError {
            PluginError(.invalidArgument, "\(path) is not a usable native model file: \(why)")
        }
        var at = 0
        func take<T: FixedWidthInteger>(_: T.Type) throws -> T {
            let size = MemoryLayout<T>.size
            guard at + size <= bytes.count else { throw fail("it ends early (truncated)") }
            var v: T = 0
            for i in 0..<size { v |= T(bytes[at + i]) << (8 * i) }
            at += size
            return v
        }
        guard bytes.count >= magic.count + 12, Array(bytes[0..<magic.count]) == magic else {
            throw fail("it does not start with the native model magic (a foreign or empty file)")
        }
        at = magic.count
        let v = try take(UInt32.self)
        guard v == version else { throw fail("format version \(v), this backend reads version \(version)") }
        let stored = bytes.withUnsafeBytes { raw -> UInt32 in
            let tail = raw.count - 4
            return UInt32(raw[tail]) | UInt32(raw[tail + 1]) << 8 | UInt32(raw[tail + 2]) << 16 | UInt32(raw[tail + 3])
                << 24
        }
        let actual = bytes.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<($0.count - 4)])) }
        guard stored == actual else { throw fail("checksum mismatch (the file is corrupt or truncated)") }
        let length = Int(try take(UInt32.self))
        guard at + length <= bytes.count - 4 else { throw fail("it ends early (truncated)") }
        let text = String(decoding: bytes[at..<(at + length)], as: UTF8.self)
        at += length
        guard text == network.description else {
            throw fail("it holds the architecture `\(text)`, but this model is `\(network.description)`")
        }
        let p = try take(UInt64.self)
        let s = try take(UInt64.self)
        guard p == UInt64(network.parameterCount), s == UInt64(network.stateCount) else {
            throw fail(
                "it holds \(p) parameters and \(s) state values, expected \(network.parameterCount) and \(network.stateCount)"
            )
        }
        guard bytes.count - 4 - at == 4 * (network.parameterCount + network.stateCount) else {
            throw fail("its size does not match its header")
        }
        for buffer in [network.parameters, network.state] {
            for i in 0..<buffer.count { buffer.pointer[i] = Float(bitPattern: try take(UInt32.self)) }
        }
    }
}

extension NativeModel {
    public func save(to path: String) throws {
        guard isReady else {
            throw PluginError(.invalidArgument, "the model is neither trained nor loaded: nothing to save")
        }
        let bytes = ModelFile.encode(network)
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            throw PluginError(.io, "could not write the model file \(path)")
        }
    }

    public func load(from path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PluginError(.io, "could not read the model file \(path)")
        }
        try ModelFile.decode([UInt8](data), into: network, path: path)
        markReady()
    }
}
