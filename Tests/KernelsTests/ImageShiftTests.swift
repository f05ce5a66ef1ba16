import Foundation
import Kernels
import Testing

/// `ImageShift`: mirror and reflect-padded shifts, against views worked out by hand.
@Suite struct ImageShiftTests {
    /// One 3 × 3 image 1...9, row-major, and a second channel holding 10 × it.
    let image: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9]

    func view(_ x: [Float], channels: Int = 1, count: Int = 1, mirror: Bool = false, dy: Int = 0, dx: Int = 0)
        -> [Float]
    {
        x.withUnsafeBufferPointer {
            ImageShift.apply($0, count: count, channels: channels, height: 3, width: 3, mirror: mirror, dy: dy, dx: dx)
        }
    }

    @Test func handWorkedViews() {
        #expect(view(image) == image)
        #expect(view(image, mirror: true) == [3, 2, 1, 6, 5, 4, 9, 8, 7])
        // Down by one: row 0 reads row reflect(-1) = 1 (the border row is not repeated).
        #expect(view(image, dy: 1) == [4, 5, 6, 1, 2, 3, 4, 5, 6])
        // Left by one: column 2 reads column reflect(3) = 1.
        #expect(view(image, dx: -1) == [2, 3, 2, 5, 6, 5, 8, 9, 8])
        // Mirror first, then right by one: columns read mirrored 1, 0, 1.
        #expect(view(image, mirror: true, dx: 1) == [2, 3, 2, 5, 6, 5, 8, 9, 8])
        #expect(view(image, dy: -1, dx: 1) == [5, 4, 5, 8, 7, 8, 5, 4, 5])
    }

    @Test func everyChannelAndImageMovesAlike() {
        let two = image + image.map { 10 * $0 }
        let batch = two + two.map { -$0 }
        let got = view(batch, channels: 2, count: 2, mirror: true, dy: 1)
        let one = view(image, mirror: true, dy: 1)
        #expect(got == one + one.map { 10 * $0 } + one.map { -$0 } + one.map { -10 * $0 })
    }
}
