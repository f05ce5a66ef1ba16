import Foundation
import PluginKit
import Testing

@testable import DatasetCIFAR

@Suite struct CIFARDatasetTests {
    /// The pixel byte of record `r` at channel c, row y, column x in the synthetic files.
    static func pixel(_ r: Int, _ c: Int, _ y: Int, _ x: Int) -> UInt8 { UInt8((r * 31 + c * 7 + y * 3 + x) % 256) }

    /// A binary file of `labels.count` records, each with `labels[r]` as its label bytes.
    static func file(labels: [[UInt8]], firstRecord: Int) -> Data {
        var d = Data()
        for (i, l) in labels.enumerated() {
            d.append(contentsOf: l)
            let r = firstRecord + i
            for c in 0..<3 { for y in 0..<32 { for x in 0..<32 { d.append(pixel(r, c, y, x)) } } }
        }
        return d
    }

    @Test func cifar10RecordsSpanningTwoFilesAreChannelsHeightWidth() throws {
        let dir = TemporaryDirectory()
        let a = try dir.write("data_batch_1.bin", Self.file(labels: [[3], [9]], firstRecord: 0))
        let b = try dir.write("data_batch_2.bin", Self.file(labels: [[0], [5], [7]], firstRecord: 2))
        let d = try CIFARDataset(options: PluginOptions(["files": .list([.string(a), .string(b)])]), host: .standalone)
        let (f, l, info) = try readAll(d)
        #expect(info == DatasetInfo(recordCount: 5, classCount: 10, featureShape: [3, 32, 32]))
        #expect(l == [3, 9, 0, 5, 7])
        for (r, c, y, x) in [(0, 0, 0, 0), (1, 2, 31, 31), (3, 1, 5, 17), (4, 2, 0, 9)] {
            let got = f[r * 3072 + c * 1024 + y * 32 + x]
            #expect(got == Float(Self.pixel(r, c, y, x)) * Float(1.0 / 255))
        }
        // A window across the file boundary, and a limit inside the second file.
        var window = [Float](repeating: 0, count: 2 * 3072)
        var windowLabels = [Int32](repeating: 0, count: 2)
        try window.withUnsafeMutableBufferPointer { fp in
            try windowLabels.withUnsafeMutableBufferPointer { try d.read(start: 1, count: 2, features: fp, labels: $0) }
        }
        #expect(windowLabels == [9, 0])
        #expect(Array(window[...]) == Array(f[3072..<(3 * 3072)]))
        let limited = try CIFARDataset(
            options: PluginOptions(["files": .list([.string(a), .string(b)]), "limit": .int(3), "scale": .double(1)]),
            host: .standalone)
        let (lf, ll, linfo) = try readAll(limited)
        #expect(linfo.recordCount == 3)
        #expect(ll == [3, 9, 0])
        #expect(lf[2 * 3072 + 1024] == Float(Self.pixel(2, 1, 0, 0)))
    }

    @Test func cifar100FineAndCoarseLabels() throws {
        let dir = TemporaryDirectory()
        let path = try dir.write("train.bin", Self.file(labels: [[19, 99], [4, 30]], firstRecord: 0))
        func open(_ label: String) throws -> CIFARDataset {
            try CIFARDataset(
                options: PluginOptions([
                    "files": .list([.string(path)]), "variant": .string("cifar100"), "label": .string(label),
                ]), host: .standalone)
        }
        let (f, fine, info) = try readAll(try open("fine"))
        #expect(info.classCount == 100)
        #expect(fine == [99, 30])
        // The second label byte is not read as a pixel.
        #expect(f[3072] == Float(Self.pixel(1, 0, 0, 0)) * Float(1.0 / 255))
        let (_, coarse, coarseInfo) = try readAll(try open("coarse"))
        #expect(coarseInfo.classCount == 20)
        #expect(coarse == [19, 4])
    }

    @Test func sizeNotAMultipleOfTheRecordNamesTheFile() throws {
        let dir = TemporaryDirectory()
        let truncated = try dir.write("data_batch_3.bin", Self.file(labels: [[1], [2]], firstRecord: 0).dropLast(100))
        let message = errorMessage {
            _ = try CIFARDataset(options: PluginOptions(["files": .list([.string(truncated)])]), host: .standalone)
        }
        #expect(
            message?.contains("data_batch_3.bin` is 6046 bytes, not a whole number of cifar10 records of 3073 bytes")
                == true,
            "\(message ?? "no error")")
        // A CIFAR-100 file read as CIFAR-10: the size says which format it fits.
        let hundred = try dir.write("train.bin", Self.file(labels: [[1, 2]], firstRecord: 0))
        let wrongVariant = errorMessage {
            _ = try CIFARDataset(options: PluginOptions(["files": .list([.string(hundred)])]), host: .standalone)
        }
        #expect(wrongVariant?.contains("fits the cifar100 format") == true, "\(wrongVariant ?? "no error")")
    }

    @Test func labelOutOfRangeAndMissingFileAreErrors() throws {
        let dir = TemporaryDirectory()
        let path = try dir.write("bad.bin", Self.file(labels: [[1], [12]], firstRecord: 0))
        let message = errorMessage {
            _ = try CIFARDataset(options: PluginOptions(["files": .list([.string(path)])]), host: .standalone)
        }
        #expect(
            message?.contains("bad.bin`: record 1 has label 12, but cifar10 has 10 classes") == true,
            "\(message ?? "no error")")
        let missing = errorMessage {
            _ = try CIFARDataset(
                options: PluginOptions(["files": .list([.string(dir.path + "/nope.bin")])]), host: .standalone)
        }
        #expect(missing?.contains("nope.bin") == true)
    }
}
