import Kernels

/// Inference in slices: a chunk's records cut into fixed slices of `inferenceSlice` records, each
/// run through every layer on one thread (`BLAS.onThisThread`: each product one whole sgemm),
/// the slices spread over BLAS's threads. A slice's activations stay in its core's cache from one
/// layer to the next, and no thread waits for the others between layers. Only for networks
/// without record-wise stages (a dense network): those keep per-shard scratch, so their layers
/// cannot run on two slices at once. The slices depend on the record count alone, so the
/// logits do not depend on the thread count.
extension Network {
    /// Records per slice: a T1 MLP slice's products are 512 × 512 × 784 and 512 × 256 × 512,
    /// where packing the weights once per slice costs little.
    static let inferenceSlice = 512

    /// Whether `forwardInSlices` applies: no layer keeps per-shard scratch.
    var runsInSlices: Bool { !layers.contains { $0 is RecordLayer } }

    /// The logits [batch, classes] of `input` [batch, C·H·W] in inference mode, slice by slice.
    func forwardInSlices(batch: Int, input: UnsafePointer<Float>) -> UnsafeMutablePointer<Float> {
        var a = activations.map(\.pointer)
        a[0] = UnsafeMutablePointer(mutating: input)
        let buffers = a
        let sizes = [self.input.count] + layers.map(\.outputShape.count)
        let slice = Self.inferenceSlice
        // Each slice writes only its own rows of every activation buffer.
        Parallel.spread((batch + slice - 1) / slice) { s in
            let first = s * slice
            let rows = min(slice, batch - first)
            BLAS.onThisThread {
                for (i, layer) in layers.enumerated() {
                    layer.forward(
                        buffers[i] + first * sizes[i], buffers[i + 1] + first * sizes[i + 1], batch: rows,
                        training: false)
                }
            }
        }
        return buffers[layers.count]
    }
}
