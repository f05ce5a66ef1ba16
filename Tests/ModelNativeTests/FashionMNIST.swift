import Foundation

/// A small reader of the Fashion-MNIST IDX files installed by the Debian package
/// `dataset-fashion-mnist`, for the tests (gunzip via a child process).
enum FashionMNIST {
    static let folder = "/usr/share/datasets/fashion-mnist"

    static var isAvailable: Bool {
        FileManager.default.fileExists(atPath: "\(folder)/train-images-idx3-ubyte.gz")
    }

    static func gunzip(_ path: String) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-dc", path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return [UInt8](data)
    }

    static func bigEndian(_ b: [UInt8], _ at: Int) -> Int {
        Int(b[at]) << 24 | Int(b[at + 1]) << 16 | Int(b[at + 2]) << 8 | Int(b[at + 3])
    }

    /// The first `count` images of a split as [count, 784] floats in [0, 1], with labels.
    static func load(_ split: String, count: Int) throws -> (features: [Float], labels: [Int32]) {
        let images = try gunzip("\(folder)/\(split)-images-idx3-ubyte.gz")
        let labels = try gunzip("\(folder)/\(split)-labels-idx1-ubyte.gz")
        precondition(bigEndian(images, 0) == 0x803 && bigEndian(labels, 0) == 0x801, "not IDX files")
        let n = min(count, bigEndian(images, 4))
        let features = images[16..<(16 + n * 784)].map { Float($0) / 255 }
        return (features, labels[8..<(8 + n)].map { Int32($0) })
    }
}
