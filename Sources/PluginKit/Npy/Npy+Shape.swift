import Foundation

extension Npy.Header {
    /// The dimensions between the parentheses of a header's `'shape': (…)`: comma-separated
    /// non-negative integers, a trailing comma allowed (`(3,)`), none for a scalar (`()`).
    /// Anything else is refused rather than skipped, and so is a shape whose element count
    /// times 8 bytes (the widest element) does not fit in an `Int`: a hostile header is an
    /// error, never a trap or a wrong count (found by fuzz/harnesses/npy.swift).
    static func parseShape(_ text: Substring, path: String) throws -> [Int] {
        var parts = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        if parts.last == "" { parts.removeLast() }
        var shape: [Int] = []
        var count = 8
        for part in parts {
            guard let d = Int(part), d >= 0, part.allSatisfy(\.isASCII) else {
                throw NpyError(path: path, message: "shape (\(text)) is not a list of non-negative integers")
            }
            let (p, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else { throw NpyError(path: path, message: "shape (\(text)) is too large to be real") }
            count = p
            shape.append(d)
        }
        return shape
    }
}
