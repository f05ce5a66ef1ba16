import Foundation
import PluginKit
import Testing

@testable import ModelPython

/// Workers that break the protocol: each must give an error naming what went wrong, never a
/// crash or a hang of the host.
///
/// The "interpreter" here is a script standing in for `python3`: it ignores the serve command,
/// answers `hello` and `train` correctly (unless the mode breaks them), then answers `predict`
/// as the mode says.
@Suite struct WorkerProtocolTests {
    static let fakeInterpreter = """
        #!/usr/bin/env python3
        import json, os, struct, sys, io
        import numpy as np
        from mia_worker.protocol import read_message, write_message
        mode = sys.argv[sys.argv.index("--module") + 1]
        out = sys.stdout.buffer
        def raw(b):
            out.write(b); out.flush()
        def npy(a):
            buffer = io.BytesIO(); np.save(buffer, a); return buffer.getvalue()
        while True:
            message = read_message(sys.stdin.buffer)
            if message is None:
                sys.exit(0)
            op = message[0]["op"]
            if op == "hello":
                if mode == "garbage-hello":
                    raw(b"Loading model weights... done\\n")
                elif mode == "old-protocol":
                    write_message(out, {"ok": True, "protocol": 0})
                elif mode == "endless-header":
                    raw(b"{" + b" " * (1 << 21))
                else:
                    write_message(out, {"ok": True, "protocol": 1})
            elif op == "train":
                write_message(out, {"ok": True, "history": [{"epoch": 1, "train_loss": None}]})
            elif op == "predict":
                n = len(message[1]["features"])
                if mode == "bad-npy":
                    raw(b'{"ok":true,"arrays":["outputs"]}\\n' + struct.pack("<Q", 16) + b"0123456789abcdef")
                elif mode == "wrong-shape":
                    write_message(out, {"ok": True}, {"outputs": np.zeros((n, 3), np.float32)})
                elif mode == "int-outputs":
                    write_message(out, {"ok": True}, {"outputs": np.zeros((n, 2), np.int32)})
                elif mode == "no-outputs":
                    write_message(out, {"ok": True})
                elif mode == "huge-length":
                    raw(b'{"ok":true,"arrays":["outputs"]}\\n' + struct.pack("<Q", 1 << 62))
                elif mode == "nan-logits":
                    write_message(out, {"ok": True}, {"outputs": np.full((n, 2), np.nan, np.float32)})
                elif mode == "dies-mid-answer":
                    raw(b'{"ok":tr'); sys.stderr.write("segfault imitation\\n"); sys.stderr.flush(); os._exit(139)
                elif mode == "not-an-answer":
                    raw(b'{"progress": 0.5}\\n')
                elif mode == "truncated-array":
                    data = npy(np.zeros((n, 2), np.float32))
                    raw(b'{"ok":true,"arrays":["outputs"]}\\n' + struct.pack("<Q", len(data)) + data[:-4]); os._exit(0)
                elif mode == "array-short-of-header":
                    data = npy(np.zeros((n, 2), np.float32))[:-4]
                    raw(b'{"ok":true,"arrays":["outputs"]}\\n' + struct.pack("<Q", len(data)) + data)
                else:
                    write_message(out, {"ok": True}, {"outputs": np.ones((n, 2), np.float32)})
            else:
                write_message(out, {"ok": True})
        """

