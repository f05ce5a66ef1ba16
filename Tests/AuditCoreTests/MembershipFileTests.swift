import Foundation
import Testing

@testable import AuditCore

/// Membership files are read in a declared format, never guessed (issue 13, item 3).
@Suite struct MembershipFileTests {
    let dir: String

    init() throws {
        dir = NSTemporaryDirectory() + "mia-membership-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    func refusal(_ body: () throws -> Any) -> String {
        do {
            _ = try body()
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    @Test func aMaskWithOneBadValueIsRefusedNotReadAsIndices() throws {
        let n = 2000
        var mask = (0..<n).map { UInt8($0 % 2) }
        mask[17] = 2
        let path = dir + "/m.npy"
        try Npy.write(mask, shape: [n], to: path)
        let message = refusal { try MembershipFile.read(path, count: n) }
        #expect(message.contains(path) && message.contains("entry 17") && message.contains("is 2"), "\(message)")
        // Declared as indices, the same file is refused too (duplicates), never a 3-member set.
        #expect(refusal { try MembershipFile.read(path, count: n, format: .indices) }.contains("appears twice"))
        mask[17] = 1
        try Npy.write(mask, shape: [n], to: path)
        #expect(try MembershipFile.read(path, count: n) == mask.map { $0 == 1 })
    }

    @Test func indexListsMustBeDistinctAndInRange() throws {
        let path = dir + "/i.npy"
        try Npy.write([Int64(3), 5, 3], shape: [3], to: path)
        let twice = refusal { try MembershipFile.read(path, count: 10) }
        #expect(twice.contains("entry 2: member index 3 appears twice (first at entry 0)"), "\(twice)")
        try Npy.write([Int64(3), 10], shape: [2], to: path)
        #expect(
            refusal { try MembershipFile.read(path, count: 10) }.contains(
                "entry 1: member index 10 is outside the 10 audit records"))
        try Npy.write([Int32(1), 4], shape: [2], to: path)
        #expect(try MembershipFile.read(path, count: 5) == [false, true, false, false, true])
        let text = dir + "/m.txt"
        try "# members\n2\n0\n2\n".write(toFile: text, atomically: true, encoding: .utf8)
        #expect(refusal { try MembershipFile.read(text, count: 5) }.contains("appears twice"))
        #expect(refusal { try MembershipFile.read(text, count: 5, format: .mask) }.contains("needs a `.npy` file"))
    }

    @Test func anInt64MaskIsAMaskOnlyWhenDeclared() throws {
        let path = dir + "/m64.npy"
        let mask = (0..<6).map { Int64($0 % 2) }
        try Npy.write(mask, shape: [6], to: path)
        // Read by its dtype rule (int64: indices), a 0/1 mask is refused with a hint, not guessed.
        let message = refusal { try MembershipFile.read(path, count: 6) }
        #expect(message.contains("appears twice") && message.contains("membership_format: mask"), "\(message)")
        #expect(try MembershipFile.read(path, count: 6, format: .mask) == mask.map { $0 == 1 })
        // Wrong length.
        #expect(
            refusal { try MembershipFile.read(path, count: 7, format: .mask) }.contains(
                "one entry per audit record (7), has 6"))
    }

    @Test func signalsFolderAndConfigKeyUseTheSameStrictReader() throws {
        let folder = dir + "/signals"
        let n = 8
        try Npy.write((0..<n).map { Int32($0 % 3) }, shape: [n], to: folder + "/labels.npy")
        try Npy.write((0..<(n * 3)).map { Float($0 % 5) }, shape: [n, 3], to: folder + "/target_logits.npy")
        var mask = (0..<n).map { UInt8($0 % 2) }
        mask[5] = 2
        try Npy.write(mask, shape: [n], to: folder + "/target_membership.npy")
        func load(_ extra: String) throws -> ProvidedSignals {
            let config = try AuditConfig.parse(
                "run:\n  name: t\n  output: \(dir)/run\nsignals:\n  path: \(folder)\n\(extra)audit:\n  attacks:\n    - plugin: loss-threshold\n",
                file: "t.yaml")
            return try ProvidedSignals.load(try #require(config.signals))
        }
        #expect(refusal { try load("") }.contains("entry 5 of the membership mask is 2"))
        try Npy.write([Int64(1), 3, 5, 7], shape: [4], to: dir + "/members.npy")
        #expect(try load("  membership: \(dir)/members.npy\n").membership == (0..<n).map { $0 % 2 == 1 })
        try Npy.write((0..<n).map { Int64($0 % 2) }, shape: [n], to: dir + "/mask64.npy")
        #expect(
            try load("  membership: \(dir)/mask64.npy\n  membership_format: mask\n").membership
                == (0..<n).map { $0 % 2 == 1 })
        #expect(
            refusal { try load("  membership: \(dir)/mask64.npy\n  membership_format: bits\n") }.contains(
                "unknown membership format `bits`"))
        // Reference masks are strict too.
        try Npy.write((0..<n).map { UInt8($0 % 2) }, shape: [n], to: folder + "/target_membership.npy")
        try Npy.write([Float](repeating: 0, count: 2 * n * 3), shape: [2, n, 3], to: folder + "/reference_logits.npy")
        try Npy.write(
            (0..<(2 * n)).map { Int64($0 == 9 ? 3 : $0 % 2) }, shape: [2, n], to: folder + "/reference_membership.npy")
        #expect(refusal { try load("") }.contains("entry 9 (flat index) is 3"))
    }
}
