import Foundation
import PluginKit

/// The one place that says what a cached result depends on: the key of every model, logits file
/// and attack score file the host reuses from an earlier run, and the seeds that go into them.
///
/// A key is the SHA-256 of a text listing everything that determines the result, scheme first
/// (`Provenance.scheme`; a new scheme never reuses anything keyed by an older one):
///
/// - each component (dataset, model backend, attack, a target trained elsewhere): its name, its
///   plugin's name and version, the SHA-256 of the plugin library's file (computed once per
///   process per library, so a rebuilt plugin with an unchanged version is another key), its
///   options after defaults (canonical JSON, sorted keys), and the content of every file or
///   folder its `path` options name (`ContentHashes`: the same path holding other data is
///   another key);
/// - for a model: the record shape, its member indices, its seed, and the range of public
///   records its training gets, and the canaries (`audit.canaries`) when there are any;
/// - for an attack's scores: the signals' key (every model's key and the record counts, and the
///   output defence), and the attack's seed.
///
/// Seeds come from names, never from positions in a list (`seed(run:name:)`): an attack's seed
/// from the run seed and its name, so reordering `audit.attacks` changes no attack's scores.
/// A model's seed from the run seed and its number (0 the target, i for reference i), which is
/// its name. Logits are the model's: a logits file is valid for its model's key and the record
/// counts in its name.
struct Provenance {
    /// Hashed first into every key.
    static let scheme = "mia-v3"

    let contentHashes: ContentHashes

    /// - Parameter store: the model store, which keeps the memory of file digests (nil: this process only).
    init(store: String?) {
        contentHashes = Provenance.hashes(for: store)
    }

    /// The identity of a configured component: what it is, the library's bytes, its options
    /// after defaults and the content its path options name.
    func identity(_ c: ResolvedComponent) -> String {
        var lines = [
            "component \(c.info.kind) \(c.info.name)@\(c.info.plugin.name)/\(c.info.plugin.version)",
            "library sha256=\(Provenance.libraryDigest(c.info.plugin.path))",
            "options=\(c.optionsJSON)",
        ]
        for option in c.info.options where option.type == .path {
            guard case .string(let path) = c.options[option.name] else { continue }
            lines.append("content \(option.name) sha256=\(contentHashes.digest(of: path))")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The key of a model trained in this host's store.
    func modelKey(
        backend: ResolvedComponent, dataset: ResolvedComponent, spec: ModelSpec, members: [Int], seed: UInt64,
        publicRecords: Range<Int>?, canaries: String? = nil
    ) -> String {
        var h = SHA256()
        h.update("\(Provenance.scheme) model\n")
        h.update("backend " + identity(backend))
        h.update("dataset " + identity(dataset))
        h.update("shape=\(spec.featureShape) classes=\(spec.classCount)\n")
        if let publicRecords { h.update("public_records=\(publicRecords.lowerBound)..<\(publicRecords.upperBound)\n") }
        // Canaries change records every model trains on (absent: the key of a run without them).
        if let canaries { h.update(canaries) }
        h.update("seed=\(seed)\nmembers=")
        h.update(raw: members.map { Int64($0) })
        return h.hexDigest()
    }

    /// The key of a target trained elsewhere: its backend, the model file it loads (by content)
    /// and the membership file (by content).
    func externalTargetKey(_ target: ResolvedComponent, modelFile: String?, membershipHash: String?) -> String {
        var h = SHA256()
        h.update("\(Provenance.scheme) external-target\n")
        h.update(identity(target))
        h.update("model_file sha256=\(modelFile.map { contentHashes.digest(of: $0) } ?? "-")\n")
        h.update("membership sha256=\(membershipHash ?? "-")\n")
        return h.hexDigest()
    }

    /// The key of an attack's scores on `signalsKey`'s signals with `seed`.
    func scoresKey(_ attack: ResolvedComponent, signalsKey: String, seed: UInt64) -> String {
        var h = SHA256()
        h.update("\(Provenance.scheme) scores\n")
        h.update(identity(attack))
        h.update("signals=\(signalsKey)\nseed=\(seed)\n")
        return h.hexDigest()
    }

    /// A seed from the run seed and a name: the first 8 bytes (big-endian) of
    /// SHA-256("mia-seed-v1\n<run seed>\n<name>"). Attacks use the name `attack <name>`.
    static func seed(run: UInt64, name: String) -> UInt64 {
        var h = SHA256()
        h.update("mia-seed-v1\n\(run)\n\(name)")
        return h.finalize().prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// Writes the file digests computed in this process to the store's memory of them.
    func save() throws { try contentHashes.save() }

    // MARK: Process-wide memories

    private static let lock = NSLock()
    nonisolated(unsafe) private static var libraries: [String: String] = [:]
    nonisolated(unsafe) private static var stores: [String: ContentHashes] = [:]

    /// The SHA-256 of a plugin library's file, read once per process.
    static func libraryDigest(_ path: String) -> String {
        if let known = lock.withLock({ libraries[path] }) { return known }
        let digest = SHA256.hex(contentsOf: path) ?? ContentHashes.unreadable(path)
        lock.withLock { libraries[path] = digest }
        return digest
    }

    /// One `ContentHashes` per store per process, keeping its memory in `<store>/content-hashes.json`.
    static func hashes(for store: String?) -> ContentHashes {
        lock.withLock {
            let key = store ?? ""
            if let known = stores[key] { return known }
            let made = ContentHashes(
                cachePath: store.map { ($0 as NSString).appendingPathComponent("content-hashes.json") })
            stores[key] = made
            return made
        }
    }
}