    @Test(arguments: [
        ("garbage-hello", "answered `hello` out of protocol: it wrote `Loading model weights... done\\n`"),
        ("old-protocol", "speaks protocol 0, this plugin 1"),
        ("endless-header", "header line is longer than 1 MiB"),
        ("bad-npy", "the `outputs` array: not a .npy file (bad magic)"),
        ("wrong-shape", "the `outputs` array: shape [2, 3], expected [2, 2]"),
        ("int-outputs", "expected a float array, got element type `<i4`"),
        ("no-outputs", "its answer has no `outputs` array"),
        ("huge-length", "claims 4611686018427387904 bytes"),
        ("nan-logits", "predict returned nan for record 0, class 0"),
        ("dies-mid-answer", "exited with status 139 during `predict`; its stderr ends with:\nsegfault imitation"),
        ("not-an-answer", "its header is not an answer"),
        ("truncated-array", "exited with status 0 during `predict`"),
        ("array-short-of-header", "holds 12 bytes of data, shape [2, 2] needs 16"),
        ("well-behaved", ""),
    ])
    func malformedAnswersAreErrors(mode: String, expected: String) throws {
        let dir = TemporaryDirectory("protocol")
        let interpreter = try dir.writeExecutable("fake-python", Self.fakeInterpreter)
        let model = try pythonModel(
            module: mode, spec: ModelSpec(featureShape: [1], classCount: 2), timeout: 20,
            extra: ["python": .string(interpreter)])
        let start = Date()
        let message = errorMessage {
            try model.train(features: [1, 2], labels: [0, 1], seed: 0)
            #expect(try model.predict([1, 2], count: 2) == [1, 1, 1, 1])
        }
        #expect(Date().timeIntervalSince(start) < 15, "no waiting for the deadline")
        if expected.isEmpty {
            #expect(message == nil)
        } else {
            #expect(message?.contains(expected) == true, "\(message ?? "no error")")
            #expect(message?.contains("python worker `\(mode)`") == true)
            // After the failure the model has no weights and says so (no use of a dead worker).
            #expect(errorMessage { _ = try model.predict([1], count: 1) } != nil)
        }
    }
}

/// The other direction: malformed requests to the real `mia_worker.serve` get a `protocol:`
/// error answer (and the worker exits with status 2), never a hang or a traceback on stdout.
@Suite struct WorkerServeProtocolTests {
    static func features(_ descr: String, _ values: [Float]) -> [UInt8] {
        values.withUnsafeBytes { Npy.encode($0, descr: descr, shape: [values.count, 1]) }
    }

    static let hello = WorkerMessage.request(
        "hello", [("protocol", "1"), ("spec", #"{"feature_shape":[1],"class_count":2}"#), ("options", "{}")])

    @Test(arguments: [
        ("not json", false, "protocol: the header is not JSON"),
        (#"{"op":"train"}"#, false, "protocol: `train` before `hello`"),
        (#"{"op":"frob"}"#, true, "protocol: unknown request `frob`"),
        (#"{"op":"predict","arrays":["features"]}"#, true, "protocol: array features is not a .npy file"),
        (#"{"op":"predict","arrays":"features"}"#, true, "protocol: `arrays` is not a list of names"),
        (#"{"op":"predict","arrays":["features"]}"#, true, "protocol: array `features` has dtype int32"),
    ])
    func malformedRequestsAreRefused(header: String, greet: Bool, expected: String) throws {
        let worker = try WorkerProcess(
            arguments: ["python3", "-m", "mia_worker.serve", "--module", Repository.examples + "/numpy_worker.py"],
            environment: ProcessInfo.processInfo.environment.merging(["PYTHONPATH": Repository.python]) { $1 })
        if greet {
            let (answer, _) = try worker.exchange(Self.hello, seconds: 30, isCancelled: { false })
            #expect(answer.ok)
        }
        var arrays: [(name: String, npy: [UInt8])] = []
        if header.contains(#""arrays":["features"]"#) {
            arrays = [
                (
                    "features",
                    expected.contains("dtype")
                        ? [1, 2].withUnsafeBytes { Npy.encode($0, descr: "<i4", shape: [2, 1]) }
                        : Array("definitely not numpy".utf8)
                )
            ]
        }
        let (answer, _) = try worker.exchange(
            WorkerMessage(header: header, arrays: arrays), seconds: 30, isCancelled: { false })
        #expect(!answer.ok)
        #expect(answer.error?.hasPrefix(expected) == true, "\(answer.error ?? "no error")")
        #expect(worker.reap(waitingSeconds: 10) != nil && worker.exitDescription == "exited with status 2")
    }
}
