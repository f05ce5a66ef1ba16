import Kernels
import PluginKit

/// Builds the layer chain an `architecture` option names, for a record shape and class count.
///
/// - `logistic`: dense(classes).
/// - `mlp`: per hidden size h: dense(h) [+ batch norm] + activation [+ dropout]; dense(classes).
/// - `lenet5`: conv 6@5×5 pad 2, act, max-pool 2; conv 16@5×5, act, max-pool 2; dense 120, act;
///   dense 84, act; dense(classes) (LeCun et al. 1998, with ReLU by default).
/// - `cnn`: `cnn_blocks` blocks of conv c@3×3 pad 1, act, then max-pool 2 while the image is at
///   least 4×4; dense(`dense_width`), act (when > 0); dense(classes).
/// Batch norm goes between each hidden layer and its activation; dropout after each hidden
/// dense layer. The input is [C, H, W] or [D] (or [H, W], read as one channel); the dense
/// layers read the [C, H, W] volume flattened (PyTorch's order).
enum ArchitectureBuilder {
    static func layers(_ o: NativeOptions, spec: ModelSpec) throws -> (input: Shape, layers: [Layer]) {
        let dims = spec.featureShape
        guard spec.classCount >= 2 else {
            throw PluginError(.invalidArgument, "the native backend needs at least 2 classes, got \(spec.classCount)")
        }
        guard !dims.isEmpty, dims.count <= 3, dims.allSatisfy({ $0 > 0 }) else {
            throw PluginError(.invalidArgument, "record shape \(dims) is not [C, H, W], [H, W] or [D]")
        }
        let input: Shape
        switch dims.count {
        case 1: input = Shape(height: 1, width: 1, channels: dims[0])
        case 2: input = Shape(height: dims[0], width: dims[1], channels: 1)
        default: input = Shape(height: dims[1], width: dims[2], channels: dims[0])
        }
        var layers: [Layer] = []
        var shape = input
        let act = o.activation

        func hidden(_ make: (Activation) -> Layer) {
            let layer = make(o.batchNorm ? .identity : act)
            layers.append(layer)
            shape = layer.outputShape
            if o.batchNorm {
                layers.append(BatchNorm(input: shape, activation: act))
            }
        }
        func dense(_ width: Int) {
            hidden { Dense(input: shape, outputs: width, activation: $0) }
            if o.dropout > 0 { layers.append(Dropout(input: shape, rate: Float(o.dropout))) }
        }
        func conv(_ filters: Int, kernel: Int, padding: Int) throws {
            let g = WindowGeometry(
                height: shape.height, width: shape.width, channels: shape.channels, kernel: kernel, padding: padding)
            guard g.isValid else {
                throw PluginError(.invalidArgument, "a \(kernel)x\(kernel) convolution does not fit a \(shape) record")
            }
            hidden {
                Conv2D(input: shape, filters: filters, kernel: kernel, stride: 1, padding: padding, activation: $0)
            }
        }
        func maxPool() {
            let pool = Pool(input: shape, kind: .max, size: 2, stride: 2)
            layers.append(pool)
            shape = pool.outputShape
        }
        func needImage() throws {
            guard dims.count >= 2 else {
                throw PluginError(
                    .invalidArgument,
                    "architecture `\(o.architecture.rawValue)` needs image records [C, H, W], got \(dims)")
            }
        }

        switch o.architecture {
        case .logistic:
            break
        case .mlp:
            for h in o.hiddenSizes { dense(h) }
        case .lenet5:
            try needImage()
            try conv(6, kernel: 5, padding: 2)
            guard shape.height >= 2, shape.width >= 2 else {
                throw PluginError(.invalidArgument, "lenet5: record too small")
            }
            maxPool()
            try conv(16, kernel: 5, padding: 0)
            guard shape.height >= 2, shape.width >= 2 else {
                throw PluginError(.invalidArgument, "lenet5: record too small")
            }
            maxPool()
            dense(120)
            dense(84)
        case .cnn:
            try needImage()
            for block in 0..<o.cnnBlocks {
                try conv(o.cnnChannels[min(block, o.cnnChannels.count - 1)], kernel: 3, padding: 1)
                if shape.height >= 4 && shape.width >= 4 { maxPool() }
            }
            if o.denseWidth > 0 { dense(o.denseWidth) }
        }
        layers.append(Dense(input: shape, outputs: spec.classCount, activation: .identity))
        return (input, layers)
    }
}
