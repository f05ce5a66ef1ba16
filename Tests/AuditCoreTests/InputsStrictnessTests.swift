import Foundation
import Logging
import PluginKit
import Testing

@testable import AuditCore

/// Crashes become errors, and messages say the right thing (issue 13, items 4 and 10).
@Suite struct InputsStrictnessTests {
    func configError(_ yaml: String) -> String {
        do {
            _ = try AuditConfig.parse(yaml, file: "t.yaml")
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    static func config(run: String = "  name: t\n", dataset: String = "", audit: String = "") -> String {
        """
        run:
        \(run)dataset:
          plugin: idx
          audit_records: 100
        \(dataset)model:
          plugin: native
        audit:
        \(audit)  attacks:
            - plugin: loss-threshold

        """
    }

    @Test func countsAtInt64MaxAreConfigErrorsWithTheirLine() {
        let big = "9223372036854775807"
        let population = configError(Self.config(dataset: "  population_records: \(big)\n"))
        #expect(
            population.contains("t.yaml:6")
                && population.contains("`dataset.population_records`: must be at most 2147483647"), "\(population)")
        let threads = configError(Self.config(run: "  name: t\n  threads: \(big)\n"))
        #expect(threads.contains("`run.threads`: must be at most 4096"), "\(threads)")
        let bootstrap = configError(Self.config(audit: "  bootstrap_samples: \(big)\n"))
        #expect(bootstrap.contains("`audit.bootstrap_samples`: must be at most 1000000"), "\(bootstrap)")
        #expect(configError(Self.config(run: "  name: t\n  threads: 0\n")).contains("must be at least 1"))
    }

    @Test func runNamesCannotLeaveTheRunsFolder() {
        for bad in ["../../..", "a/b", "..", ".hidden", "a\\\\b"] {
            let message = configError(Self.config(run: "  name: \"\(bad)\"\n"))
            #expect(message.contains("`run.name`: a run name is one folder name"), "\(bad): \(message)")
        }
        #expect(configError(Self.config(run: "  name: ok-name_1.2\n")) == "accepted")
    }

    @Test func memoryEstimateRefusesPlansLargerThanTheMachine() {
        // 60,000 records of 28×28 and 10 classes fit in 1 GiB; a 100-million-class plan does not.
        #expect(
            MemoryEstimate.refusal(records: 60_000, featureShape: [1, 28, 28], classCount: 10, available: 1 << 30)
                == nil)
        let refused = MemoryEstimate.refusal(
            records: 60_000, featureShape: [1, 28, 28], classCount: 100_000_000, available: 64 << 30)
        #expect(
            refused?.contains("the plan needs at least 67055.") == true
                && refused?.contains("this machine has 64.0 GiB") == true, "\(refused ?? "nil")")
        // Counts whose product overflows Int are refused, not wrapped.
        #expect(
            MemoryEstimate.refusal(
                records: Int(Int32.max), featureShape: [Int(Int32.max), Int(Int32.max)], classCount: 2)?
                .contains("more memory than can be counted") == true)
    }

    @Test func timeLeftIsNeverNegative() {
        #expect(ProgressReporter.duration(42) == "42s")
        #expect(ProgressReporter.duration(187) == "3m07s")
        #expect(ProgressReporter.duration(3 * 3600 + 120) == "3h02m")
        #expect(ProgressReporter.duration(2 * 86400 + 4 * 3600) == "2d04h")
        // 10^12 s used to print as a negative hour count (Int through %d).
        #expect(ProgressReporter.duration(1e12) == "over a year")
        #expect(ProgressReporter.duration(-5) == "?")
    }

    @Test func aComponentOfARefusedLibraryIsNamedWithTheReason() throws {
        let registry = PluginRegistry()
        registry.load(fixture("FixtureWrongABI"))
        let config = try AuditConfig.parse(
            "run:\n  name: t\nsignals:\n  path: \(NSTemporaryDirectory())\naudit:\n  attacks:\n    - plugin: wrong-abi-attack\n",
            file: "t.yaml")
        do {
            _ = try AuditPlan.make(config, registry: registry, logger: Logger(label: "t"))
            Issue.record("accepted")
        } catch {
            let text = "\(error)"
            #expect(text.contains("no attack plugin named `wrong-abi-attack`"), "\(text)")
            #expect(
                text.contains("may be in a library that was not loaded: ")
                    && text.contains("libTestFixtureWrongABI.so: built for plugin ABI"), "\(text)")
        }
    }

    @Test func aSignalsFolderErrorIsNotFollowedByAReferenceModelsError() throws {
        let registry = PluginRegistry.discover(includeEnvironment: false)
        let empty = NSTemporaryDirectory() + "mia-empty-signals-\(getpid())"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let config = try AuditConfig.parse(
            "run:\n  name: t\nsignals:\n  path: \(empty)\naudit:\n  attacks:\n    - plugin: lira\n", file: "t.yaml")
        do {
            _ = try AuditPlan.make(config, registry: registry, logger: Logger(label: "t"))
            Issue.record("accepted")
        } catch {
            let text = "\(error)"
            #expect(text.contains("labels.npy"), "\(text)")
            #expect(!text.contains("reference_models.count"), "\(text)")
        }
    }

    @Test func aDuplicateComponentDoesNotReadAsAnUnloadedLibrary() throws {
        let dir = NSTemporaryDirectory() + "mia-dup2-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let copy = dir + "/libcopy2.so"
        try? FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: fixture("FixtureFailing"), toPath: copy)
        let registry = PluginRegistry()
        registry.load(fixture("FixtureFailing"))
        #expect(registry.load(copy) != nil, "the library with the duplicate loads")
        let problem = try #require(registry.problems.first { $0.path == copy })
        #expect(problem.libraryLoaded && problem.heading == "component ignored")
        #expect(problem.reason.contains("its other components are loaded"))
        #expect(registry.refusedLibrariesNote.isEmpty)
    }
}

