import PluginABI

/// Helpers for `mia_tensor_t`, the view every array crosses the boundary in.
public enum TensorView {
    /// A view of `data` with `shape` (at most `MIA_TENSOR_MAX_DIMS` dimensions).
    public static func make(_ data: UnsafeMutableRawPointer, dtype: mia_dtype_t, shape: [Int]) -> mia_tensor_t {
        precondition(shape.count <= Int(MIA_TENSOR_MAX_DIMS))
        var t = mia_tensor_t()
        t.dtype = dtype
        t.ndim = Int32(shape.count)
        withUnsafeMutableBytes(of: &t.shape) { raw in
            let dims = raw.bindMemory(to: Int64.self)
            for (i, d) in shape.enumerated() { dims[i] = Int64(d) }
        }
        t.data = data
        return t
    }

    public static func make<T>(_ data: UnsafeMutablePointer<T>, dtype: mia_dtype_t, shape: [Int]) -> mia_tensor_t {
        make(UnsafeMutableRawPointer(data), dtype: dtype, shape: shape)
    }

    /// The dimensions of a view.
    public static func shape(_ t: mia_tensor_t) -> [Int] {
        withUnsafeBytes(of: t.shape) { raw in
            let dims = raw.bindMemory(to: Int64.self)
            return (0..<Int(max(0, min(t.ndim, MIA_TENSOR_MAX_DIMS)))).map { Int(dims[$0]) }
        }
    }

    /// Checks a view's dtype and element count; returns its elements as a typed buffer.
    public static func buffer<T>(
        _ t: UnsafePointer<mia_tensor_t>?, _ type: T.Type, dtype: mia_dtype_t, what: String
    ) throws -> UnsafeMutableBufferPointer<T> {
        guard let t else { throw PluginError(.invalidArgument, "\(what): no tensor given") }
        guard t.pointee.dtype == dtype else {
            throw PluginError(.invalidArgument, "\(what): dtype \(t.pointee.dtype), expected \(dtype)")
        }
        let count = shape(t.pointee).reduce(1, *)
        guard count == 0 || t.pointee.data != nil else { throw PluginError(.invalidArgument, "\(what): null data") }
        guard let data = t.pointee.data else { return UnsafeMutableBufferPointer(start: nil, count: 0) }
        return UnsafeMutableBufferPointer(start: data.assumingMemoryBound(to: T.self), count: count)
    }

    /// Writes a shape into a fixed-size C array of dimensions.
    public static func setDims<Tuple>(_ tuple: inout Tuple, _ shape: [Int]) {
        withUnsafeMutableBytes(of: &tuple) { raw in
            let dims = raw.bindMemory(to: Int64.self)
            for (i, d) in shape.prefix(Int(MIA_TENSOR_MAX_DIMS)).enumerated() { dims[i] = Int64(d) }
        }
    }

    /// Reads `ndim` dimensions from a fixed-size C array.
    public static func dims<Tuple>(_ tuple: Tuple, _ ndim: Int32) -> [Int] {
        withUnsafeBytes(of: tuple) { raw in
            let dims = raw.bindMemory(to: Int64.self)
            return (0..<Int(max(0, min(ndim, MIA_TENSOR_MAX_DIMS)))).map { Int(dims[$0]) }
        }
    }
}
