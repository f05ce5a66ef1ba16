// T1 benchmark driver for the native backend (WORKLOADS.md): trains and times an MLP or LeNet-5
// on Fashion-MNIST, times inference, or measures the machine's sgemm rate (`--mode conv`: the
// convolution kernels alone, ConvBench.swift). Prints one JSON
// object on standard output. BLAS threads come from OPENBLAS_NUM_THREADS (run_t1.sh sets 2).
import Foundation
import Kernels
import ModelNative
import PluginKit

func gunzip(_ path: String) -> [UInt8] {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/gzip")
    p.arguments = ["-dc", path]
    let pipe = Pipe()
    p.standardOutput = pipe
    try! p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return [UInt8](data)
}

func load(_ split: String, count: Int) -> ([Float], [Int32]) {
    let dir = "/usr/share/datasets/fashion-mnist"
    let images = gunzip("\(dir)/\(split)-images-idx3-ubyte.gz")
    let labels = gunzip("\(dir)/\(split)-labels-idx1-ubyte.gz")
    return (images[16..<(16 + count * 784)].map { Float($0) / 255 }, labels[8..<(8 + count)].map { Int32($0) })
}

func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// CPU seconds this process has used (all threads): on a shared machine its
/// difference over a pass is the work done, which other processes' load disturbs far less than
/// the wall time.
func cpuSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