/// What a reproduction must match is recorded in metrics.json (issue 13, item 13), each fact
/// once: the library hashes under `environment`, the CPU, kernel, configuration and threads under
/// `blas`.
@Suite struct RunEnvironmentTests {
    @Test func environmentHashesLibrariesAndBLASNamesCPUKernelThreads() throws {
        let library = fixture("FixtureFailing")
        let e = RunEnvironment.current(libraries: [library])
        var h = SHA256()
        h.update(try #require(FileManager.default.contents(atPath: library)))
        #expect(e.librarySHA256[library] == h.hexDigest())
        #expect(e.librarySHA256.count == 2, "the host binary and the plugin: \(e)")
        let blas = try BLASSummary.measure()
        #expect(!blas.kernel.isEmpty && blas.kernel != "unknown" && blas.version.contains("OpenBLAS"), "\(blas)")
        #expect(blas.cpu != "" && blas.threads >= 1)
        var summary = RunSummary(
            toolVersion: "t", runName: "r", createdAt: "now",
            dataset: DatasetSummary(name: "d", records: 1, classes: 2),
            target: TargetSummary(trainAccuracy: 1, testAccuracy: 1, history: []), fprs: [0.1])
        summary.environment = e
        summary.blas = blas
        let json = String(decoding: try summary.jsonData(), as: UTF8.self)
        #expect(json.contains("\"library_sha256\"") && json.contains("\"kernel\"") && json.contains("\"cpu\""))
        #expect(["generic", "avx2", "avx512"].contains(blas.vectorLevel ?? "") && json.contains("\"vector_level\""))
        #expect(
            !json.contains("\"blas_core\"") && !json.contains("\"cpu_model\""),
            "the kernel and CPU are recorded once, in blas")
        let decoded = try RunSummary.decode(jsonData: summary.jsonData())
        #expect(decoded.environment == e && decoded.blas == blas)
    }
}
