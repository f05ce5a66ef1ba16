import CZlib
import Foundation
import PluginKit

/// One IDX file (the MNIST family's format), gzipped or not, with its header checked.
///
/// Layout: a 4-byte magic `0x00 0x00 <dtype> <ndim>`, then `ndim` big-endian u32 dimensions,
/// then the elements, row-major, big-endian. Only dtype 0x08 (unsigned byte) is read: it is
/// what every MNIST-family file holds. zlib's `gzread` reads plain files unchanged, so both
/// forms go through one path.
struct IDXFile {
    /// The dimensions from the header: `dimensions[0]` is the record count.
    let dimensions: [Int]
    /// The elements of the first `recordsRead` records, row-major.
    let bytes: [UInt8]

    var recordCount: Int { dimensions[0] }

    /// IDX dtype codes and their names, for messages.
    static let dtypeNames: [UInt8: String] = [
        0x08: "unsigned byte", 0x09: "signed byte", 0x0B: "int16", 0x0C: "int32", 0x0D: "float32",
        0x0E: "float64",
    ]

    /// Reads the header and the first `records` records (all of them when nil).
    ///
    /// - Parameters:
    ///   - path: the file, gzipped or plain whatever its name (zlib detects which).
    ///   - what: "images" or "labels", for messages.
    ///   - expectedDimensions: the number of dimensions the file must have.
    /// - Throws: `PluginError(.io, …)` naming the file when it is missing, not IDX, of another
    ///   element type or shape, truncated, or followed by extra bytes (checked only when all
    ///   records are read).
    init(path: String, what: String, expectedDimensions: Int, records: Int? = nil) throws {
        guard let file = gzopen(path, "rb") else {
            throw PluginError(.io, "cannot open the \(what) file \(path): \(String(cString: strerror(errno)))")
        }
        defer { gzclose(file) }
        gzbuffer(file, 1 << 20)
        let reader = Reader(file: file, path: path, what: what)

        let magic = try reader.read(4, offset: 0, context: "the 4-byte magic number")
        guard magic[0] == 0, magic[1] == 0 else {
            throw PluginError(
                .io,
                "the \(what) file \(path) is not an IDX file: it starts with bytes \(hex(magic)), "
                    + "not 00 00 <type> <dimensions>")
        }
        guard magic[2] == 0x08 else {
            let name = IDXFile.dtypeNames[magic[2]].map { " (\($0))" } ?? " (not an IDX type)"
            throw PluginError(
                .io,
                "the \(what) file \(path) holds elements of type 0x\(hex([magic[2]]))\(name); "
                    + "the idx loader reads only unsigned bytes (0x08)")
        }
        guard Int(magic[3]) == expectedDimensions else {
            throw PluginError(
                .io,
                "the \(what) file \(path) has \(magic[3]) dimension\(magic[3] == 1 ? "" : "s"); expected \(expectedDimensions) "
                    + (expectedDimensions == 1 ? "(count)" : "(count, rows, columns)"))
        }
        let header = try reader.read(
            4 * expectedDimensions, offset: 4, context: "the \(expectedDimensions) dimensions of the header")
        let dimensions = (0..<expectedDimensions).map { d in
            header[(4 * d)..<(4 * d + 4)].reduce(0) { $0 << 8 | Int($1) }
        }
        if let zero = dimensions.dropFirst().firstIndex(of: 0) {
            throw PluginError(.io, "the \(what) file \(path) has dimension \(zero) of size 0: \(dimensions)")
        }

        self.dimensions = dimensions
        let count = min(records ?? dimensions[0], dimensions[0])
        // Each dimension is below 2^32, but their product can overflow: a foreign file is an
        // error, never a trap.
        var recordSize = 1
        var overflow = false
        for d in dimensions.dropFirst() {
            let (p, o) = recordSize.multipliedReportingOverflow(by: d)
            recordSize = p
            overflow = overflow || o
        }
        let (payload, o) = count.multipliedReportingOverflow(by: recordSize)
        guard !overflow, !o else {
            throw PluginError(.io, "the \(what) file \(path) declares dimensions \(dimensions) too large to be real")
        }
        bytes = try reader.read(payload) { got in
            "its header declares \(dimensions.map(String.init).joined(separator: " x ")) "
                + "unsigned bytes, but the data ends after \(got / max(recordSize, 1)) of the "
                + "\(dimensions[0]) records"
        }
        if count == dimensions[0] {
            var extra: UInt8 = 0
            let n = gzread(file, &extra, 1)
            if n > 0 {
                throw PluginError(
                    .io,
                    "the \(what) file \(path) has bytes after the \(dimensions[0]) records its header "
                        + "declares: it is not a well-formed IDX file")
            }
            try reader.checkError()
        }
    }
}

/// Reads exact byte counts from a gzFile, turning short reads and zlib errors into messages.
private struct Reader {
    let file: gzFile
    let path: String
    let what: String

    /// Reads a header field that starts `offset` bytes into the file.
    func read(_ count: Int, offset: Int, context: String) throws -> [UInt8] {
        try read(count) { got in "it ends after \(offset + got) bytes, in \(context)" }
    }

    /// Reads exactly `count` bytes. The buffer grows (doubling from 16 MiB) as data arrives, so a
    /// foreign file whose header declares an absurd size fails as truncated instead of
    /// allocating that size.
    func read(_ count: Int, truncated: (Int) -> String) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: min(count, 1 << 24))
        var got = 0
        while got < count {
            if got == out.count { out += repeatElement(0, count: min(count - out.count, out.count)) }
            let n = out.withUnsafeMutableBytes { raw in
                gzread(file, raw.baseAddress! + got, UInt32(min(raw.count - got, 1 << 30)))
            }
            if n < 0 { try checkError() }
            if n <= 0 { break }
            got += Int(n)
        }
        if got < count {
            try checkError()
            throw PluginError(.io, "the \(what) file \(path) is truncated: \(truncated(got))")
        }
        return out
    }

    /// Throws when zlib reports an error other than the end of the input.
    func checkError() throws {
        var code: Int32 = 0
        let message = gzerror(file, &code)
        guard code != Z_OK, code != Z_STREAM_END else { return }
        let text = message.map { String(cString: $0) } ?? "zlib error \(code)"
        if code == Z_BUF_ERROR {
            throw PluginError(.io, "the \(what) file \(path) is truncated: the gzip stream ends early (\(text))")
        }
        throw PluginError(.io, "the \(what) file \(path) is not a readable gzip file: \(text)")
    }
}

private func hex(_ bytes: [UInt8]) -> String {
    bytes.map { b in
        let s = String(b, radix: 16)
        return s.count == 1 ? "0" + s : s
    }.joined(separator: " ")
}
