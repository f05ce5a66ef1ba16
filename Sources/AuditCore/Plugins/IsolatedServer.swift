import CPluginGuard
import Foundation
import Kernels
import Logging
import PluginABI
import PluginKit

/// The child's side of an `IsolatedSession` (`mia-audit isolated-serve LIBRARY KIND COMPONENT`):
/// loads the library, then serves the host's requests on descriptor 3 until `close`, running
/// each on an in-process `DynamicDataset` or `DynamicModel` (the same code as without isolation,
/// hence the same bits), with the arrays read from and written to the request's shared memory.
///
/// The plugin guard is off here: a crash or `exit` of the plugin ends this process as the plugin
/// ended it, and the host, which waits for the reply, words the error.
public enum IsolatedServer {
    /// Serves until the host closes the instance (or is gone); returns the exit status.
    public static func run(
        library: String, kind kindName: String, component name: String, label: String, logger: Logger
    ) -> Int32 {
        mia_isolated_child_setup()
        mia_guard_disable()
        let kind = ComponentKind.allCases.first { "\($0)" == kindName }
        let registry = PluginRegistry()
        registry.load(library)
        let component = kind.flatMap { registry.component($0, named: name) }
        let server = Server(
            component: component?.plugin.path == (library as NSString).resolvingSymlinksInPath ? component : nil,
            bridge: HostBridge(label: label, logger: logger, cancellation: CancellationFlag()))
        if server.component == nil {
            let why = registry.problems.map(\.description).joined(separator: "; ")
            server.refusal =
                "the child process found no \(kindName) `\(name)` in \(library)\(why.isEmpty ? "" : ": \(why)")"
        }
        return withExtendedLifetime(registry) { server.serve() }
    }

    /// The instance and the channel; requests arrive one at a time.
    final class Server: ProgressSink, @unchecked Sendable {
        let component: ComponentInfo?
        let bridge: HostBridge
        var refusal: String?
        var model: DynamicModel?
        var dataset: DynamicDataset?
        let channel = Int32(MIA_ISOLATED_CHANNEL_FD)

        init(component: ComponentInfo?, bridge: HostBridge) {
            self.component = component
            self.bridge = bridge
            bridge.progressSink = self
        }

        func serve() -> Int32 {
            var request = mia_isolated_message_t()
            while mia_isolated_receive(channel, &request, -1) == 1 {
                let closing = request.kind == Int32(MIA_SESSION_CLOSE)
                let reply = answer(request)
                guard mia_isolated_send(channel, [reply]) == 0, !closing else { return 0 }
            }
            return 0  // the host is gone
        }

        func report(task: String, done: Int, total: Int) {
            var m = IsolatedSession.request(Int32(MIA_SESSION_PROGRESS))
            m.values.0 = Int64(done)
            m.values.1 = Int64(total)
            IsolatedSession.setText(&m.text, task)
            _ = mia_isolated_send(channel, &m)
        }

        /// Runs one request; its reply carries the outcome.
        private func answer(_ request: mia_isolated_message_t) -> mia_isolated_message_t {
            var reply = IsolatedSession.request(Int32(MIA_SESSION_DONE))
            if request.blas_threads > 0 && Int(request.blas_threads) != BLAS.threadCount {
                BLAS.setThreadCount(Int(request.blas_threads))
            }
            do {
                let path = IsolatedSession.text(request.block)
                let block = path.isEmpty ? nil : try IsolatedCallBlock(path: path)
                defer { block?.close() }
                try run(request, block, &reply)
            } catch {
                let e = PluginError.from(error)
                reply.status = e.status.rawValue
                IsolatedSession.setText(&reply.text, e.message)
            }
            return reply
        }

