import Foundation
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
        #expect(throws: NpyError.self) { _ = try NpyArray.layout(bytes[...]) }
    }
}
