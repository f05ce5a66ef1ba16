import Foundation

/// What a DP-SGD training with Dirac gradient canaries (`audit.canaries.kind: dirac`) reported,
/// kept beside the target in the model store: `<store>/<key>/gradient-canaries.json` with its
/// SHA-256 (`ArtifactChecksum`). The store key covers the canary settings (`Provenance`), so the
/// file belongs to that key's model and no other.
struct GradientCanaryFile: Codable, Sendable, Equatable {
    /// Per canary i: the host's coin, the parameter coordinate the backend drew, and its score
    /// (the sum over steps of the privatised gradient's coordinate).
    var included: [Bool]
    var coordinates: [Int]
    var scores: [Double]
    /// The seed the host gave the backend (coordinates and per-step sampling).
    var seed: UInt64

    static func path(_ store: ModelStore, key: String) -> String {
        (store.folder(key) as NSString).appendingPathComponent("gradient-canaries.json")
    }

    /// Writes the file, then its checksum.
    func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(self), to: path)
        try ArtifactChecksum.record(path)
    }

    /// The stored file of model `key`, nil when it is missing, corrupt or not `count` canaries long.
    static func read(_ store: ModelStore, key: String, count: Int) -> GradientCanaryFile? {
        let path = path(store, key: key)
        guard ArtifactChecksum.verify(path) == .intact, let data = FileManager.default.contents(atPath: path),
            let file = try? JSONDecoder().decode(GradientCanaryFile.self, from: data),
            file.included.count == count, file.coordinates.count == count, file.scores.count == count
        else { return nil }
        return file
    }
}
