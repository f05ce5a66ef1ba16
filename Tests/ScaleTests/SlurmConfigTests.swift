import Foundation
import Testing

@testable import AuditCore

/// Issue 9: the `slurm:` section of a config, checked like every other section, and the command
/// line overriding it.
@Suite struct SlurmConfigTests {
    static let base = """
        run: {output: /tmp/mia-slurm-config, threads: 3}
        dataset:
          plugin: idx
          audit_records: 10
        model:
          plugin: native
        audit:
          attacks:
            - plugin: loss-threshold

        """

    func parse(_ slurm: String) throws -> AuditConfig {
        try AuditConfig.parse(Self.base + slurm, file: "/cfg/a.yaml")
    }

    func error(_ slurm: String) -> ConfigError? {
        do {
            _ = try parse(slurm)
            Issue.record("`\(slurm)` parsed")
            return nil
        } catch let e as ConfigError {
            return e
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test func readsEveryKey() throws {
        let c = try parse(
            """
            slurm:
              cpus_per_task: 4
              memory: 4G
              time: "1:30:00"
              partition: short
              account: lab-1
              max_parallel: 16
              sbatch_options: ["--qos=normal", "--constraint=avx2"]
              audit: {memory: 32G, time: "2-00:00:00"}
            """)
        #expect(
            c.slurm
                == SlurmConfig(
                    cpusPerTask: 4, memory: "4G", time: "1:30:00", partition: "short", account: "lab-1",
                    maxParallel: 16,
                    sbatchOptions: ["--qos=normal", "--constraint=avx2"], auditMemory: "32G", auditTime: "2-00:00:00"))
        // Absent: nothing set, CPUs from run.threads.
        let none = try AuditConfig.parse(Self.base, file: "/cfg/a.yaml")
        #expect(none.slurm == SlurmConfig())
        #expect(none.slurm.resources(threads: none.threads).train == SlurmResources(cpusPerTask: 3))
    }

    @Test func everyProblemNamesItsKeyAndLine() throws {
        // The section starts on line 10 of the file (the base is 9 lines).
        let cases: [(String, key: String, line: Int, says: String)] = [
            ("slurm:\n  memroy: 4G", "slurm.memroy", 11, "did you mean `memory`"),
            ("slurm:\n  memory: 4 GB", "slurm.memory", 11, "not a Slurm memory size"),
            ("slurm:\n  time: 1h", "slurm.time", 11, "not a Slurm time limit"),
            ("slurm:\n  cpus_per_task: 0", "slurm.cpus_per_task", 11, "at least 1"),
            ("slurm:\n  cpus_per_task: two", "slurm.cpus_per_task", 11, "must be an integer"),
            ("slurm:\n  partition: a b", "slurm.partition", 11, "not a partition name"),
            ("slurm:\n  max_parallel: 0", "slurm.max_parallel", 11, "at least 1"),
            (
                "slurm:\n  sbatch_options: [\"--qos=normal\", \"--array=0-3\"]", "slurm.sbatch_options[1]", 11,
                "`--array` is set by mia-audit"
            ),
            ("slurm:\n  sbatch_options:\n    - --mem=4G", "slurm.sbatch_options[0]", 12, "use `slurm.memory`"),
            ("slurm:\n  sbatch_options: [\"--qos normal\"]", "slurm.sbatch_options[0]", 11, "not one sbatch option"),
            ("slurm:\n  audit:\n    partition: x", "slurm.audit.partition", 12, "unknown key `partition`"),
            ("slurm:\n  audit: {time: soon}", "slurm.audit.time", 11, "not a Slurm time limit"),
            ("slurm: 4", "slurm", 10, "must be a mapping"),
            ("slurmm:\n  memory: 4G", "slurmm", 10, "did you mean `slurm`"),
        ]
        for (text, key, line, says) in cases {
            guard let e = error(text) else { continue }
            #expect(e.key == key, "\(text)")
            #expect(e.line == line, "\(text): \(e)")
            #expect(e.description.contains(says), "\(text): \(e)")
            #expect(e.description.contains("/cfg/a.yaml"), "\(e)")
        }
    }

    @Test func commandLineOverridesTheSection() throws {
        let c = try parse(
            """
            slurm:
              cpus_per_task: 4
              memory: 4G
              time: "10"
              partition: short
              sbatch_options: ["--qos=normal"]
              audit: {memory: 32G}
            """
        ).slurm
        let fromFile = c.resources(threads: 2)
        #expect(
            fromFile.train
                == SlurmResources(
                    cpusPerTask: 4, memory: "4G", time: "10", partition: "short", sbatchOptions: ["--qos=normal"]))
        #expect(
            fromFile.audit
                == SlurmResources(
                    cpusPerTask: 4, memory: "32G", time: "10", partition: "short", sbatchOptions: ["--qos=normal"]))
        let overridden = c.resources(
            threads: 2, memory: "8G", partition: "long", account: "lab", sbatchOptions: ["--qos=high", "--exclusive"])
        #expect(
            overridden.train
                == SlurmResources(
                    cpusPerTask: 4, memory: "8G", time: "10", partition: "long", account: "lab",
                    sbatchOptions: ["--qos=high", "--exclusive"]))
        // A command-line option sets both jobs, over `slurm.audit` too.
        #expect(overridden.audit.memory == "8G")
    }

    @Test func throttleAndExtraOptionsReachTheScripts() throws {
        let models = [1, 4, 7].map { ArrayPlan.Model(index: $0, role: "reference \($0)", key: "k\($0)") }
        let (train, audit) = SlurmConfig(memory: "4G", sbatchOptions: ["--qos=normal"], auditMemory: "16G").resources(
            threads: 2)
        let b = SlurmBatch(
            executable: "/bin/mia-audit", configPath: "/c.yaml", workingDirectory: "/w", runName: "r",
            folder: "/r/slurm",
            array: ArrayPlan(total: 8, missing: models), trainResources: train, auditResources: audit, maxParallel: 2)
        let script = try #require(b.trainScript)
        #expect(b.arraySpec == "1,4,7%2")
        #expect(script.contains("#SBATCH --array=1,4,7%2\n"))
        #expect(ArrayPlan.indices(b.arraySpec) == [1, 4, 7])
        #expect(script.contains("#SBATCH --qos=normal\n") && script.contains("#SBATCH --mem=4G\n"))
        #expect(b.auditScript.contains("#SBATCH --qos=normal\n") && b.auditScript.contains("#SBATCH --mem=16G\n"))
        #expect(!b.auditScript.contains("--mem=4G"))
    }

    /// `mia-audit slurm CONFIG` writes what the section asks, with its options on top.
    @Test(.timeLimit(.minutes(2))) func slurmCommandReadsTheSectionAndItsOptionsWin() throws {
        let binary = try ReleaseBinary.path()
        let dir = try ReleaseBinary.scratch("slurm-config")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config =
            ReleaseBinary.config(output: dir + "/run", references: 2) + """
                slurm:
                  cpus_per_task: 1
                  memory: 2G
                  time: "0:10:00"
                  partition: debug
                  max_parallel: 2
                  sbatch_options: ["--qos=normal"]

                """
        try config.write(toFile: dir + "/a.yaml", atomically: true, encoding: .utf8)
        let r = try Command.run(binary, ["slurm", dir + "/a.yaml", "--mem", "3G", "--max-parallel", "1"], cwd: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("--array=0-2%1"), "\(r.stdout)")
        let script = try String(contentsOfFile: dir + "/run/slurm/train.sbatch", encoding: .utf8)
        for line in [
            "--array=0-2%1", "--cpus-per-task=1", "--mem=3G", "--time=0:10:00", "--partition=debug", "--qos=normal",
        ] {
            #expect(script.contains("#SBATCH \(line)\n"), "\(line) missing in\n\(script)")
        }
        #expect(!script.contains("--mem=2G"))
        let bad = try Command.run(binary, ["slurm", dir + "/a.yaml", "--time", "1h"], cwd: dir)
        #expect(bad.status != 0 && bad.stderr.contains("not a Slurm time limit"), "\(bad.stderr)")
    }
}
