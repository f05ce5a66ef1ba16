import Foundation
import Testing

@testable import AuditCore

/// Headless Chromium for the rendering test: Debian's `chromium`, installed with apt-get when
/// missing and the test runs as root. Returns nil (and the test is skipped) only if that fails.
enum HeadlessChromium {
    static let path: String? = {
        func find() -> String? {
            ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first {
                FileManager.default.isExecutableFile(atPath: $0)
            }
        }
        if let found = find() { return found }
        guard getuid() == 0 else {
            print("chromium is missing and the tests do not run as root: cannot apt-get install it")
            return nil
        }
        print("chromium is missing: installing the Debian package (apt-get install -y chromium)")
        _ = run("/usr/bin/env", ["DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-q", "chromium"])
        if find() == nil {  // package lists may be stale
            _ = run("/usr/bin/env", ["apt-get", "update", "-q"])
            _ = run("/usr/bin/env", ["DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-q", "chromium"])
        }
        return find()
    }()

    /// Runs a program; returns its exit status, stdout and stderr.
    static func run(_ program: String, _ arguments: [String]) -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        // Output goes to files, so a chatty child can never block on a full pipe.
        let folder = FileManager.default.temporaryDirectory
        let outURL = folder.appendingPathComponent("chromium-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).out")
        let errURL = outURL.appendingPathExtension("err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        guard let out = try? FileHandle(forWritingTo: outURL), let err = try? FileHandle(forWritingTo: errURL) else {
            return (-1, "", "cannot create output files")
        }
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch { return (-1, "", "\(error)") }
        process.waitUntilExit()
        try? out.close()
        try? err.close()
        let outData = (try? Data(contentsOf: outURL)) ?? Data(), errData = (try? Data(contentsOf: errURL)) ?? Data()
        return (
            process.terminationStatus, String(decoding: outData, as: UTF8.self),
            String(decoding: errData, as: UTF8.self)
        )
    }

    /// Lines of Chromium's log that report a problem with the page: console messages (a script
    /// error shows as `INFO:CONSOLE ... Uncaught ...`) and failed loads.
    static func pageProblems(_ log: String) -> [Substring] {
        log.split(separator: "\n").filter {
            $0.contains("CONSOLE") || $0.contains("Uncaught") || $0.contains("net::ERR")
                || $0.contains("Failed to load")
        }
    }

    static func arguments(_ extra: [String], profile: URL) -> [String] {
        [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
            "--user-data-dir=\(profile.path)", "--enable-logging=stderr", "--v=0",
        ] + extra
    }
}

@Suite("HTML report in headless Chromium", .serialized)
struct ReportChromiumTests {
    @Test(
        "Loads without errors, every plot drawn; screenshot saved",
        .enabled(if: HeadlessChromium.path != nil, "chromium is not installed and could not be installed"),
        .timeLimit(.minutes(2)))
    func rendersInChromium() throws {
        let chromium = try #require(HeadlessChromium.path)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mia-report-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let page = folder.appendingPathComponent("report.html")
        let fixture = ReportFixture.make()
        try fixture.html().write(to: page, atomically: true, encoding: .utf8)
        let profile = folder.appendingPathComponent("profile")

        // The DOM as Chromium built it.
        let dom = HeadlessChromium.run(
            chromium, HeadlessChromium.arguments(["--dump-dom", page.absoluteString], profile: profile))
        #expect(dom.status == 0, "chromium --dump-dom failed: \(dom.err.suffix(2000))")
        for id in [
            "roc-linear", "roc-log", "scores-0", "scores-1", "scores-2", "history-accuracy", "history-loss", "stages",
        ] {
            let start = try #require(dom.out.range(of: "id=\"\(id)\""), "plot \(id) missing from the DOM")
            let end = try #require(dom.out.range(of: "</svg>", range: start.upperBound..<dom.out.endIndex))
            let svg = dom.out[start.lowerBound..<end.lowerBound]
            #expect(svg.contains("<path") && svg.contains(" d=\"M"), "plot \(id) has no drawn path")
        }
        #expect(dom.out.components(separatedBy: "<svg").count - 1 == 8)

        // The screenshot, and the console: no page error, no failed load.
        let png =
            ProcessInfo.processInfo.environment["MIA_REPORT_SCREENSHOT"].map { URL(fileURLWithPath: $0) }
            ?? folder.appendingPathComponent("report.png")
        let shot = HeadlessChromium.run(
            chromium,
            HeadlessChromium.arguments(
                ["--screenshot=\(png.path)", "--window-size=1200,3000", "--hide-scrollbars", page.absoluteString],
                profile: profile))
        #expect(shot.status == 0)
        for problem in HeadlessChromium.pageProblems(shot.err) { Issue.record("chromium reported: \(problem)") }
        let data = try Data(contentsOf: png)
        #expect(data.starts(with: [0x89, 0x50, 0x4E, 0x47]))  // PNG signature
        #expect(data.count > 50_000, "screenshot suspiciously small: \(data.count) bytes")
        print("report screenshot: \(png.path)")

        // The log check can fail: a page with a script error is caught.
        let broken = folder.appendingPathComponent("broken.html")
        try "<html><body><script>notDefinedAnywhere();</script></body></html>".write(
            to: broken, atomically: true, encoding: .utf8)
        let bad = HeadlessChromium.run(
            chromium,
            HeadlessChromium.arguments(
                [
                    "--screenshot=\(folder.appendingPathComponent("broken.png").path)", "--window-size=200,200",
                    broken.absoluteString,
                ],
                profile: profile))
        #expect(HeadlessChromium.pageProblems(bad.err).contains { $0.contains("notDefinedAnywhere") })
        if ProcessInfo.processInfo.environment["MIA_REPORT_SCREENSHOT"] != nil {
            try? FileManager.default.copyItem(at: page, to: png.deletingPathExtension().appendingPathExtension("html"))
        }
        try? FileManager.default.removeItem(at: folder)
    }
}
