import Foundation
import PluginKit

/// What the store keeps beside a trained model.
struct ModelRecord: Codable, Sendable {
    var key: String
    var role: String
    var seed: UInt64
    var memberCount: Int
    var backend: String
    var backendVersion: String
    var history: [EpochRecord]
    var trainSeconds: Double
    /// The checkpoint epochs its training was asked for (`audit.checkpoints`; nil for none). An
    /// epoch listed here without a checkpoint file was never reached or never offered.
    var checkpointEpochs: [Int]? = nil
}

/// A folder of trained models and their logits, each under its key.
///
/// The key (`Provenance.modelKey`) is the SHA-256 of everything that determines the model: the
/// backend's and the dataset plugin's names, versions and library bytes, their options after
/// defaults, the content of the files their path options name, the record shape, the member
/// indices and the seed. `<store>/<key>/model.bin` is the backend's file (its format carries its
/// own checksum, checked when the backend loads it), `meta.json` the record (written last: a
/// folder without it is unfinished), `logits-<N>-<P>.npy` the logits on the audit and population
/// records; `model-epoch<E>.bin` and `logits-<N>-<P>-epoch<E>.npy` the same at a checkpoint
/// epoch E (`audit.checkpoints`). Every logits file has its SHA-256 beside it
/// (`ArtifactChecksum`, `<file>.sha256`), checked before reuse. `<store>/content-hashes.json`
/// remembers the digests of dataset files (`ContentHashes`). Every file is written to a
/// temporary name and renamed into place, so a killed run never leaves a half-written file that
/// looks complete.
struct ModelStore {
    let root: String

    func folder(_ key: String) -> String { (root as NSString).appendingPathComponent(key) }
    func modelPath(_ key: String) -> String { (folder(key) as NSString).appendingPathComponent("model.bin") }
    func metaPath(_ key: String) -> String { (folder(key) as NSString).appendingPathComponent("meta.json") }
    func logitsPath(_ key: String, audit: Int, population: Int) -> String {
        (folder(key) as NSString).appendingPathComponent("logits-\(audit)-\(population).npy")
    }

    /// The backend's file of the model as it was at the end of `epoch` (a checkpoint).
    func checkpointModelPath(_ key: String, epoch: Int) -> String {
        (folder(key) as NSString).appendingPathComponent("model-epoch\(epoch).bin")
    }
    /// The checkpoint's logits on the audit and population records.
    func checkpointLogitsPath(_ key: String, audit: Int, population: Int, epoch: Int) -> String {
        (folder(key) as NSString).appendingPathComponent("logits-\(audit)-\(population)-epoch\(epoch).npy")
    }

    /// The record of a finished model, or nil when it is missing or unfinished.
    func record(_ key: String) -> ModelRecord? {
        guard let data = FileManager.default.contents(atPath: metaPath(key)),
            FileManager.default.fileExists(atPath: modelPath(key))
        else { return nil }
        return try? ModelStore.decoder().decode(ModelRecord.self, from: data)
    }

    /// Saves a trained model: the backend writes a temporary file, renamed into place; then the record.
    func save(_ model: DynamicModel, record: ModelRecord) throws {
        try saveFile(model, to: modelPath(record.key))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try AtomicFile.write(try encoder.encode(record), to: metaPath(record.key))
    }

    /// Has the backend save `model` to `path` in a model's folder (created if need be), through a
    /// temporary file renamed into place: a half-written file never carries the name.
    func saveFile(_ model: DynamicModel, to path: String) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let tmp = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try model.save(to: tmp)
        guard rename(tmp, path) == 0 else {
            unlink(tmp)
            throw NpyError(path: path, message: "cannot rename the model file into place")
        }
    }

    static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return d
    }
}
