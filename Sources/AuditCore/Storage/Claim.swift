import Foundation

/// A worker's claim on a model it is about to train, so that several processes (on one machine
/// or on many over a shared folder) can fill one store without training a model twice.
///
/// The claim is a file created with `O_CREAT | O_EXCL` in the model's folder, holding who took
/// it. Its holder touches it every `heartbeatSeconds`; a claim untouched for `ttlSeconds` belongs
/// to a dead worker, and the next worker takes it over (renaming it away first, which only one
/// taker can do). Release removes it, after the model's record is written.
final class Claim: @unchecked Sendable {
    let path: String
    let heartbeat: DispatchSourceTimer

    static let defaultTTLSeconds: Double = 60
    static let heartbeatSeconds: Double = 5

    init(path: String) {
        self.path = path
        heartbeat = DispatchSource.makeTimerSource(queue: .global())
        heartbeat.schedule(deadline: .now() + Claim.heartbeatSeconds, repeating: Claim.heartbeatSeconds)
        heartbeat.setEventHandler { [path] in _ = utime(path, nil) }
        heartbeat.resume()
    }

    /// Tries to claim `folder`; nil when a live worker holds it.
    static func acquire(in folder: String, ttlSeconds: Double = defaultTTLSeconds) throws -> Claim? {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = (folder as NSString).appendingPathComponent("claim")
        for _ in 0..<3 {
            let fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0o644)
            if fd >= 0 {
                let who = "\(ProcessInfo.processInfo.hostName) pid \(getpid()) at \(Date())\n"
                _ = who.withCString { write(fd, $0, strlen($0)) }
                close(fd)
                return Claim(path: path)
            }
            guard errno == EEXIST else {
                throw NpyError(path: path, message: "cannot create a claim: \(String(cString: strerror(errno)))")
            }
            guard let age = ageSeconds(path) else { continue }  // released meanwhile: try again
            if age < ttlSeconds && !holderIsDead(path) { return nil }
            // Stale: take it over. Only one taker's rename succeeds.
            let aside = path + ".stale-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            if rename(path, aside) == 0 { unlink(aside) }
        }
        return nil
    }

    /// Seconds since the claim at `path` was last touched, or nil when there is none.
    static func ageSeconds(_ path: String) -> Double? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        let modified = Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
        return Date().timeIntervalSince1970 - modified
    }

    /// Whether the claim at `path` was taken by a process of this host that no longer exists
    /// (killed with `kill -9`): then it is stale at once, without waiting for the TTL.
    static func holderIsDead(_ path: String) -> Bool {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return false }
        let f = text.split(separator: " ")
        guard f.count >= 3, f[1] == "pid", String(f[0]) == ProcessInfo.processInfo.hostName, let pid = Int32(f[2])
        else { return false }
        return kill(pid, 0) != 0 && errno == ESRCH
    }

    /// Whether a live worker holds a claim in `folder`.
    static func isHeld(in folder: String, ttlSeconds: Double = defaultTTLSeconds) -> Bool {
        let path = (folder as NSString).appendingPathComponent("claim")
        guard let age = ageSeconds(path) else { return false }
        return age < ttlSeconds && !holderIsDead(path)
    }

    func release() {
        heartbeat.cancel()
        unlink(path)
    }

    deinit { heartbeat.cancel() }
}
