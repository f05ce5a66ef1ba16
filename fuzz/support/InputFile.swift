import Foundation

/// The fuzz input written to a per-process file in /dev/shm (or /tmp), for parsers that read a
/// path. Rewritten in place each run; removed at a normal exit (a crash leaves it).
enum InputFile {
    static let path: String = {
        let dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : NSTemporaryDirectory()
        atexit { unlink(InputFile.path) }
        return "\(dir)/mia-fuzz-\(getpid())-input"
    }()

    /// Writes the `size` bytes at `data` to `path`, replacing what was there.
    static func write(_ data: UnsafePointer<UInt8>, _ size: Int) -> String {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        precondition(fd >= 0, "cannot create \(path)")
        var done = 0
        while done < size {
            let n = Glibc.write(fd, data + done, size - done)
            precondition(n > 0, "cannot write \(path)")
            done += n
        }
        close(fd)
        return path
    }
}
