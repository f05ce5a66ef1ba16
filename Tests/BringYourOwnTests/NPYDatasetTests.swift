import Foundation
import PluginKit
import Testing

@testable import DatasetNPY

/// The `npy` dataset loader on `.npy` files written here byte by byte (not with the codec
/// under test).
@Suite struct NPYDatasetTests {
    /// A version 1.0 `.npy` file: magic, header dictionary padded to 64 bytes, raw data.
    static func npy(descr: String, shape: [Int], data: Data) -> Data {
        let dims = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(dims), }"
        dict += String(repeating: " ", count: (64 - (10 + dict.utf8.count + 1) % 64) % 64) + "\n"
        var out = Data(
            [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(dict.utf8.count & 0xFF), UInt8(dict.utf8.count >> 8)])
        out.append(Data(dict.utf8))
        out.append(data)
        return out
    }

    static func bytes<T>(_ values: [T]) -> Data { values.withUnsafeBytes { Data($0) } }

    func open(_ options: [String: OptionValue]) throws -> NPYDataset {
        try NPYDataset(options: PluginOptions(options), host: .standalone)
    }

    @Test func float64FeaturesInt64LabelsWithScaleAndLimit() throws {
        let dir = TemporaryDirectory()
        // 3 records of shape [2, 2].
        let values: [Double] = (0..<12).map { Double($0) * 0.5 }
        let f = try dir.write("x.npy", Self.npy(descr: "<f8", shape: [3, 2, 2], data: Self.bytes(values)))
        let l = try dir.write("y.npy", Self.npy(descr: "<i8", shape: [3], data: Self.bytes([Int64(2), 0, 1])))
        let d = try open(["features": .string(f), "labels": .string(l), "scale": .double(2)])
        let (features, labels, info) = try readAll(d)
        #expect(info == DatasetInfo(recordCount: 3, classCount: 3, featureShape: [2, 2]))
        #expect(labels == [2, 0, 1])
        #expect(features == (0..<12).map { Float($0) })
        // A window, and a limit.
        var window = [Float](repeating: 0, count: 4), windowLabels = [Int32](repeating: -1, count: 1)
        try window.withUnsafeMutableBufferPointer { fp in
            try windowLabels.withUnsafeMutableBufferPointer { try d.read(start: 2, count: 1, features: fp, labels: $0) }
        }
        #expect(window == [8, 9, 10, 11] && windowLabels == [1])
        let limited = try open(["features": .string(f), "labels": .string(l), "limit": .int(2)])
        #expect(try limited.info() == DatasetInfo(recordCount: 2, classCount: 3, featureShape: [2, 2]))
        // A read past the limit is refused.
        var two = [Float](repeating: 0, count: 8), twoLabels = [Int32](repeating: 0, count: 2)
        #expect(throws: PluginError.self) {
            try two.withUnsafeMutableBufferPointer { fp in
                try twoLabels.withUnsafeMutableBufferPointer {
                    try limited.read(start: 1, count: 2, features: fp, labels: $0)
                }
            }
        }
    }

    @Test func uint8FeaturesInt32AndUint8Labels() throws {
        let dir = TemporaryDirectory()
        let f = try dir.write("x.npy", Self.npy(descr: "|u1", shape: [2, 3], data: Data([0, 255, 51, 102, 1, 2])))
        let l32 = try dir.write("y32.npy", Self.npy(descr: "<i4", shape: [2], data: Self.bytes([Int32(1), 4])))
        let l8 = try dir.write("y8.npy", Self.npy(descr: "|u1", shape: [2], data: Data([1, 4])))
        for l in [l32, l8] {
            let d = try open([
                "features": .string(f), "labels": .string(l), "scale": .double(1.0 / 255), "class_count": .int(10),
            ])
            let (features, labels, info) = try readAll(d)
            #expect(info == DatasetInfo(recordCount: 2, classCount: 10, featureShape: [3]))
            #expect(labels == [1, 4])
            #expect(features == [0, 255, 51, 102, 1, 2].map { Float($0) * Float(1.0 / 255) })
        }
        // One-dimensional features: one value per record.
        let flat = try dir.write("flat.npy", Self.npy(descr: "<f4", shape: [2], data: Self.bytes([Float(1.5), -2])))
        #expect(try open(["features": .string(flat), "labels": .string(l8)]).info().featureShape == [1])
    }

    /// The error of opening with these files, which must name `file` and `detail`.
    func expectError(_ options: [String: OptionValue], naming file: String, _ details: String...) {
        do {
            _ = try open(options)
            Issue.record("opened, expected an error naming \(file)")
        } catch {
            let text = "\(error)"
            #expect(text.contains(file), "\(text)")
            for d in details { #expect(text.contains(d), "\(text) lacks \(d)") }
        }
    }

    @Test func strictErrorsNameTheFileAndTheRecord() throws {
        let dir = TemporaryDirectory()
        let f = try dir.write(
            "x.npy", Self.npy(descr: "<f4", shape: [3, 2], data: Self.bytes([Float](repeating: 1, count: 6))))
        let labels = try dir.write("y.npy", Self.npy(descr: "<i4", shape: [3], data: Self.bytes([Int32(0), 1, 2])))
        // Record counts differ.
        let two = try dir.write("y2.npy", Self.npy(descr: "<i4", shape: [2], data: Self.bytes([Int32(0), 1])))
        expectError(["features": .string(f), "labels": .string(two)], naming: two, "3 records", "holds 2")
        // Labels not one-dimensional.
        let square = try dir.write(
            "y22.npy", Self.npy(descr: "<i4", shape: [3, 1], data: Self.bytes([Int32(0), 1, 2])))
        expectError(["features": .string(f), "labels": .string(square)], naming: square, "[3, 1]")
        // A label outside class_count, and a negative label: their records.
        expectError(
            ["features": .string(f), "labels": .string(labels), "class_count": .int(2)], naming: labels,
            "label 2 at record 2")
        let negative = try dir.write("yn.npy", Self.npy(descr: "<i8", shape: [3], data: Self.bytes([Int64(0), -1, 2])))
        expectError(["features": .string(f), "labels": .string(negative)], naming: negative, "label -1 at record 1")
        // Non-finite features: NaN in record 1, and a float64 overflowing float32 in record 2.
        let nan = try dir.write(
            "xn.npy", Self.npy(descr: "<f4", shape: [3, 2], data: Self.bytes([Float(0), 1, 2, .nan, 4, 5])))
        expectError(["features": .string(nan), "labels": .string(labels)], naming: nan, "record 1", "flat index 3")
        let huge = try dir.write(
            "xh.npy", Self.npy(descr: "<f8", shape: [3, 2], data: Self.bytes([0, 1, 2, 3, 1e300, 5.0])))
        expectError(["features": .string(huge), "labels": .string(labels)], naming: huge, "record 2")
        // Unsupported element types, a truncated file, a missing file.
        let int16 = try dir.write("x16.npy", Self.npy(descr: "<i2", shape: [3, 2], data: Data(count: 12)))
        expectError(["features": .string(int16), "labels": .string(labels)], naming: int16, "'<i2'")
        let floatLabels = try dir.write(
            "yf.npy", Self.npy(descr: "<f4", shape: [3], data: Self.bytes([Float(0), 1, 2])))
        expectError(["features": .string(f), "labels": .string(floatLabels)], naming: floatLabels, "'<f4'")
        let short = try dir.write(
            "xs.npy", Self.npy(descr: "<f4", shape: [3, 2], data: Self.bytes([Float](repeating: 1, count: 5))))
        expectError(["features": .string(short), "labels": .string(labels)], naming: short, "bytes")
        expectError(["features": .string(dir.path + "/absent.npy"), "labels": .string(labels)], naming: "absent.npy")
    }
}
