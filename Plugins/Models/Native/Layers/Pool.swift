import Kernels

/// Max or average pooling over K×K windows with a stride, no padding, per channel.
final class Pool: Layer {
    enum Kind: String { case max, average }

    let inputShape: Shape
    let outputShape: Shape
    let geometry: WindowGeometry
    let kind: Kind
    private var argmax: Buffer<Int32>?

    init(input: Shape, kind: Kind, size: Int, stride: Int) {
        inputShape = input
        self.kind = kind
        geometry = WindowGeometry(height: input.height, width: input.width, channels: input.channels, kernel: size, stride: stride)
        outputShape = Shape(height: geometry.outHeight, width: geometry.outWidth, channels: input.channels)
    }

    var parameterCount: Int { 0 }
    var summary: String { "\(kind.rawValue)pool(\(inputShape)->\(outputShape), k\(geometry.kernel) s\(geometry.stride))" }

    func reserve(batch: Int) {
        guard kind == .max, (argmax?.count ?? 0) < batch * outputShape.count else { return }
        argmax = Buffer(batch * outputShape.count, zero: 0)
    }

    func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int, training: Bool) {
        switch kind {
        case .max: Pooling.maxForward(x, geometry, batch: batch, into: y, argmax: argmax!.pointer)
        case .average: Pooling.averageForward(x, geometry, batch: batch, into: y)
        }
    }

    func backward(
        _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dy: UnsafeMutablePointer<Float>,
        _ dx: UnsafeMutablePointer<Float>?, batch: Int
    ) {
        guard let dx else { return }
        switch kind {
        case .max: Pooling.maxBackward(dy, argmax: argmax!.pointer, geometry, batch: batch, into: dx)
        case .average: Pooling.averageBackward(dy, geometry, batch: batch, into: dx)
        }
    }
}
