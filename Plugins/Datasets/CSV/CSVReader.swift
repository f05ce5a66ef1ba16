import Foundation

/// Reads the records of a delimited text file (RFC 4180), one record at a time.
///
/// A field is quoted when its first character (after spaces) is `"`; inside quotes the
/// delimiter and line breaks are data and `""` is one quote. Unquoted fields are trimmed of
/// spaces and tabs at both ends (so `39, State-gov` reads as `39` and `State-gov`). Records end at
/// LF or CRLF; blank lines are skipped; a UTF-8 byte-order mark at the start is ignored.
///
/// The fields of the current record are copied into one reused byte buffer, so reading a file
/// allocates nothing per field. The reader does not own the file's bytes: they must outlive it.
struct CSVReader {
    let bytes: UnsafeBufferPointer<UInt8>
    let delimiter: UInt8
    /// Where the file's name is needed in messages.
    let file: String

    private var position = 0
    /// 1-based line of `position`.
    private var line = 1

    /// The fields of the current record: `storage[starts[i]..<ends[i]]`.
    private(set) var storage: [UInt8] = []
    private(set) var starts: [Int] = []
    private(set) var ends: [Int] = []
    /// Whether field i was quoted (quoted fields are never trimmed).
    private(set) var quoted: [Bool] = []
    /// 1-based line on which the current record starts.
    private(set) var recordLine = 0

    init(bytes: UnsafeBufferPointer<UInt8>, delimiter: UInt8, file: String) {
        self.bytes = bytes
        self.delimiter = delimiter
        self.file = file
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }
    }

    var fieldCount: Int { starts.count }

    /// The bytes of field `i` of the current record.
    func field(_ i: Int) -> ArraySlice<UInt8> { storage[starts[i]..<ends[i]] }

    /// The text of field `i`, for names, categories and messages.
    func text(_ i: Int) -> String { String(decoding: field(i), as: UTF8.self) }

    /// Reads the next record; false at the end of the file.
    mutating func next() throws -> Bool {
        storage.removeAll(keepingCapacity: true)
        starts.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
        quoted.removeAll(keepingCapacity: true)
        // Skip blank lines.
        while position < bytes.count {
            if bytes[position] == UInt8(ascii: "\n") {
                position += 1
                line += 1
            } else if bytes[position] == UInt8(ascii: "\r"), position + 1 < bytes.count,
                bytes[position + 1] == UInt8(ascii: "\n")
            {
                position += 2
                line += 1
            } else {
                break
            }
        }
        guard position < bytes.count else { return false }
        recordLine = line
        while true {
            let ended = try readField()
            if ended { return true }
        }
    }

    /// Reads one field and the separator after it; true when the record ended.
    private mutating func readField() throws -> Bool {
        let space = UInt8(ascii: " ")
        let tab = UInt8(ascii: "\t")
        let quote = UInt8(ascii: "\"")
        let lf = UInt8(ascii: "\n")
        let cr = UInt8(ascii: "\r")
        // Leading spaces (kept only if the field turns out unquoted and they are the delimiter).
        var p = position
        while p < bytes.count, bytes[p] == space || (bytes[p] == tab && delimiter != tab) { p += 1 }
        starts.append(storage.count)
        if p < bytes.count, bytes[p] == quote {
            let openedOn = line
            p += 1
            while true {
                guard p < bytes.count else {
                    throw CSVError("\(file):\(openedOn): a quoted field is not closed before the end of the file")
                }
                let b = bytes[p]
                if b == quote {
                    if p + 1 < bytes.count, bytes[p + 1] == quote {
                        storage.append(quote)
                        p += 2
                        continue
                    }
                    p += 1
                    break
                }
                if b == lf { line += 1 }
                storage.append(b)
                p += 1
            }
            ends.append(storage.count)
            quoted.append(true)
            while p < bytes.count, bytes[p] == space || (bytes[p] == tab && delimiter != tab) { p += 1 }
            position = p
            if p >= bytes.count { return true }
            if bytes[p] == delimiter {
                position = p + 1
                return false
            }
            if bytes[p] == lf || (bytes[p] == cr && p + 1 < bytes.count && bytes[p + 1] == lf) {
                position = p + (bytes[p] == cr ? 2 : 1)
                line += 1
                return true
            }
            throw CSVError(
                "\(file):\(line): unexpected `\(String(decoding: [bytes[p]], as: UTF8.self))` after a closing quote "
                    + "(a quote inside a quoted field is written as two quotes)")
        }
        // Unquoted: up to the delimiter or the end of the line.
        var end = p
        while end < bytes.count, bytes[end] != delimiter, bytes[end] != lf {
            end += 1
        }
        var last = end
        if last > p, last == bytes.count || bytes[last] == lf, bytes[last - 1] == cr { last -= 1 }
        while last > p, bytes[last - 1] == space || (bytes[last - 1] == tab && delimiter != tab) { last -= 1 }
        storage.append(contentsOf: bytes[p..<last])
        ends.append(storage.count)
        quoted.append(false)
        if end >= bytes.count {
            position = end
            return true
        }
        if bytes[end] == delimiter {
            position = end + 1
            return false
        }
        position = end + 1
        line += 1
        return true
    }
}

/// A malformed file: the message names the file and the line.
struct CSVError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
