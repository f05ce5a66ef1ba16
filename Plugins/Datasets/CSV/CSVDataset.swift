import Foundation
import PluginKit

/// Tabular records from a delimited text file (Purchase-100, Texas-100, Adult style).
///
/// Each record is one row: a label column and feature columns. Numeric columns give one feature
/// each, scaled as configured; categorical columns are one-hot encoded, their categories sorted
/// (Swift string order, which is byte order for ASCII), so the encoding does not depend on the
/// order of the rows. Features follow the order of `feature_columns` (default: file order).
///
/// Labels: when every label is a non-negative integer, the integers are the classes; otherwise
/// each distinct label text is a class, numbered in sorted order. The file is read and checked
/// whole when the dataset is opened; a malformed row is reported as `file:line: what`.
final class CSVDataset: DatasetLoader {
    static let name = "csv"
    /// The most classes a file may have: integer labels are class numbers, so one stray large
    /// label would otherwise make a logits row of that many floats per record.
    static let maxClasses = 65_536
    static let summary = "tabular records from a CSV file: numeric columns scaled, categorical columns one-hot"
    static let options: [OptionSpec] = [
        OptionSpec("path", .path, required: true, "the CSV file"),
        OptionSpec(
            "label_column", .string, required: true,
            "the label column: its header name, or its 0-based index when `header` is false"),
        OptionSpec(
            "feature_columns", .stringList, default: "[]",
            "feature columns in feature order (names, or indices without a header); empty: all but the label"),
        OptionSpec(
            "categorical_columns", .stringList, default: "[]",
            "feature columns to one-hot encode (categories in sorted order)"),
        OptionSpec(
            "numeric_scaling", .string, default: "\"none\"", choices: ["none", "standardize", "minmax"],
            "scaling of numeric columns, with statistics over all rows: none, standardize (mean 0, sd 1) or minmax ([0, 1])"
        ),
        OptionSpec("header", .bool, default: "true", "whether the first row holds the column names"),
        OptionSpec("delimiter", .string, default: "\",\"", "the field separator: one character"),
        OptionSpec("class_count", .int, default: "0", "number of classes; 0 infers it from the labels").within(
            0...16_777_216),
    ]

    /// One feature column as stored: a numeric value, or a category index.
    enum Column {
        case numeric(slot: Int)
        case categorical(slot: Int, categoryCount: Int)
    }

    let columns: [Column]
    let numericCount: Int
    let categoricalCount: Int
    /// [rows, numericCount], already scaled.
    let numeric: [Float]
    /// [rows, categoricalCount]: the category index (sorted order) of each categorical cell.
    let categories: [Int32]
    let labels: [Int32]
    let dataInfo: DatasetInfo
    /// Names of the categories of each categorical column, in index order (for documentation
    /// and tests).
    let categoryNames: [[String]]
    /// Names of the classes when labels were texts; empty when they were integers.
    let classNames: [String]

    init(options: PluginOptions, host: HostServices) throws {
        let path = try options.string("path")
        let hasHeader = options.has("header") ? try options.bool("header") : true
        let delimiterText = options.has("delimiter") ? try options.string("delimiter") : ","
        let delimiterBytes = Array((delimiterText == "\\t" ? "\t" : delimiterText).utf8)
        guard delimiterBytes.count == 1, delimiterBytes[0] != UInt8(ascii: "\"") else {
            throw PluginError(
                .invalidArgument,
                "option `delimiter` must be one ASCII character other than a quote, got `\(delimiterText)`")
        }
        let scaling = options.has("numeric_scaling") ? try options.string("numeric_scaling") : "none"
        guard ["none", "standardize", "minmax"].contains(scaling) else {
            throw PluginError(
                .invalidArgument, "option `numeric_scaling` must be none, standardize or minmax, got `\(scaling)`")
        }
        let requestedClasses = options.has("class_count") ? try options.int("class_count") : 0
        guard requestedClasses >= 0 else {
            throw PluginError(.invalidArgument, "option `class_count` must be 0 or more")
        }

        guard let data = FileManager.default.contents(atPath: path) else {
            throw PluginError(.io, "cannot read the CSV file `\(path)`")
        }
        let fileBytes = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: data.count)
        defer { fileBytes.deallocate() }
        _ = data.copyBytes(to: fileBytes)
        var reader = CSVReader(bytes: UnsafeBufferPointer(fileBytes), delimiter: delimiterBytes[0], file: path)

