#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension BLAS {
    /// Runs `body` with every `BLAS.gemm` it calls on this thread made as one whole sgemm call,
    /// never cut into pieces nor spread (for callers that already spread their own fixed slices of
    /// work over the threads: inference runs each slice of records through every layer on one
    /// thread). A product's bits are then those of the one call: a function of its shape, never of
    /// the thread count.
    public static func onThisThread<T>(_ body: () throws -> T) rethrows -> T {
        let before = WholeProducts.isSet
        WholeProducts.set(true)
        defer { WholeProducts.set(before) }
        return try body()
    }
}

/// The thread-specific flag of `BLAS.onThisThread`.
enum WholeProducts {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    static var isSet: Bool { pthread_getspecific(key) != nil }

    static func set(_ on: Bool) { pthread_setspecific(key, on ? UnsafeRawPointer(bitPattern: 1) : nil) }
}