func median(_ v: [Double]) -> Double {
    guard !v.isEmpty else { return .nan }
    let s = v.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

func json(_ d: [String: Any]) -> String {
    String(decoding: try! JSONSerialization.data(withJSONObject: d, options: [.sortedKeys]), as: UTF8.self)
}

let args = CommandLine.arguments.dropFirst()
func option(_ name: String, _ fallback: String) -> String {
    if let i = args.firstIndex(of: "--\(name)"), args.index(after: i) < args.endIndex {
        return args[args.index(after: i)]
    }
    return fallback
}
let mode = option("mode", "train")

if mode == "gemm" {
    // The machine's single-precision GEMM rate: square products, median of several.
    let n = Int(option("size", "2048"))!
    let a = [Float](repeating: 0.5, count: n * n)
    let b = [Float](repeating: 0.25, count: n * n)
    var c = [Float](repeating: 0, count: n * n)
    var rates: [Double] = []
    for _ in 0..<7 {
        let t0 = now()
        BLAS.gemm(false, false, m: n, n: n, k: n, a, lda: n, b, ldb: n, beta: 0, &c, ldc: n)
        rates.append(2 * Double(n * n * n) / (now() - t0) / 1e9)
    }
    print(
        json([
            "side": "native", "gemm_gflops": median(Array(rates.dropFirst())), "threads": BLAS.threadCount,
            "blas_kernel": BLAS.library.kernel, "blas_chosen_by": BLAS.library.source.rawValue,
            "cpu": CPUFeatures.current.modelName, "vector_level": "\(VectorLevel.current)",
        ]))
    exit(0)
}

if mode == "shapes" {
    // GEMM rate of each LeNet-5 and T1-MLP product at batch 128 (inference: chunks of 1,024),
    // as (transA, transB, m, n, k).
    let shapes: [(String, Bool, Bool, Int, Int, Int)] = [
        ("conv1 fwd", false, true, 100352, 6, 25), ("conv1 fwd T", true, true, 100352, 6, 25),
        ("conv1 dW", true, false, 6, 25, 100352), ("conv1 dW T", true, true, 6, 25, 100352),
        ("conv2 fwd", false, true, 12800, 16, 150), ("conv2 dW", true, false, 16, 150, 12800),
        ("conv2 dcol", false, false, 12800, 150, 16), ("fc1 fwd", false, true, 128, 120, 400),
        ("fc1 dW", true, false, 120, 400, 128), ("fc1 dx", false, false, 128, 400, 120),
        ("mlp fc1 fwd", false, true, 128, 512, 784), ("mlp fc1 dW", true, false, 512, 784, 128),
        ("mlp fc2 fwd", false, true, 128, 256, 512), ("mlp fc2 dW", true, false, 256, 512, 128),
        ("mlp fc2 dx", false, false, 128, 512, 256), ("mlp infer fc1", false, true, 1024, 512, 784),
    ]
    for (name, ta, tb, m, n, k) in shapes {
        let a = [Float](repeating: 0.5, count: m * k)
        let b = [Float](repeating: 0.25, count: k * n)
        var c = [Float](repeating: 0, count: m * n)
        var times: [Double] = []
        for _ in 0..<30 {
            let t0 = now()
            BLAS.gemm(ta, tb, m: m, n: n, k: k, a, lda: ta ? m : k, b, ldb: tb ? k : n, beta: 0, &c, ldc: n)
            times.append(now() - t0)
        }
        let t = median(times)
        print(
            name, String(format: "%.3f ms  %.1f GFLOP/s", t * 1e3, 2 * Double(m * n * k) / t / 1e9), "(\(m)x\(n)x\(k))")
    }
    exit(0)
}

if mode == "im2col" {
    // im2col and col2im alone, per image, on the convolution shapes of W1 and of `cnn`, as
    // Conv2D calls them: a batch of 128 images, one patch matrix reused for each (it stays in
    // cache), each pass over the batch timed, the fastest of 30 (nanoseconds per image; the
    // fastest, not the median, as a shared machine preempts some passes).
    let shapes: [(String, WindowGeometry)] = [
        ("lenet conv2 6x14x14 k5", WindowGeometry(height: 14, width: 14, channels: 6, kernel: 5)),
        ("lenet conv1 1x28x28 k5 p2", WindowGeometry(height: 28, width: 28, channels: 1, kernel: 5, padding: 2)),
        ("cnn 32x14x14 k3 p1", WindowGeometry(height: 14, width: 14, channels: 32, kernel: 3, padding: 1)),
        (
            "stride 2 8x15x15 k3 p1",
            WindowGeometry(height: 15, width: 15, channels: 8, kernel: 3, stride: 2, padding: 1)
        ),
    ]
    let batch = 128
    var rows: [[String: Any]] = []
    for (name, g) in shapes {
        let per = g.patchSize * g.outPlane
        let x = (0..<(batch * g.inputSize)).map { Float($0 % 97) * 0.01 }
        var col = [Float](repeating: 0, count: per)
        var dx = [Float](repeating: 0, count: batch * g.inputSize)
        var forward: [Double] = []
        var backward: [Double] = []
        x.withUnsafeBufferPointer { xp in
            col.withUnsafeMutableBufferPointer { cp in
                dx.withUnsafeMutableBufferPointer { dp in
                    for _ in 0..<30 {
                        var t0 = now()
                        for b in 0..<batch {
                            Im2col.forward(xp.baseAddress! + b * g.inputSize, g, into: cp.baseAddress!)
                        }
                        forward.append((now() - t0) / Double(batch))
                        t0 = now()
                        for b in 0..<batch {
                            Im2col.backward(cp.baseAddress!, g, into: dp.baseAddress! + b * g.inputSize)
                        }
                        backward.append((now() - t0) / Double(batch))
                    }
                }
            }
        }
        let (f, b) = (forward.min()!, backward.min()!)
        print(name, String(format: "im2col %.0f ns  col2im %.0f ns per image", f * 1e9, b * 1e9))
        rows.append(["shape": name, "im2col_ns": f * 1e9, "col2im_ns": b * 1e9])
    }
    print(
        json([
            "side": "native", "mode": "im2col", "cpu": CPUFeatures.current.modelName,
            "vector_level": "\(VectorLevel.current)", "rows": rows,
        ]))
    exit(0)
}

if mode == "conv" {
    let rows = convBench()
    print(
        json([
            "side": "native", "mode": "conv", "cpu": CPUFeatures.current.modelName,
            "vector_level": "\(VectorLevel.current)", "blas_kernel": BLAS.library.kernel, "rows": rows,
        ]))
    exit(0)
}

let model = option("model", "mlp")
let trainCount = Int(option("train", "30000"))!
let epochs = Int(option("epochs", "4"))!
let inferCount = Int(option("infer", "10000"))!
let batchSize = Int(option("batch", "128"))!  // T1's is 128; other sizes show where the caches end
let (x, y) = load("train", count: trainCount)
let (tx, _) = load("t10k", count: inferCount)

var options: [String: OptionValue] = [
    "optimizer": .string("adam"), "learning_rate": .double(1e-3), "batch_size": .int(batchSize), "epochs": .int(epochs),
]
switch model {
case "mlp":
    options["architecture"] = .string("mlp")
    options["hidden_sizes"] = .list([.int(512), .int(256)])
case "cnn":
    // The configurable CNN with its defaults (not a T1 row; a smoke test of wide layers).
    options["architecture"] = .string("cnn")
default:
    options["architecture"] = .string("lenet5")
}
let net = try NativeModel(
    options: PluginOptions(options), spec: ModelSpec(featureShape: [1, 28, 28], classCount: 10), host: .standalone)
var seconds: [Double] = []
var losses: [Double] = []
var accuracy = 0.0
try x.withUnsafeBufferPointer { xp in
    try y.withUnsafeBufferPointer { yp in
        try net.train(TrainingData(features: xp, labels: yp, seed: 1)) { r in
            seconds.append(r.seconds)
            losses.append(r.trainLoss)
            accuracy = r.trainAccuracy
        }
    }
}
var logits = [Float](repeating: 0, count: inferCount * 10)
var inferSeconds: [Double] = []
var inferCPUSeconds: [Double] = []
for _ in 0..<5 {
    let (t0, c0) = (now(), cpuSeconds())
    try tx.withUnsafeBufferPointer { xp in
        try logits.withUnsafeMutableBufferPointer { try net.predict(features: xp, count: inferCount, into: $0) }
    }
    inferSeconds.append(now() - t0)
    inferCPUSeconds.append(cpuSeconds() - c0)
}
print(
    json([
        "side": "native", "model": model, "threads": BLAS.threadCount, "train_records": trainCount,
        "blas_kernel": BLAS.library.kernel, "cpu": CPUFeatures.current.modelName,
        "vector_level": "\(VectorLevel.current)",
        "epoch_seconds": seconds, "median_epoch_seconds": seconds.count > 1 ? median(Array(seconds.dropFirst())) : -1,
        "train_loss": losses, "train_accuracy": accuracy,
        "infer_images_per_second": Double(inferCount) / median(Array(inferSeconds.dropFirst())),
        "infer_images_per_cpu_second": Double(inferCount) / median(Array(inferCPUSeconds.dropFirst())),
        // The logits' bits, to compare builds and thread counts.
        "logits_crc32": logits.withUnsafeBytes { String(CRC32.checksum($0), radix: 16) },
    ]))