        // Column names: from the header, or the 0-based indices of the first row.
        let names: [String]
        do {
            guard try reader.next() else { throw PluginError(.invalidArgument, "`\(path)` holds no rows") }
        } catch let e as CSVError { throw PluginError(.invalidArgument, e.description) }
        var firstRowIsData = false
        if hasHeader {
            names = (0..<reader.fieldCount).map { reader.text($0) }
            if let duplicate = Dictionary(grouping: names, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
                throw PluginError(
                    .invalidArgument, "\(path):\(reader.recordLine): the header names column `\(duplicate)` twice")
            }
        } else {
            names = (0..<reader.fieldCount).map(String.init)
            firstRowIsData = true
        }
        let fieldCount = names.count

        func index(of column: String, option: String) throws -> Int {
            if let i = names.firstIndex(of: column) { return i }
            if hasHeader {
                throw PluginError(
                    .invalidArgument,
                    "option `\(option)`: `\(path)` has no column `\(column)`; its columns are "
                        + names.map { "`\($0)`" }.joined(separator: ", "))
            }
            throw PluginError(
                .invalidArgument,
                "option `\(option)`: without a header a column is a 0-based index below \(fieldCount), got `\(column)`")
        }

        let labelIndex = try index(of: try options.string("label_column"), option: "label_column")
        let listed = options.has("feature_columns") ? try options.strings("feature_columns") : []
        let featureIndices =
            try listed.isEmpty
            ? Array((0..<fieldCount).filter { $0 != labelIndex })
            : listed.map { try index(of: $0, option: "feature_columns") }
        if featureIndices.contains(labelIndex) {
            throw PluginError(
                .invalidArgument, "option `feature_columns` includes the label column `\(names[labelIndex])`")
        }
        if Set(featureIndices).count != featureIndices.count {
            throw PluginError(.invalidArgument, "option `feature_columns` names a column twice")
        }
        guard !featureIndices.isEmpty else { throw PluginError(.invalidArgument, "`\(path)` has no feature column") }
        let categoricalNames = options.has("categorical_columns") ? try options.strings("categorical_columns") : []
        let categoricalIndices = Set(try categoricalNames.map { try index(of: $0, option: "categorical_columns") })
        for c in categoricalIndices where !featureIndices.contains(c) {
            throw PluginError(.invalidArgument, "option `categorical_columns`: `\(names[c])` is not a feature column")
        }

        // Slots: where each feature column's value is stored per row.
        var numericSlot: [Int: Int] = [:]
        var categoricalSlot: [Int: Int] = [:]
        for c in featureIndices {
            if categoricalIndices.contains(c) {
                categoricalSlot[c] = categoricalSlot.count
            } else {
                numericSlot[c] = numericSlot.count
            }
        }
        let numericCount = numericSlot.count
        let categoricalCount = categoricalSlot.count

        // Read every row.
        var numeric: [Float] = []
        var categoryIDs: [Int32] = []  // first-appearance ids, remapped to sorted order below
        var categoryTables = [[String: Int32]](repeating: [:], count: categoricalCount)
        var labelIDs: [Int32] = []
        var labelTable: [String: Int32] = [:]
        var labelLines: [Int] = []  // the line each label text first appears on
        var numericSlots = [Int](repeating: -1, count: fieldCount)
        var categoricalSlots = [Int](repeating: -1, count: fieldCount)
        for (c, s) in numericSlot { numericSlots[c] = s }
        for (c, s) in categoricalSlot { categoricalSlots[c] = s }
        var rowNumeric = [Float](repeating: 0, count: numericCount)
        var rowCategories = [Int32](repeating: 0, count: categoricalCount)
        var scratch = [CChar](repeating: 0, count: 64)

