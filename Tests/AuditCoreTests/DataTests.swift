import CSHA256
import Foundation
import Testing

@testable import AuditCore

@Suite struct DataTests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        ),
    ])
    func sha256KnownVectors(input: String, digest: String) {
        #expect(SHA256.hex(input) == digest)
    }

    @Test func sha256MillionA() {
        var h = SHA256()
        h.update([UInt8](repeating: 0x61, count: 1_000_000))
        #expect(h.hexDigest() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func sha256OfContiguousBytesMatchesTheByteWisePath() throws {
        let path = NSTemporaryDirectory() + "mia-sha-\(getpid()).bin"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(repeating: 0x61, count: 1_000_000)))
        #expect(SHA256.hex(contentsOf: path) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        #expect(SHA256.hex(contentsOf: path + ".missing") == nil)
        // A partial block first, then whole blocks and a tail from one contiguous buffer.
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        var mixed = SHA256()
        mixed.update(bytes[0..<5])
        mixed.update(Data(bytes[5...]))
        var plain = SHA256()
        plain.update(bytes)
        #expect(mixed.hexDigest() == plain.hexDigest())
        // A file longer than the 1 MiB read block, not a whole number of 64-byte blocks: read in
        // pieces, it hashes as the same bytes hashed byte by byte.
        let long = (0..<(2_621_440 + 37)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
        let longPath = path + ".long"
        #expect(FileManager.default.createFile(atPath: longPath, contents: Data(long)))
        defer { try? FileManager.default.removeItem(atPath: longPath) }
        var byteWise = SHA256()
        for b in long { byteWise.update(CollectionOfOne(b)) }
        #expect(SHA256.hex(contentsOf: longPath) == byteWise.hexDigest())
    }

    /// The plain C compression function on FIPS 180-4's "abc" example, padded by hand: one block,
    /// whose state is the digest. (The vectors above run whichever implementation the CPU picks.)
    @Test func sha256PortableBlockGivesTheAbcDigest() {
        var block = [UInt8](repeating: 0, count: 64)
        block[0] = 0x61; block[1] = 0x62; block[2] = 0x63; block[3] = 0x80
        block[63] = 24  // the message length in bits
        var state: [UInt32] = [
            0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19,
        ]
        mia_sha256_blocks_portable(&state, block, 1)
        #expect(
            state == [
                0xba78_16bf, 0x8f01_cfea, 0x4141_40de, 0x5dae_2223, 0xb003_61a3, 0x9617_7a9c, 0xb410_ff61, 0xf200_15ad,
            ])
    }

    /// The SHA extensions and the plain C loop give the same state on drawn bytes and states, from
    /// 1 to 40 blocks at a time (so every schedule word and the carry between blocks is checked).
    /// On a CPU without the extensions only the refusal is checked (the vectors cover plain C).
    @Test func sha256ExtensionsMatchThePortableLoop() {
        var rng = TestRandom(0x5ea2_56)
        guard mia_sha256_uses_extensions() == 1 else {
            var state = [UInt32](repeating: 7, count: 8)
            #expect(mia_sha256_blocks_extensions(&state, [UInt8](repeating: 0, count: 64), 1) == 0)
            #expect(state == [UInt32](repeating: 7, count: 8))
            return
        }
        for blocks in 1...40 {
            let bytes = (0..<(64 * blocks + 3)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let start = (0..<8).map { _ in UInt32(truncatingIfNeeded: rng.next()) }
            var portable = start, extensions = start
            bytes.withUnsafeBufferPointer { p in
                // From an odd address: the loads must not assume alignment.
                mia_sha256_blocks_portable(&portable, p.baseAddress! + 3, blocks)
                #expect(mia_sha256_blocks_extensions(&extensions, p.baseAddress! + 3, blocks) == 1)
            }
            #expect(portable == extensions, "\(blocks) block(s)")
            #expect(portable != start)
        }
    }

    @Test func npyRoundTripAndHeader() throws {
        let path = NSTemporaryDirectory() + "mia-npy-\(getpid()).npy"
        let values: [Float] = [1, -2.5, 3, 4, 5, 6]
        try Npy.write(values, shape: [2, 3], to: path)
        let bytes = [UInt8](FileManager.default.contents(atPath: path)!)
        #expect(Array(bytes[0..<8]) == [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        #expect((10 + headerLength) % 64 == 0)
        #expect(bytes.count == 10 + headerLength + 24)
        let (back, shape) = try Npy.read(Float.self, from: path)
        #expect(back == values)
        #expect(shape == [2, 3])
        #expect(throws: NpyError.self) { try Npy.read(Double.self, from: path) }
        // A truncated file is refused.
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes.dropLast(4))))
        #expect(throws: NpyError.self) { try Npy.read(Float.self, from: path) }
    }

    @Test func membershipsAreBalancedAndSeeded() {
        let m = Memberships(recordCount: 101, referenceCount: 5, seed: 9)
        #expect(m.target.filter { $0 }.count == 50)
        #expect(m.references.count == 5)
        // Pairs are complementary, so with 4 paired references each record is IN exactly twice.
        for i in 0..<101 {
            #expect(m.references[0][i] != m.references[1][i])
            #expect((0..<4).filter { m.references[$0][i] }.count == 2)
        }
        #expect(Memberships(recordCount: 101, referenceCount: 5, seed: 9) == m)
        #expect(Memberships(recordCount: 101, referenceCount: 5, seed: 10) != m)
    }
}