        private func run(
            _ r: mia_isolated_message_t, _ block: IsolatedCallBlock?, _ reply: inout mia_isolated_message_t
        ) throws {
            if let refusal { throw PluginError(.io, refusal) }
            guard let component else { return }
            func needBlock() throws -> IsolatedCallBlock {
                guard let block else { throw PluginError(.internal, "the request has no shared memory") }
                return block
            }
            func values(from start: Int, count: Int) -> [Int] {
                withUnsafeBytes(of: r.values) { v in
                    (0..<min(max(count, 0), 12 - start)).map {
                        Int(v.load(fromByteOffset: (start + $0) * 8, as: Int64.self))
                    }
                }
            }
            switch Int(r.kind) {
            case Int(MIA_SESSION_OPEN):
                let options = try needBlock().pointer(0, CChar.self).map { String(cString: $0) } ?? "{}"
                if component.kind == .model {
                    let spec = ModelSpec(
                        featureShape: values(from: 2, count: Int(r.values.1)), classCount: Int(r.values.0))
                    model = try DynamicModel(component, optionsJSON: options, spec: spec, bridge: bridge)
                } else {
                    dataset = try DynamicDataset(component, optionsJSON: options, bridge: bridge)
                }
            case Int(MIA_SESSION_INFO):
                let info = try opened(dataset).info()
                reply.values.0 = Int64(info.recordCount)
                reply.values.1 = Int64(info.classCount)
                reply.values.2 = Int64(info.featureShape.count)
                withUnsafeMutableBytes(of: &reply.values) { v in
                    for (i, d) in info.featureShape.prefix(9).enumerated() {
                        v.storeBytes(of: Int64(d), toByteOffset: (3 + i) * 8, as: Int64.self)
                    }
                }
            case Int(MIA_SESSION_READ):
                let block = try needBlock()
                let (f, l) = try opened(dataset).read(
                    start: Int(r.values.0), count: Int(r.values.1),
                    featureShape: values(from: 3, count: Int(r.values.2)))
                f.withUnsafeBufferPointer { block.write($0, at: 0) }
                l.withUnsafeBufferPointer { block.write($0, at: 1) }
            case Int(MIA_SESSION_TRAIN):
                try train(r, try needBlock(), try opened(model))
            case Int(MIA_SESSION_PREDICT):
                let block = try needBlock(), model = try opened(model)
                let n = Int(r.values.0)
                guard let features = block.pointer(0, Float.self) else {
                    throw PluginError(.internal, "predict without features")
                }
                let logits = try model.predict(
                    features: UnsafeBufferPointer(start: features, count: n * model.spec.featureSize), count: n,
                    batch: Int(r.values.1))
                logits.withUnsafeBufferPointer { block.write($0, at: 1) }
            case Int(MIA_SESSION_SAVE):
                try opened(model).save(to: IsolatedSession.text(r.text))
            case Int(MIA_SESSION_LOAD):
                try opened(model).load(from: IsolatedSession.text(r.text))
            case Int(MIA_SESSION_CLOSE):
                model = nil
                dataset = nil
            default:
                throw PluginError(.internal, "unknown request \(r.kind)")
            }
        }

        private func opened<T>(_ instance: T?) throws -> T {
            guard let instance else { throw PluginError(.internal, "the instance was not created") }
            return instance
        }

        private func train(_ r: mia_isolated_message_t, _ block: IsolatedCallBlock, _ model: DynamicModel) throws {
            let size = model.spec.featureSize
            let counts = [Int(r.values.0), Int(r.values.1), Int(r.values.2)]
            func set(_ i: Int) -> ([Float]?, [Int32]?) {
                counts[i] == 0
                    ? (nil, nil)
                    : (
                        block.read(2 * i, Float.self, count: counts[i] * size),
                        block.read(2 * i + 1, Int32.self, count: counts[i])
                    )
            }
            let (f, l) = set(0), (hf, hl) = set(1), (af, al) = set(2)
            let epochs = block.read(6, Int32.self, count: Int(r.values.3)).map { Int($0) }
            let onCheckpoint: ((Int) throws -> Void)? =
                r.values.5 == 0 ? nil : { [self] epoch in try checkpoint(epoch) }
            _ = try model.train(
                features: f ?? [], labels: l ?? [], heldoutFeatures: hf, heldoutLabels: hl, auxiliaryFeatures: af,
                auxiliaryLabels: al,
                seed: UInt64(bitPattern: r.values.4), checkpointEpochs: epochs, onCheckpoint: onCheckpoint,
                onEpoch: { [self] e in
                    var m = IsolatedSession.request(Int32(MIA_SESSION_EPOCH))
                    m.values.0 = Int64(e.epoch)
                    m.values.1 = e.dpEpsilon == nil ? 0 : 1
                    m.numbers = (
                        e.trainLoss, e.trainAccuracy, e.heldoutLoss, e.heldoutAccuracy, e.seconds, e.dpEpsilon ?? .nan,
                        0, 0
                    )
                    _ = mia_isolated_send(channel, &m)
                })
        }

        /// At a checkpoint epoch: tells the host, serves its requests (predict, save) until its
        /// answer, and passes that answer to the training.
        private func checkpoint(_ epoch: Int) throws {
            var m = IsolatedSession.request(Int32(MIA_SESSION_CHECKPOINT))
            m.values.0 = Int64(epoch)
            guard mia_isolated_send(channel, &m) == 0 else { exit(0) }
            var request = mia_isolated_message_t()
            while mia_isolated_receive(channel, &request, -1) == 1 {
                if request.kind == Int32(MIA_SESSION_RESUME) {
                    guard request.status == MIA_OK else {
                        throw PluginError(
                            PluginStatus(rawValue: request.status) ?? .internal, IsolatedSession.text(request.text))
                    }
                    return
                }
                guard mia_isolated_send(channel, [answer(request)]) == 0 else { break }
            }
            exit(0)  // the host is gone
        }
    }
}