        do {
            var more = firstRowIsData ? true : try reader.next()
            while more {
                let line = reader.recordLine
                guard reader.fieldCount == fieldCount else {
                    throw CSVError("\(path):\(line): expected \(fieldCount) fields, found \(reader.fieldCount)")
                }
                for c in 0..<fieldCount {
                    if numericSlots[c] >= 0 {
                        let parsed = reader.storage.withUnsafeBufferPointer { all in
                            parseNumber(
                                UnsafeBufferPointer(rebasing: all[reader.starts[c]..<reader.ends[c]]), scratch: &scratch
                            )
                        }
                        guard let v = parsed else {
                            let shown = reader.text(c)
                            throw CSVError(
                                "\(path):\(line): column `\(names[c])`: "
                                    + (shown.isEmpty ? "empty field" : "`\(shown.prefix(40))` is not a finite number")
                                    + " (list it in `categorical_columns` if it is a category)")
                        }
                        rowNumeric[numericSlots[c]] = v
                    } else if categoricalSlots[c] >= 0 {
                        let s = categoricalSlots[c]
                        let text = reader.text(c)
                        if let id = categoryTables[s][text] {
                            rowCategories[s] = id
                        } else {
                            let id = Int32(categoryTables[s].count)
                            categoryTables[s][text] = id
                            rowCategories[s] = id
                        }
                    }
                }
                let labelText = reader.text(labelIndex)
                if labelText.isEmpty {
                    throw CSVError("\(path):\(line): the label column `\(names[labelIndex])` is empty")
                }
                if let id = labelTable[labelText] {
                    labelIDs.append(id)
                } else {
                    let id = Int32(labelTable.count)
                    labelTable[labelText] = id
                    labelIDs.append(id)
                    labelLines.append(line)
                }
                numeric.append(contentsOf: rowNumeric)
                categoryIDs.append(contentsOf: rowCategories)
                more = try reader.next()
            }
        } catch let e as CSVError {
            throw PluginError(.invalidArgument, e.description)
        }
        let rows = labelIDs.count
        guard rows > 0 else { throw PluginError(.invalidArgument, "`\(path)` holds a header but no records") }

        // Categories: remap first-appearance ids to sorted order.
        var categoryNames: [[String]] = []
        var remaps: [[Int32]] = []
        for table in categoryTables {
            let sorted = table.keys.sorted()
            var remap = [Int32](repeating: 0, count: table.count)
            for (rank, name) in sorted.enumerated() { remap[Int(table[name]!)] = Int32(rank) }
            categoryNames.append(sorted)
            remaps.append(remap)
        }
        if categoricalCount > 0 {
            for i in 0..<categoryIDs.count { categoryIDs[i] = remaps[i % categoricalCount][Int(categoryIDs[i])] }
        }

        // Labels: integers as given, or texts in sorted order.
        var labels = [Int32](repeating: 0, count: rows)
        var classNames: [String] = []
        let integerValues = labelTable.keys.map { key in (key, Int32(key)) }
        if integerValues.allSatisfy({ ($0.1 ?? -1) >= 0 }) {
            var valueOfID = [Int32](repeating: 0, count: labelTable.count)
            for (key, value) in integerValues { valueOfID[Int(labelTable[key]!)] = value! }
            for i in 0..<rows { labels[i] = valueOfID[Int(labelIDs[i])] }
        } else {
            classNames = labelTable.keys.sorted()
            var rankOfID = [Int32](repeating: 0, count: labelTable.count)
            for (rank, name) in classNames.enumerated() { rankOfID[Int(labelTable[name]!)] = Int32(rank) }
            for i in 0..<rows { labels[i] = rankOfID[Int(labelIDs[i])] }
        }
        let needed = Int(labels.max()!) + 1
        if needed > CSVDataset.maxClasses,
            let (text, id) = labelTable.filter({ Int($0.key).map { $0 >= CSVDataset.maxClasses } ?? false }).min(by: {
                $0.value < $1.value
            })
        {
            throw PluginError(
                .invalidArgument,
                "\(path):\(labelLines[Int(id)]): label \(text) would make \(Int(text)! + 1) classes; integer labels are classes 0..<\(CSVDataset.maxClasses) "
                    + "(every class gets a logit per record); renumber the labels, or quote them as text")
        }
        if requestedClasses > CSVDataset.maxClasses {
            throw PluginError(
                .invalidArgument,
                "option `class_count` is \(requestedClasses); at most \(CSVDataset.maxClasses) classes are supported")
        }
        if requestedClasses != 0 && requestedClasses < needed {
            throw PluginError(
                .invalidArgument,
                "option `class_count` is \(requestedClasses), but `\(path)` has labels up to class \(needed - 1)"
                    + (classNames.isEmpty ? "" : " (\(classNames.count) distinct label texts)"))
        }

        CSVDataset.scale(&numeric, columns: numericCount, rows: rows, mode: scaling)

