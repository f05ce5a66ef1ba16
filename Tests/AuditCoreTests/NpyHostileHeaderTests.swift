import Foundation
import Testing

@testable import AuditCore

/// `.npy` headers found by the NPY fuzz harness (fuzz/harnesses/npy.swift): each is refused
/// with an `NpyError`, never a trap and never a silently different shape.
@Suite struct NpyHostileHeaderTests {
    /// A version-1 `.npy` file with header dictionary `dict` and `payload` bytes of data.
    func file(_ dict: String, payload: Int, version: UInt8 = 1) -> String {
        var header = dict
        header += String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
        let len = header.utf8.count
        let bytes =
            [0x93] + Array("NUMPY".utf8) + [version, 0, UInt8(len & 0xFF), UInt8(len >> 8)]
            + Array(header.utf8) + [UInt8](repeating: 0, count: payload)
        let path = NSTemporaryDirectory() + "mia-npy-hostile-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).npy"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        return path
    }

    @Test(arguments: [
        // The fuzzer's crash: an element count whose size in bytes overflows (a trap before).
        "(4, 22, 2, 499999999999999, 22)",
        "(2, 4611686018427387904)",
        // Negative dimensions whose product is positive were accepted as a shape.
        "(-1, -2)",
        // An entry that is not a number was skipped: (2, x) read as (2,).
        "(2, x)",
        "(2,, 3)",
    ])
    func hostileShapeIsRefused(shape: String) throws {
        let path = file("{'descr': '<f8', 'fortran_order': False, 'shape': \(shape), }", payload: 16)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: NpyError.self) { _ = try Npy.header(of: path) }
        #expect(throws: NpyError.self) { _ = try Npy.read(Double.self, from: path) }
    }

    @Test func validShapesStillParse() throws {
        for (text, shape, payload) in [
            ("(3,)", [3], 24), ("()", [], 8), ("(2, 0)", [2, 0], 0), ("(1, 2)", [1, 2], 16),
        ] {
            let path = file("{'descr': '<f8', 'fortran_order': False, 'shape': \(text), }", payload: payload)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let (values, read) = try Npy.read(Double.self, from: path)
            #expect(read == shape)
            #expect(values.count == payload / 8)
        }
    }

    @Test func unknownVersionIsRefused() {
        let path = file("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", payload: 16, version: 7)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: NpyError.self) { _ = try Npy.header(of: path) }
    }
}
