import Foundation
import Kernels
import PluginKit

extension ConformanceCheck {
    func checkDataset(_ c: ComponentInfo) {
        guard let base = baseOptions(c) else { return }
        let json = Self.json(base)
        announce("open(\(json))")
        let dataset: DynamicDataset
        do {
            dataset = try DynamicDataset(c, optionsJSON: json, bridge: bridge())
            record("open(\(json))", .ok, "")
        } catch {
            record("open(\(json))", .violation, "refused its own defaults: \(PluginError.from(error).message)")
            return
        }
        checkBadOptions(c, base, "open") { _ = try DynamicDataset(c, optionsJSON: $0, bridge: bridge()) }
        record("close(NULL) after each failed open", .ok, "")

        announce("info")
        let info: DatasetInfo
        do {
            info = try dataset.info()
            let again = try dataset.info()
            guard info == again else {
                record("info twice", .violation, "\(info) then \(again)")
                return
            }
            let sane =
                info.recordCount >= 0 && info.classCount >= 1 && !info.featureShape.isEmpty
                && info.featureShape.allSatisfy { $0 >= 1 }
            record(
                "info twice", sane ? .ok : .violation,
                "\(info.recordCount) records, \(info.classCount) classes, shape \(info.featureShape)"
                    + (sane ? "" : ": a dataset has at least one class and a non-empty shape of positive sizes"))
            if !sane { return }
        } catch {
            record("info", .violation, "failed after a successful open: \(PluginError.from(error).message)")
            return
        }
        let count = min(8, info.recordCount)
        guard count > 0 else { return }
        func read(_ d: DynamicDataset, _ start: Int, _ n: Int) throws -> (features: [Float], labels: [Int32]) {
            try d.read(start: start, count: n, featureShape: info.featureShape)
        }
        announce("read(0, \(count))")
        do {
            let first = try read(dataset, 0, count)
            let again = try read(dataset, 0, count)
            let bad = first.labels.firstIndex { $0 < 0 || Int($0) >= info.classCount }
            let nonFinite = first.features.firstIndex { !$0.isFinite }
            if let bad {
                record(
                    "read(0, \(count))", .violation,
                    "record \(bad) has label \(first.labels[bad]), outside [0, \(info.classCount))")
            } else if let nonFinite {
                record("read(0, \(count))", .violation, "feature \(nonFinite) is \(first.features[nonFinite])")
            } else {
                record("read(0, \(count))", .ok, "labels in range, features finite")
            }
            let same =
                first.labels == again.labels && first.features.map(\.bitPattern) == again.features.map(\.bitPattern)
            record(
                "read(0, \(count)) twice", same ? .ok : .violation,
                same ? "the same records" : "different records the second time")

            // Distinct instances from distinct threads at once (the header's threading rule).
            announce("read from two instances on two threads")
            var results: [Result<[Int32], Error>] = Array(repeating: .success([]), count: 2)
            let instances = try (0..<2).map { _ in try DynamicDataset(c, optionsJSON: json, bridge: bridge()) }
            results.withUnsafeMutableBufferPointer { out in
                Parallel.perform(2) { k in  // each call writes only its own `out[k]`
                    out[k] = Result { try read(instances[k], 0, count).labels }
                }
            }
            let agree = results.allSatisfy { (try? $0.get()) == first.labels }
            record(
                "read from two instances on two threads", agree ? .ok : .violation,
                agree ? "the same records" : "the instances read other records, or failed, at once")
        } catch {
            record("read(0, \(count))", .violation, "failed: \(PluginError.from(error).message)")
        }
        for (start, n) in [(info.recordCount, 1), (-1, 1), (0, info.recordCount + 1)] {
            let call = "read(\(start), \(n)) past the records"
            announce(call)
            do {
                _ = try read(dataset, start, n)
                record(call, .violation, "succeeded, reading records [\(start), \(start + n)) of \(info.recordCount)")
            } catch {
                refused(call, error)
            }
        }
    }
}
