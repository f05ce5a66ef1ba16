import Foundation
import MIATestSupport
import Testing

/// Issue 13, item 12, end to end: an audit whose target is the `http` backend with
/// `headers: ["Authorization: Bearer ${MIA_TEST_TOKEN}"]`, the token in the environment, against a
/// prediction API on loopback (Python's standard library) that answers only that token and
/// records every Authorization header it receives. The API must see the expanded token; no file
/// of the run folder, and nothing the run prints, may hold it.
@Suite(
    .serialized, .enabled(if: FileManager.default.isExecutableFile(atPath: binary), "build the release binary first"))
struct SecretsEndToEndTests {
    let folder = NSTemporaryDirectory() + "mia-secrets-e2e-\(getpid())"

    static let server = """
        import json, math, sys, threading, os
        from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
        expected = "Bearer " + sys.argv[1]
        seen, lock = [], threading.Lock()
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args): pass
            def reply(self, code, body):
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers(); self.wfile.write(data)
            def do_GET(self):
                with lock: self.reply(200, {"authorization": seen})
            def do_POST(self):
                inputs = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["inputs"]
                auth = self.headers.get("Authorization")
                with lock: seen.append(auth)
                if auth != expected: return self.reply(401, {"error": "who are you"})
                out = []
                for x in inputs:
                    z = [sum(v * 0.3 * (j + 1) * (c - 1) for j, v in enumerate(x)) for c in range(3)]
                    m = max(z); e = [math.exp(v - m) for v in z]; s = sum(e)
                    out.append([v / s for v in e])
                self.reply(200, {"outputs": out})
        def watch_parent():
            sys.stdin.buffer.read()
            os._exit(0)
        threading.Thread(target=watch_parent, daemon=True).start()
        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """

    /// Starts the API answering `token`; returns the process, its stdin (closing it ends the
    /// server) and its port.
    func startServer(token: String) throws -> (Process, Pipe, Int) {
        let script = folder + "/server.py"
        try Self.server.write(toFile: script, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", script, token]
        let out = Pipe(), input = Pipe()
        p.standardOutput = out
        p.standardInput = input
        p.standardError = FileHandle.nullDevice
        try p.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line += chunk
        }
        let port = try #require(
            Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
        return (p, input, port)
    }

    /// A CSV of `n` records, 4 numeric features, 3 classes.
    func writeCSV(_ n: Int) throws -> String {
        var text = "a,b,c,d,label\n"
        var state: UInt64 = 42
        for i in 0..<n {
            var row: [String] = []
            for _ in 0..<4 {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                row.append(String(format: "%.3f", Double(state >> 40) / Double(1 << 24) * 2 - 1))
            }
            text += row.joined(separator: ",") + ",\(i % 3)\n"
        }
        let path = folder + "/data.csv"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test(.timeLimit(.minutes(3))) func theTokenReachesTheAPIAndNoFileOfTheRun() throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let token = "tok-" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
        let (server, input, port) = try startServer(token: token)
        defer {
            try? input.fileHandleForWriting.close()
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
        }
        let csv = try writeCSV(90)
        try (0..<60).filter { $0 % 2 == 0 }.map(String.init).joined(separator: "\n").write(
            toFile: folder + "/members.txt", atomically: true, encoding: .utf8)
        let output = folder + "/run"
        let config = """
            run:
              name: secrets
              output: \(output)
              threads: 1
            dataset:
              plugin: csv
              options: {path: \(csv), label_column: label}
              audit_records: 60
              population_records: 30
            target:
              plugin: http
              options:
                url: http://127.0.0.1:\(port)/predict
                headers: ["Authorization: Bearer ${MIA_TEST_TOKEN}"]
                cache_folder: ""
                retries: 0
                timeout_seconds: 20
              membership: \(folder)/members.txt
            model:
              plugin: native
              options: {architecture: mlp, hidden_sizes: [8], epochs: 2}
            reference_models:
              count: 2
            audit:
              bootstrap_samples: 0
              attacks:
                - plugin: loss-threshold
                - plugin: lira
                  options: {mode: offline}
            report:
              html: true
            """
        try config.write(toFile: folder + "/secrets.yaml", atomically: true, encoding: .utf8)

        let r = try mia(["run", folder + "/secrets.yaml", "--verbose"], environment: ["MIA_TEST_TOKEN": token])
        #expect(r.status == 0, "\(r.stderr)")

        // The API received the expanded token, and nothing else.
        let seen =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(string: "http://127.0.0.1:\(port)/")!))
            as? [String: [String?]]
        let headers = try #require(seen?["authorization"])
        #expect(!headers.isEmpty && headers.allSatisfy { $0 == "Bearer " + token }, "\(headers)")

        // No file of the run folder and no printed line holds it.
        #expect(!r.stdout.contains(token) && !r.stderr.contains(token))
        var files: [String] = []
        let walker = try #require(FileManager.default.enumerator(atPath: output))
        for case let name as String in walker {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: output + "/" + name, isDirectory: &isDir), !isDir.boolValue
            else { continue }
            files.append(name)
            let data = try Data(contentsOf: URL(fileURLWithPath: output + "/" + name))
            #expect(data.range(of: Data(token.utf8)) == nil, "\(name) holds the token")
        }
        for name in ["config.yaml", "metrics.json", "report.html", "run.json"] {
            #expect(files.contains(name), "\(files)")
        }
        let asRun = try String(contentsOfFile: output + "/config.yaml", encoding: .utf8)
        #expect(asRun.contains("Bearer ${MIA_TEST_TOKEN}"), "\(asRun)")
    }
}
