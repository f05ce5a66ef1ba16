/// How `BLAS.gemm` cuts one product into pieces: a function of the shape alone.
///
/// OpenBLAS's threaded sgemm sums in another order than its one-thread path (issue 14;
/// `benchmarks/README.md`, "Thread count and bits"), so a product handed to a threaded OpenBLAS
/// gives other bits on 2 threads than on 1. `BLAS` therefore keeps OpenBLAS on one thread and
/// runs a large product as fixed pieces, each a one-thread sgemm, spread over the run's threads
/// (`Parallel.spread`). A piece is a block of consecutive rows of C (split over m) or of
/// consecutive columns (split over n); the sum over k is never cut, so each entry of C is summed
/// by one call, whichever thread ran it. Which pieces, and so every bit of C, depends only on
/// (m, n, k): never on the thread count.
///
/// The rule: a product of at most `Parallel.singleThreadedGEMMLimit` multiply-adds is one piece
/// (the call it always was: OpenBLAS kept such products on the calling thread on any thread
/// count). A larger one is cut along the longer of m and n into at most `maxPieces` pieces of at
/// least `minimumWork` multiply-adds, each `quantum`-aligned (a whole number of the kernels'
/// register tiles) except the last.
public struct GEMMPieces: Sendable, Equatable, CustomStringConvertible {
    /// Pieces are blocks of rows of C (m) or of columns of C (n).
    public enum Axis: Sendable, Equatable { case rows, columns }

    public let axis: Axis
    /// Rows (or columns) per piece; the last piece may be shorter.
    public let chunk: Int
    /// Number of pieces (1: one sgemm call on the whole product).
    public let count: Int
    /// Length of the cut axis (m for rows, n for columns).
    public let length: Int

    /// At most this many pieces per product (enough to spread over 8 threads).
    public static let maxPieces = 8
    /// Each piece does at least this many multiply-adds (dispatching one costs microseconds).
    public static let minimumWork = 1 << 21
    /// Piece lengths are multiples of this, but for the last.
    public static let quantum = 64

    public init(m: Int, n: Int, k: Int) {
        let work = m * n * k
        axis = n >= m ? .columns : .rows
        length = max(m, n)
        guard work > Parallel.singleThreadedGEMMLimit, length > Self.quantum else {
            chunk = max(length, 1)
            count = 1
            return
        }
        let wanted = max(1, min(Self.maxPieces, work / Self.minimumWork))
        let perPiece = (length + wanted - 1) / wanted
        chunk = (perPiece + Self.quantum - 1) / Self.quantum * Self.quantum
        count = (length + chunk - 1) / chunk
    }

    /// The rows (or columns) of piece `piece`.
    public func range(_ piece: Int) -> Range<Int> {
        (piece * chunk)..<min(length, (piece + 1) * chunk)
    }

    public var description: String {
        count == 1 ? "1 piece" : "\(count) pieces of \(chunk) \(axis == .rows ? "rows" : "columns")"
    }
}
