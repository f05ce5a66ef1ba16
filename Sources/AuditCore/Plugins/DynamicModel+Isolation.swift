import CPluginGuard
import Foundation
import PluginABI
import PluginKit

/// The host's side of a model instance in a child process (`plugins.isolation: process`; the
/// child is `IsolatedServer`): each `DynamicModel` call becomes one request of its
/// `IsolatedSession`, its arrays in a shared-memory block sized for the call. The child runs the
/// same `DynamicModel` code in process, so the numbers are the same bits.
///
/// Slots of a `train` block: 0 features, 1 labels, 2 held-out features, 3 held-out labels,
/// 4 auxiliary features, 5 auxiliary labels, 6 checkpoint epochs (i32). Of a `predict` block:
/// 0 features, 1 logits. Of a `create` block: 0 the options JSON (NUL-terminated).
extension DynamicModel {
    static func createInChild(_ session: IsolatedSession, optionsJSON: String, spec: ModelSpec) throws {
        let options = Array(optionsJSON.utf8) + [0]
        let block = try IsolatedCallBlock.arrays([options.count])
        defer { block.close() }
        options.withUnsafeBufferPointer { block.write($0, at: 0) }
        var m = IsolatedSession.request(Int32(MIA_SESSION_OPEN))
        m.values.0 = Int64(spec.classCount)
        m.values.1 = Int64(spec.featureShape.count)
        withUnsafeMutableBytes(of: &m.values) { v in
            for (i, d) in spec.featureShape.prefix(10).enumerated() {
                v.storeBytes(of: Int64(d), toByteOffset: (2 + i) * 8, as: Int64.self)
            }
        }
        try session.call("create", m, block: block)
    }

    func trainInChild(
        _ session: IsolatedSession, _ sets: [([Float]?, [Int32]?)], seed: UInt64, checkpointEpochs: [Int],
        onCheckpoint: ((Int) throws -> Void)?, onEpoch: ((EpochRecord) -> Void)?
    ) throws -> [EpochRecord] {
        // A set without labels is absent, as in process.
        let counts = sets.map { f, l in f != nil && !(l ?? []).isEmpty ? l!.count : 0 }
        let size = spec.featureSize
        let epochs = checkpointEpochs.map { Int32($0) }
        let lengths = counts.flatMap { [$0 * size * 4, $0 * 4] } + [epochs.count * 4]
        let block = try IsolatedCallBlock.arrays(lengths)
        defer { block.close() }
        for (i, (f, l)) in sets.enumerated() where counts[i] > 0 {
            f!.withUnsafeBufferPointer { block.write($0, at: 2 * i) }
            l!.withUnsafeBufferPointer { block.write($0, at: 2 * i + 1) }
        }
        epochs.withUnsafeBufferPointer { block.write($0, at: 6) }
        var m = IsolatedSession.request(Int32(MIA_SESSION_TRAIN))
        m.values.0 = Int64(counts[0])
        m.values.1 = Int64(counts[1])
        m.values.2 = Int64(counts[2])
        m.values.3 = Int64(epochs.count)
        m.values.4 = Int64(bitPattern: seed)
        m.values.5 = onCheckpoint != nil && !epochs.isEmpty ? 1 : 0
        var records: [EpochRecord] = []
        try session.call("train", m, block: block) { event in
            switch Int(event.kind) {
            case Int(MIA_SESSION_EPOCH):
                let n = event.numbers
                let e = EpochRecord(
                    epoch: Int(event.values.0), trainLoss: n.0, trainAccuracy: n.1, heldoutLoss: n.2,
                    heldoutAccuracy: n.3, seconds: n.4,
                    dpEpsilon: event.values.1 != 0 ? n.5 : nil)
                records.append(e)
                onEpoch?(e)
            case Int(MIA_SESSION_CHECKPOINT):
                // The host's work at a checkpoint (it may call this model's predict and save,
                // which the child serves while its training waits), then the answer.
                var answer = IsolatedSession.request(Int32(MIA_SESSION_RESUME))
                do {
                    try onCheckpoint?(Int(event.values.0))
                } catch {
                    let e = PluginError.from(error)
                    answer.status = e.status.rawValue
                    IsolatedSession.setText(&answer.text, e.message)
                }
                try session.send(answer, "train")
            default: break
            }
        }
        return records
    }

    func predictInChild(_ session: IsolatedSession, features: UnsafeBufferPointer<Float>, count n: Int, batch: Int)
        throws -> [Float]
    {
        let size = spec.featureSize, c = spec.classCount
        let block = try IsolatedCallBlock.arrays([n * size * 4, n * c * 4])
        defer { block.close() }
        block.write(UnsafeBufferPointer(rebasing: features[0..<(n * size)]), at: 0)
        var m = IsolatedSession.request(Int32(MIA_SESSION_PREDICT))
        m.values.0 = Int64(n)
        m.values.1 = Int64(batch)
        try session.call("predict", m, block: block)
        return block.read(1, Float.self, count: n * c)
    }

    func fileInChild(_ session: IsolatedSession, _ call: String, path: String) throws {
        guard path.utf8.count < 1024 else {
            throw PluginError(
                .invalidArgument, "the path is longer than 1023 bytes: \(path)",
                origin: "\(session.origin) failed in \(call)")
        }
        var m = IsolatedSession.request(Int32(call == "save" ? MIA_SESSION_SAVE : MIA_SESSION_LOAD))
        IsolatedSession.setText(&m.text, path)
        try session.call(call, m)
    }
}

extension DynamicDataset {
    static func openInChild(_ session: IsolatedSession, optionsJSON: String) throws {
        let options = Array(optionsJSON.utf8) + [0]
        let block = try IsolatedCallBlock.arrays([options.count])
        defer { block.close() }
        options.withUnsafeBufferPointer { block.write($0, at: 0) }
        try session.call("open", IsolatedSession.request(Int32(MIA_SESSION_OPEN)), block: block)
    }

    func infoInChild(_ session: IsolatedSession) throws -> DatasetInfo {
        let r = try session.call("info", IsolatedSession.request(Int32(MIA_SESSION_INFO)))
        let shape = withUnsafeBytes(of: r.values) { v in
            (0..<min(max(Int(r.values.2), 0), 9)).map { Int(v.load(fromByteOffset: (3 + $0) * 8, as: Int64.self)) }
        }
        return DatasetInfo(recordCount: Int(r.values.0), classCount: Int(r.values.1), featureShape: shape)
    }

    /// Records [start, start + count): the child writes them into shared memory.
    func readInChild(_ session: IsolatedSession, start: Int, count: Int, featureShape: [Int]) throws -> (
        features: [Float], labels: [Int32]
    ) {
        let size = featureShape.reduce(1, *)
        let block = try IsolatedCallBlock.arrays([count * size * 4, count * 4])
        defer { block.close() }
        var m = IsolatedSession.request(Int32(MIA_SESSION_READ))
        m.values.0 = Int64(start)
        m.values.1 = Int64(count)
        m.values.2 = Int64(featureShape.count)
        withUnsafeMutableBytes(of: &m.values) { v in
            for (i, d) in featureShape.prefix(9).enumerated() {
                v.storeBytes(of: Int64(d), toByteOffset: (3 + i) * 8, as: Int64.self)
            }
        }
        try session.call("read", m, block: block)
        return (block.read(0, Float.self, count: count * size), block.read(1, Int32.self, count: count))
    }
}
