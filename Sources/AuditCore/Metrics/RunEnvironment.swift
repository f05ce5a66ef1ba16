import Foundation
import Kernels

/// What a reproduction of a run must match to print the same numbers bit for bit, recorded in
/// `metrics.json` as `environment`: the CPU model, the BLAS kernel and configuration, the thread
/// count, and the SHA-256 of the host and of every plugin library the run used. On another CPU
/// (another kernel) results move in the third decimal of the AUCs (README).
public struct RunEnvironment: Codable, Sendable, Equatable {
    public var cpuModel: String
    public var blasCore: String
    public var blasConfig: String
    public var threads: Int
    /// SHA-256 of each library file used (the host binary and the plugins), by path.
    public var librarySHA256: [String: String]

    enum CodingKeys: String, CodingKey {
        case threads
        case cpuModel = "cpu_model", blasCore = "blas_core", blasConfig = "blas_config", librarySHA256 = "library_sha256"
    }

    /// This process's environment, with `threads` BLAS threads and the libraries at `paths`.
    public static func current(threads: Int, libraries paths: [String]) -> RunEnvironment {
        var hashes: [String: String] = [:]
        let host = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        for path in [host] + paths where hashes[path] == nil {
            hashes[path] = SHA256.hex(contentsOf: path) ?? "unreadable"
        }
        return RunEnvironment(cpuModel: cpuModel(), blasCore: BLAS.coreName, blasConfig: BLAS.configuration, threads: threads, librarySHA256: hashes)
    }

    /// The CPU's model name (`/proc/cpuinfo`), or `unknown`.
    static func cpuModel() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") { return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces) }
        }
        return "unknown"
    }
}
