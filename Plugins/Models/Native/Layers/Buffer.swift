/// A fixed-size block of memory owned by a layer or the network, freed with its owner.
///
/// Training allocates every buffer once, before the first batch (`Network.reserve`), and only
/// reuses them afterwards.
final class Buffer<Element> {
    let pointer: UnsafeMutablePointer<Element>
    let count: Int

    init(_ count: Int, zero: Element) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: zero, count: max(count, 1))
    }

    deinit { pointer.deallocate() }
}

extension Buffer where Element == Float {
    convenience init(_ count: Int) { self.init(count, zero: 0) }
}

/// The shape of one record as it flows through the network, stored channels-first [C, H, W].
/// A vector of D features is (D, 1, 1).
struct Shape: Equatable, CustomStringConvertible {
    var height: Int
    var width: Int
    var channels: Int

    var count: Int { height * width * channels }
    var description: String { height == 1 && width == 1 ? "\(channels)" : "\(channels)x\(height)x\(width)" }
}
