import Foundation

/// The files a reproduction of a run must use, recorded in `metrics.json` as `environment`: the
/// SHA-256 of the host binary and of every plugin library the run used. The CPU, the BLAS kernel
/// and configuration and the thread count, which a reproduction must also match to print the same
/// numbers bit for bit, are recorded once, in `blas` (`BLASSummary`), beside the vector level of
/// the C kernels (`vector_level`: speed only, every level gives the same bits). On another CPU (another
/// kernel) results move in the third decimal of the AUCs (README).
struct RunEnvironment: Codable, Sendable, Equatable {
    /// SHA-256 of each library file used (the host binary and the plugins), by path.
    var librarySHA256: [String: String]

    enum CodingKeys: String, CodingKey {
        case librarySHA256 = "library_sha256"
    }

    /// The hashes of this process's binary and of the libraries at `paths`.
    static func current(libraries paths: [String]) -> RunEnvironment {
        var hashes: [String: String] = [:]
        let host =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        for path in [host] + paths where hashes[path] == nil {
            hashes[path] = SHA256.hex(contentsOf: path) ?? "unreadable"
        }
        return RunEnvironment(librarySHA256: hashes)
    }
}
