import Kernels

/// How many records `NativeModel.predict` runs through the network at once.
///
/// A dense layer's product on a chunk of c records is c × outputs × inputs, cut by rows into up
/// to 8 pieces (`GEMMPieces`), each a one-thread sgemm that packs the whole weight matrix again.
/// At c = 1,024 the T1 MLP's first layer gives pieces of 128 rows, where packing the 784 × 512
/// weights costs about a fifth of the piece (perf: `sgemm_incopy` 7 % against 34 % in the
/// kernel; one-thread sgemm 128 × 512 × 784 runs about 15 % below 512 × 512 × 784 on
/// `Cooperlake`). So the chunk grows to `largest` records while the network's batch buffers for
/// it stay within `budget` bytes, and a dense network runs it in slices of 512 records
/// (`Network.forwardInSlices`); a network with large records (LeNet-5's feature maps: about
/// 68 KB a record) keeps `smallest`, as its memory would otherwise grow several-fold for
/// products that are record-wise anyway.
///
/// The chunk depends on the network and the record count alone, never on the thread count, so
/// neither do the pieces nor the logits' bits.
enum InferenceChunk {
    /// Records per chunk at least (or the whole call, when it has fewer records).
    static let smallest = 1024
    /// Records per chunk at most: 8 pieces of 512 rows.
    static let largest = 4096
    /// The batch buffers a chunk may take (activations and their gradients), bytes.
    static let budget = 64 << 20

    /// Records per chunk for `count` records through `network` trained at batch `batch`.
    static func records(count: Int, network: Network, batch: Int) -> Int {
        let perRecord = MemoryLayout<Float>.size * network.batchFloatsPerRecord
        let fits = budget / max(perRecord, 1) / smallest * smallest
        return max(batch, min(count, max(smallest, min(largest, fits))))
    }
}

extension Network {
    /// Floats the batch buffers hold per record: the input, each layer's output and its gradient.
    var batchFloatsPerRecord: Int {
        input.count + 2 * layers.reduce(0) { $0 + $1.outputShape.count }
    }
}
