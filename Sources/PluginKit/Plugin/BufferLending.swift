/// Storage whose elements sit contiguously in memory and can be lent in place for the duration
/// of a closure: an `Array`, or the host's signal arrays (in memory or mapped from a file).
public protocol LendableBuffer {
    /// Lends the elements' bytes in place; the pointer is valid only inside `body`.
    func withUnsafeRawBuffer<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}

extension Array: LendableBuffer {
    public func withUnsafeRawBuffer<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeBytes(body)
    }
}

/// Lends every buffer of `buffers` in place at once, in order, for the duration of `body`: the
/// one helper behind `mia_signals_t` and `Signals`, which point into many arrays together
/// (instead of one nested `withUnsafeBufferPointer` per array).
///
/// Nothing is copied. The pointers are valid only inside `body`; an empty buffer may have a nil
/// base address. `LentBuffers.typed(_:as:)` gives each one back with its element type.
public func withLentBuffers<R>(_ buffers: [any LendableBuffer], _ body: (LentBuffers) throws -> R) rethrows -> R {
    try lend(buffers[...], [], body)
}

/// Lends `buffers.first`, then the rest, then calls `body` with every buffer lent so far.
private func lend<R>(
    _ buffers: ArraySlice<any LendableBuffer>, _ lent: [UnsafeRawBufferPointer], _ body: (LentBuffers) throws -> R
) rethrows -> R {
    guard let first = buffers.first else { return try body(LentBuffers(raw: lent)) }
    return try first.withUnsafeRawBuffer { raw in try lend(buffers.dropFirst(), lent + [raw], body) }
}

/// The buffers `withLentBuffers` lends, in the order they were given.
public struct LentBuffers {
    public let raw: [UnsafeRawBufferPointer]

    /// Buffer `i` as elements of `type`, the type it holds (its memory is already bound to it).
    public func typed<E>(_ i: Int, as type: E.Type) -> UnsafeBufferPointer<E> {
        raw[i].assumingMemoryBound(to: type)
    }

    /// Buffer `i` as elements of `type`, nil when it is empty.
    public func typedOrNil<E>(_ i: Int, as type: E.Type) -> UnsafeBufferPointer<E>? {
        raw[i].isEmpty ? nil : typed(i, as: type)
    }
}
