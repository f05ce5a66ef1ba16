import Foundation
import PluginKit
import Testing

@testable import ModelPython

/// `.npy` arrays from a worker that trapped the host (seed of the worker-protocol fuzz harness,
/// fuzz/corpus/worker/shape-overflow.bin): refused with an error, never a trap of the host.
@Suite struct WorkerNpyHostileTests {
    @Test func shapeWhoseElementCountOverflowsIsRefused() {
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }"
        header += String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
        let len = header.utf8.count
        let bytes = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(len & 0xFF), UInt8(len >> 8)] + Array(header.utf8)
        #expect(throws: NpyError.self) { _ = try bytes.withUnsafeBytes { try Npy.parse($0, source: "t") } }
    }

    /// The in-memory arrays and the file codec are one: what `Npy.encode` writes, the header
    /// parser reads back, and a payload one byte short or long, an unknown element type or a
    /// Fortran-order array is refused naming the source.
    @Test func encodedArraysRoundTripAndBadOnesAreRefused() throws {
        let values: [Float] = [1.5, -0.0, .infinity, 3]
        let bytes = values.withUnsafeBytes { Npy.encode($0, descr: "<f4", shape: [2, 2]) }
        let header = try bytes.withUnsafeBytes { try Npy.parse($0, source: "t") }
        #expect(header.shape == [2, 2] && header.descr == "<f4" && header.payloadOffset % 64 == 0)
        var out = [Float](repeating: 0, count: 4)
        try bytes.withUnsafeBytes { raw in
            try out.withUnsafeMutableBufferPointer { try Npy.floats(raw, header, into: $0, source: "t") }
        }
        #expect(out.map(\.bitPattern) == values.map(\.bitPattern))

        let doubles: [Double] = [0.1, 2]
        let wide = doubles.withUnsafeBytes { Npy.encode($0, descr: "<f8", shape: [2]) }
        var narrowed = [Float](repeating: 0, count: 2)
        try wide.withUnsafeBytes { raw in
            let h = try Npy.parse(raw, source: "t")
            try narrowed.withUnsafeMutableBufferPointer { try Npy.floats(raw, h, into: $0, source: "t") }
        }
        #expect(narrowed == [Float(0.1), 2])

        for bad in [Array(bytes.dropLast()), bytes + [0]] {
            #expect(throws: NpyError.self) { _ = try bad.withUnsafeBytes { try Npy.parse($0, source: "t") } }
        }
        let ints = [Int32(1), 2].withUnsafeBytes { Npy.encode($0, descr: "<i4", shape: [2]) }
        let h = try ints.withUnsafeBytes { try Npy.parse($0, source: "t") }
        #expect(throws: NpyError.self) {
            try ints.withUnsafeBytes { raw in
                try narrowed.withUnsafeMutableBufferPointer { try Npy.floats(raw, h, into: $0, source: "t") }
            }
        }
        let complex = [UInt8](repeating: 0, count: 16).withUnsafeBytes { Npy.encode($0, descr: "<c8", shape: [2]) }
        #expect(throws: NpyError.self) {
            _ = try complex.withUnsafeBytes { try Npy.parse($0, source: "outputs") }
        }
        var fortran = String(decoding: bytes, as: UTF8.self)
        fortran = fortran.replacingOccurrences(of: "'fortran_order': False", with: "'fortran_order': True ")
        #expect(throws: NpyError.self) {
            _ = try Array(fortran.utf8).withUnsafeBytes { try Npy.parse($0, source: "t") }
        }
    }
}
