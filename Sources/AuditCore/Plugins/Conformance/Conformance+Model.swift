import Foundation
import PluginKit

extension ConformanceCheck {
    /// A tiny task for models: 48 records of 6 features, 3 classes, linearly separable.
    static let modelSpec = ModelSpec(featureShape: [6], classCount: 3)
    static let modelLabels: [Int32] = (0..<48).map { Int32($0 % 3) }
    static let modelFeatures: [Float] = (0..<48 * 6).map { i in
        let record = i / 6, feature = i % 6
        return (feature % 3 == record % 3 ? 1 : 0) + Float((record * 7 + feature * 13) % 11) / 50
    }

    func checkModel(_ c: ComponentInfo) {
        guard let base = baseOptions(c) else { return }
        let json = Self.json(base)
        let spec = Self.modelSpec
        func make(_ options: String) throws -> DynamicModel {
            try DynamicModel(c, optionsJSON: options, spec: spec, bridge: bridge())
        }
        // `create` is tagged [any thread]: it runs on another thread than the one that drives the rest.
        let call = "create(\(json)) on another thread"
        announce(call)
        // Safe: the other thread writes `made` before `done.signal()`, this one reads it only after
        // `done.wait()`, and `create` is used only between the two.
        nonisolated(unsafe) var made: Result<DynamicModel, Error> = .failure(PluginError(.internal, "not run"))
        nonisolated(unsafe) let create: (String) throws -> DynamicModel = make
        let done = DispatchSemaphore(value: 0)
        Thread {
            made = Result { try create(json) }
            done.signal()
        }.start()
        done.wait()
        let model: DynamicModel
        switch made {
        case .success(let m):
            model = m
            record(call, .ok, "")
        case .failure(let error):
            record(call, .violation, "refused its own defaults: \(PluginError.from(error).message)")
            return
        }
        checkBadOptions(c, base, "create") { _ = try make($0) }
        record("destroy(NULL) after each failed create", .ok, "")

        let features = Self.modelFeatures, labels = Self.modelLabels
        func trained(_ call: String) throws -> [Float] {
            announce(call)
            _ = try model.train(features: features, labels: labels, seed: 7)
            announce("predict")
            return try model.predict(features: features, count: labels.count)
        }
        let first: [Float]
        do {
            first = try trained("train(48 records, seed 7) + predict")
            let bad = first.firstIndex { !$0.isFinite }
            record(
                "train(48 records, seed 7) + predict", bad == nil ? .ok : .violation,
                bad.map { "logit \($0) is \(first[$0])" } ?? "finite logits")
        } catch {
            record("train(48 records, seed 7) + predict", .violation, "failed: \(PluginError.from(error).message)")
            return
        }
        func same(_ call: String, _ body: () throws -> [Float]) {
            do {
                let again = try body()
                let i = zip(first, again).enumerated().first { $0.element.0.bitPattern != $0.element.1.bitPattern }?
                    .offset
                record(
                    call, i == nil ? .ok : .violation,
                    i.map { "logit \($0) is \(again[$0]), before \(first[$0])" } ?? "identical logits")
            } catch {
                record(call, .violation, "failed: \(PluginError.from(error).message)")
            }
        }
        same("predict again") {
            announce("predict again"); return try model.predict(features: features, count: labels.count)
        }
        same("train again from scratch, same seed") { try trained("train again from scratch, same seed") }

        let folder = NSTemporaryDirectory() + "mia-check-\(getpid())"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let saved = folder + "/model", corrupt = folder + "/corrupt"
        same("save + load into a new instance") {
            announce("save")
            try model.save(to: saved)
            let other = try make(json)
            announce("load")
            try other.load(from: saved)
            return try other.predict(features: features, count: labels.count)
        }
        _ = FileManager.default.createFile(
            atPath: corrupt, contents: Data("not a model \(String(repeating: "x", count: 100))".utf8))
        announce("load(a corrupt file)")
        do {
            try make(json).load(from: corrupt)
            record("load(a corrupt file)", .violation, "succeeded; a corrupt file must be an error")
        } catch {
            refused("load(a corrupt file)", error)
        }

        let outOfRange = labels.enumerated().map {
            $0.offset == 0 ? Int32(spec.classCount) : $0.offset == 1 ? -1 : $0.element
        }
        let trainCall = "train with labels \(spec.classCount) and -1 (records 0, 1)"
        announce(trainCall)
        do {
            let m = try make(json)
            _ = try m.train(features: features, labels: outOfRange, seed: 7)
            let logits = try m.predict(features: features, count: labels.count)
            record(
                trainCall, logits.allSatisfy(\.isFinite) ? .ok : .violation,
                logits.allSatisfy(\.isFinite) ? "handled: finite logits" : "trained, then predicted non-finite logits")
        } catch {
            refused(trainCall, error)
        }
        var nan = features
        nan[0] = .nan
        announce("predict with a NaN feature (record 0)")
        do {
            let logits = try model.predict(features: nan, count: labels.count)
            let others = logits[spec.classCount...].allSatisfy(\.isFinite)
            record(
                "predict with a NaN feature (record 0)", others ? .ok : .violation,
                others ? "handled" : "the NaN spread to other records' logits")
        } catch {
            refused("predict with a NaN feature (record 0)", error)
        }
    }
}