        self.columns = featureIndices.map { c in
            if let s = categoricalSlot[c] { return .categorical(slot: s, categoryCount: categoryNames[s].count) }
            return .numeric(slot: numericSlot[c]!)
        }
        let featureSize = columns.reduce(0) { total, column in
            switch column {
            case .numeric: total + 1
            case .categorical(_, let n): total + n
            }
        }
        self.numericCount = numericCount
        self.categoricalCount = categoricalCount
        self.numeric = numeric
        self.categories = categoryIDs
        self.labels = labels
        self.categoryNames = categoryNames
        self.classNames = classNames
        self.dataInfo = DatasetInfo(
            recordCount: rows, classCount: requestedClasses == 0 ? needed : requestedClasses,
            featureShape: [featureSize])
    }

    func info() throws -> DatasetInfo { dataInfo }

    func read(
        start: Int, count: Int, features: UnsafeMutableBufferPointer<Float>,
        labels out: UnsafeMutableBufferPointer<Int32>
    ) throws {
        let d = dataInfo.featureSize
        guard start >= 0, count >= 0, start + count <= dataInfo.recordCount else {
            throw PluginError(
                .invalidArgument, "records [\(start), \(start + count)) are outside [0, \(dataInfo.recordCount))")
        }
        guard features.count >= count * d, out.count >= count else {
            throw PluginError(.invalidArgument, "buffers too small for \(count) records of \(d) features")
        }
        for r in 0..<count {
            let row = start + r
            var o = r * d
            for column in columns {
                switch column {
                case .numeric(let slot):
                    features[o] = numeric[row * numericCount + slot]
                    o += 1
                case .categorical(let slot, let n):
                    for k in 0..<n { features[o + k] = 0 }
                    features[o + Int(categories[row * categoricalCount + slot])] = 1
                    o += n
                }
            }
            out[r] = labels[row]
        }
    }

    /// Scales each numeric column in place over all rows.
    ///
    /// standardize: (x - mean) / sd with the population sd (divide by n); minmax:
    /// (x - min) / (max - min). Statistics are accumulated in Double. A constant column becomes 0.
    static func scale(_ values: inout [Float], columns: Int, rows: Int, mode: String) {
        guard mode != "none", columns > 0, rows > 0 else { return }
        for c in 0..<columns {
            var offset = 0.0
            var divisor = 1.0
            if mode == "standardize" {
                var sum = 0.0
                for r in 0..<rows { sum += Double(values[r * columns + c]) }
                let mean = sum / Double(rows)
                var squares = 0.0
                for r in 0..<rows {
                    let x = Double(values[r * columns + c]) - mean
                    squares += x * x
                }
                offset = mean
                divisor = (squares / Double(rows)).squareRoot()
            } else {
                var lo = Double.infinity
                var hi = -Double.infinity
                for r in 0..<rows {
                    let x = Double(values[r * columns + c])
                    lo = min(lo, x)
                    hi = max(hi, x)
                }
                offset = lo
                divisor = hi - lo
            }
            for r in 0..<rows {
                let x = Double(values[r * columns + c]) - offset
                values[r * columns + c] = divisor > 0 ? Float(x / divisor) : 0
            }
        }
    }
}

/// Parses a decimal number (as `strtod` reads it in the C locale) that fills the whole field;
/// nil when the field is empty, not a number or not finite.
///
/// Short integers, the common case of tabular data (Purchase-100 and Texas-100 are 0/1), take a
/// fast path that gives the same value as `strtod`.
func parseNumber(_ field: UnsafeBufferPointer<UInt8>, scratch: inout [CChar]) -> Float? {
    guard !field.isEmpty else { return nil }
    if field.count <= 9 {
        var i = 0
        var negative = false
        if field[0] == UInt8(ascii: "-") || field[0] == UInt8(ascii: "+") {
            negative = field[0] == UInt8(ascii: "-")
            i = 1
        }
        if i < field.count {
            var value = 0
            var digits = true
            while i < field.count {
                let d = Int(field[i]) - 48
                if d < 0 || d > 9 {
                    digits = false
                    break
                }
                value = value * 10 + d
                i += 1
            }
            if digits { return Float(negative ? -value : value) }
        }
    }
    if scratch.count < field.count + 1 { scratch = [CChar](repeating: 0, count: field.count + 1) }
    for i in 0..<field.count { scratch[i] = CChar(bitPattern: field[i]) }
    scratch[field.count] = 0
    return scratch.withUnsafeMutableBufferPointer { buffer -> Float? in
        var end: UnsafeMutablePointer<CChar>?
        let v = strtod(buffer.baseAddress!, &end)
        guard let end, end - buffer.baseAddress! == field.count, v.isFinite else { return nil }
        let f = Float(v)
        return f.isFinite ? f : nil
    }
}
