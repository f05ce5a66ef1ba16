import Kernels

/// Max or average pooling over K×K windows with a stride, no padding, per channel.
final class Pool: RecordLayer {
    enum Kind: String { case max, average }

    let inputShape: Shape
    let outputShape: Shape
    let geometry: WindowGeometry
    let kind: Kind
    /// For max pooling: each output's winning input offset within its record, per record.
    private var argmax: Buffer<Int32>?

    init(input: Shape, kind: Kind, size: Int, stride: Int) {
        inputShape = input
        self.kind = kind
        geometry = WindowGeometry(
            height: input.height, width: input.width, channels: input.channels, kernel: size, stride: stride)
        outputShape = Shape(height: geometry.outHeight, width: geometry.outWidth, channels: input.channels)
    }

    var parameterCount: Int { 0 }
    var summary: String {
        "\(kind.rawValue)pool(\(inputShape)->\(outputShape), k\(geometry.kernel) s\(geometry.stride))"
    }

    func reserve(batch: Int, shards: Int) {
        guard kind == .max, (argmax?.count ?? 0) < batch * outputShape.count else { return }
        argmax = Buffer(batch * outputShape.count, zero: 0)
    }

    func forward(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, records: Range<Int>, shard: Int, training: Bool
    ) {
        let (i, o) = (inputShape.count, outputShape.count)
        for r in records {
            switch kind {
            case .max: Pooling.maxForward(x + r * i, geometry, into: y + r * o, argmax: argmax!.pointer + r * o)
            case .average: Pooling.averageForward(x + r * i, geometry, into: y + r * o)
            }
        }
    }

    func backward(
        _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dy: UnsafeMutablePointer<Float>,
        _ dx: UnsafeMutablePointer<Float>?, records: Range<Int>, shard: Int
    ) {
        guard let dx else { return }
        let (i, o) = (inputShape.count, outputShape.count)
        for r in records {
            switch kind {
            case .max: Pooling.maxBackward(dy + r * o, argmax: argmax!.pointer + r * o, geometry, into: dx + r * i)
            case .average: Pooling.averageBackward(dy + r * o, geometry, into: dx + r * i)
            }
        }
    }

    func reduceGradients(shards: Int) {}
    var largestProduct: Int { 0 }
}
