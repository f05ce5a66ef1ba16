// Times DP-SGD training of the native backend on Fashion-MNIST (the same MLP, data, batch and
// optimizer as dpsgd_opacus.py) and prints one JSON object.
//
//   DPSGDBench [--records 10000] [--epochs 3] [--batch 256] [--hidden 512,256] [--dp true]
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

let args = Array(CommandLine.arguments.dropFirst())
func option(_ name: String, _ fallback: String) -> String {
    if let i = args.firstIndex(of: "--\(name)"), i + 1 < args.count { return args[i + 1] }
    return fallback
}
let records = Int(option("records", "10000"))!
let epochs = Int(option("epochs", "3"))!
let batch = Int(option("batch", "256"))!
let hidden = option("hidden", "512,256").split(separator: ",").map { OptionValue.int(Int($0)!) }
let dp = option("dp", "true") == "true"

let dir = "/usr/share/datasets/fashion-mnist"
let images = gunzip("\(dir)/train-images-idx3-ubyte.gz")
let labelBytes = gunzip("\(dir)/train-labels-idx1-ubyte.gz")
let x = images[16..<(16 + records * 784)].map { Float($0) / 255 }
let y = labelBytes[8..<(8 + records)].map { Int32($0) }

let options: [String: OptionValue] = [
    "architecture": .string("mlp"), "hidden_sizes": .list(hidden), "optimizer": .string("sgd"),
    "learning_rate": .double(0.1), "momentum": .double(0), "batch_size": .int(batch), "epochs": .int(epochs),
    "dp_sgd": .bool(dp), "dp_clip_norm": .double(1), "dp_noise_multiplier": .double(1.1),
    "dp_sampling": .string("poisson"),
]
let model = try NativeModel(
    options: PluginOptions(options), spec: ModelSpec(featureShape: [1, 28, 28], classCount: 10), host: .standalone)
var seconds: [Double] = []
var accuracy = 0.0
try x.withUnsafeBufferPointer { xp in
    try y.withUnsafeBufferPointer { yp in
        try model.train(TrainingData(features: xp, labels: yp, seed: 1)) { r in
            seconds.append(r.seconds)
            accuracy = r.trainAccuracy
        }
    }
}
let steady = seconds.count > 1 ? Array(seconds.dropFirst()).sorted() : seconds
let result: [String: Any] = [
    "side": "native", "dp": dp, "records": records, "batch": batch, "threads": BLAS.threadCount,
    "epoch_seconds": seconds, "median_epoch_seconds": steady[steady.count / 2],
    "train_accuracy": accuracy, "epsilon": model.dpEpsilon ?? -1,
]
print(String(decoding: try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys]), as: UTF8.self))
