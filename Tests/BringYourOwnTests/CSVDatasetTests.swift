import Foundation
import PluginKit
import Testing

@testable import DatasetCSV

/// Reads every record of a dataset.
func readAll(_ d: some DatasetLoader) throws -> (features: [Float], labels: [Int32], info: DatasetInfo) {
    let info = try d.info()
    var f = [Float](repeating: .nan, count: info.recordCount * info.featureSize)
    var l = [Int32](repeating: -1, count: info.recordCount)
    try f.withUnsafeMutableBufferPointer { fp in
        try l.withUnsafeMutableBufferPointer { lp in
            try d.read(start: 0, count: info.recordCount, features: fp, labels: lp)
        }
    }
    return (f, l, info)
}

@Suite struct CSVDatasetTests {
    /// Adult-style: header, spaces after commas, quoted fields holding the delimiter, a quote and
    /// a line break, a categorical column, text labels.
    static let adult = """
        age, workclass, hours, income
        39, State-gov, 40, <=50K
        50, "Self-emp, not-inc", 13, >50K
        38, Private, 40, <=50K
        53, "Pri""vate
        (sic)", 20, >50K

        """

    @Test func adultStyleFileIsEncodedAsDocumented() throws {
        let dir = TemporaryDirectory()
        let path = try dir.write("adult.csv", Self.adult)
        let d = try CSVDataset(
            options: PluginOptions([
                "path": .string(path), "label_column": .string("income"),
                "categorical_columns": .list([.string("workclass")]),
            ]), host: .standalone)
        let (f, l, info) = try readAll(d)
        // Categories sorted: `Pri"vate\n(sic)` < `Private` < `Self-emp, not-inc` < `State-gov`.
        #expect(d.categoryNames == [["Pri\"vate\n(sic)", "Private", "Self-emp, not-inc", "State-gov"]])
        #expect(info == DatasetInfo(recordCount: 4, classCount: 2, featureShape: [1 + 4 + 1]))
        // Label texts sorted: "<=50K" (0) < ">50K" (1).
        #expect(d.classNames == ["<=50K", ">50K"])
        #expect(l == [0, 1, 0, 1])
        #expect(
            f == [
                39, 0, 0, 0, 1, 40,
                50, 0, 0, 1, 0, 13,
                38, 0, 1, 0, 0, 40,
                53, 1, 0, 0, 0, 20,
            ])
    }

    @Test func standardizeAndMinMaxMatchHandComputedValues() throws {
        let dir = TemporaryDirectory()
        let path = try dir.write("adult.csv", Self.adult)
        func column0(_ scaling: String) throws -> [Float] {
            let d = try CSVDataset(
                options: PluginOptions([
                    "path": .string(path), "label_column": .string("income"),
                    "feature_columns": .list([.string("age")]), "numeric_scaling": .string(scaling),
                ]), host: .standalone)
            return try readAll(d).features
        }
        // ages 39, 50, 38, 53: mean 45, population sd sqrt((36 + 25 + 49 + 64) / 4) = sqrt(43.5).
        let sd = 43.5.squareRoot()
        let standardized = try column0("standardize")
        for (got, x) in zip(standardized, [39.0, 50, 38, 53]) { #expect(abs(Double(got) - (x - 45) / sd) < 1e-6) }
        #expect(try column0("minmax") == [1.0 / 15, 12.0 / 15, 0, 1].map { Float($0) })
    }

    @Test func wrongFieldCountNamesFileAndLine() throws {
        let dir = TemporaryDirectory()
        // The quoted line break makes record 3 start on line 5.
        let path = try dir.write("adult.csv", "a,b,y\n1,\"x\ny\",0\n2,3,1\n4,5\n6,7,0\n")
        let message = errorMessage {
            _ = try CSVDataset(
                options: PluginOptions([
                    "path": .string(path), "label_column": .string("y"), "categorical_columns": .list([.string("b")]),
                ]), host: .standalone)
        }
        #expect(message?.hasSuffix("adult.csv:5: expected 3 fields, found 2") == true, "\(message ?? "no error")")
    }

    @Test func nonNumericFieldNamesFileLineAndColumn() throws {
        let dir = TemporaryDirectory()
        let path = try dir.write("t.csv", "a,b,y\n1,2,0\n\n1,?,1\n")
        let message = errorMessage {
            _ = try CSVDataset(
                options: PluginOptions(["path": .string(path), "label_column": .string("y")]), host: .standalone)
        }
        #expect(
            message?.contains("t.csv:4: column `b`: `?` is not a finite number") == true, "\(message ?? "no error")")
    }

    @Test func headerlessTabFileWithIntegerLabels() throws {
        let dir = TemporaryDirectory()
        let path = try dir.write("purchase.tsv", "3\t0.5\t1\r\n7\t-1\t0\r\n3\t2e1\t1\r\n")
        func open(_ extra: [String: OptionValue]) throws -> CSVDataset {
            try CSVDataset(
                options: PluginOptions(
                    [
                        "path": .string(path), "label_column": .string("0"), "header": .bool(false),
                        "delimiter": .string("\t"),
                    ]
                    .merging(extra) { $1 }), host: .standalone)
        }
        let d = try open([:])
        let (f, l, info) = try readAll(d)
        #expect(l == [3, 7, 3])
        #expect(info == DatasetInfo(recordCount: 3, classCount: 8, featureShape: [2]))
        #expect(f == [0.5, 1, -1, 0, 20, 1])
        #expect(d.classNames.isEmpty)
        #expect(try open(["class_count": .int(100)]).info().classCount == 100)
        let narrow = errorMessage { _ = try open(["class_count": .int(5)]) }
        #expect(narrow?.contains("labels up to class 7") == true, "\(narrow ?? "no error")")
    }

    @Test func readsAWindowOfRecords() throws {
        let dir = TemporaryDirectory()
        let path = try dir.write("adult.csv", Self.adult)
        let d = try CSVDataset(
            options: PluginOptions([
                "path": .string(path), "label_column": .string("income"),
                "feature_columns": .list([.string("hours"), .string("age")]),
            ]), host: .standalone)
        var f = [Float](repeating: 0, count: 4)
        var l = [Int32](repeating: 0, count: 2)
        try f.withUnsafeMutableBufferPointer { fp in
            try l.withUnsafeMutableBufferPointer { try d.read(start: 2, count: 2, features: fp, labels: $0) }
        }
        #expect(f == [40, 38, 20, 53])
        #expect(l == [0, 1])
    }

    @Test(arguments: [
        ("a,b\n1,\"open\n", "a", "is not closed"),
        ("a,b\n1,2\n", "nope", "has no column `nope`; its columns are `a`, `b`"),
        ("a,b\n1,\"x\"z\n", "a", "unexpected `z` after a closing quote"),
        ("a,a\n1,2\n", "a", "names column `a` twice"),
        ("a,b\n", "a", "no records"),
    ])
    func malformedFilesAreClearErrors(text: String, label: String, expected: String) throws {
        let dir = TemporaryDirectory()
        let path = try dir.write("bad.csv", text)
        let message = errorMessage {
            _ = try CSVDataset(
                options: PluginOptions(["path": .string(path), "label_column": .string(label)]), host: .standalone)
        }
        #expect(message?.contains(expected) == true, "\(message ?? "no error")")
    }
}

@Suite struct CSVClassBoundTests {
    /// A stray label of 100000000 once made a 100-million-class dataset (17.7 GB): it is refused
    /// with its line.
    @Test func aHugeIntegerLabelIsRefusedWithItsLine() throws {
        let dir = TemporaryDirectory()
        let path = try dir.write("stray.csv", "x,y\n1,0\n2,1\n3,100000000\n4,1\n")
        do {
            _ = try CSVDataset(
                options: PluginOptions(["path": .string(path), "label_column": .string("y")]), host: .standalone)
            Issue.record("accepted a label of 100000000")
        } catch {
            #expect("\(error)".contains("\(path):4: label 100000000"), "\(error)")
        }
        let ok = try dir.write("ok.csv", "x,y\n1,0\n2,65535\n")
        let d = try CSVDataset(
            options: PluginOptions(["path": .string(ok), "label_column": .string("y")]), host: .standalone)
        #expect(try d.info().classCount == 65_536)
    }
}
