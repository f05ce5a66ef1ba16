import Foundation
import PluginABI
import PluginKit
import Testing

// The `idx` dataset plugin, loaded from its built library and driven through its C vtable,
// on tiny IDX files written here and on the real Fashion-MNIST files.

/// The `idx` component of the built `libMIADatasetIDX.so`.
// Safe to share: a read-only view of the loaded library's descriptor, which lives as long as the process.
nonisolated(unsafe) let idxComponent: mia_component_t = {
    let library = try! LoadedLibrary(buildFolder.appendingPathComponent("libMIADatasetIDX.so").path)
    let descriptor = try! library.descriptor()!
    return components(descriptor).first { name($0) == "idx" }!
}()

/// The bytes of an IDX file: magic, big-endian dimensions, then `payload`.
func idxBytes(dtype: UInt8 = 0x08, dimensions: [Int], payload: [UInt8]) -> [UInt8] {
    var out: [UInt8] = [0, 0, dtype, UInt8(dimensions.count)]
    for d in dimensions {
        out += [UInt8(d >> 24 & 0xFF), UInt8(d >> 16 & 0xFF), UInt8(d >> 8 & 0xFF), UInt8(d & 0xFF)]
    }
    return out + payload
}

/// Three 2x3 images with distinct known pixels, and their labels.
let tinyPixels: [UInt8] = [0, 1, 2, 3, 254, 255, 10, 20, 30, 40, 50, 60, 255, 128, 64, 32, 16, 8]
let tinyLabels: [UInt8] = [2, 0, 1]

/// A folder holding `files` (name -> bytes); removed after `body`.
func withFiles<T>(_ files: [String: [UInt8]], _ body: (URL) throws -> T) throws -> T {
    let folder = try makeTemporaryFolder("idx")
    defer { removeFolder(folder) }
    for (name, bytes) in files { try Data(bytes).write(to: folder.appendingPathComponent(name)) }
    return try body(folder)
}

/// The options JSON for an images/labels pair plus `extra` members.
func idxOptions(_ images: URL, _ labels: URL, _ extra: String = "") -> String {
    let base = "\"images\": \"\(images.path)\", \"labels\": \"\(labels.path)\""
    return "{" + base + (extra.isEmpty ? "" : ", " + extra) + "}"
}

/// The error that opening the dataset with `json` gives.
func openError(_ json: String) -> CallError? {
    callError { _ = try CDataset(idxComponent, options: json) }
}

@Suite struct IDXDatasetTests {
    @Test func descriptorDeclaresTheIdxComponentAndItsOptions() throws {
        let library = try LoadedLibrary(buildFolder.appendingPathComponent("libMIADatasetIDX.so").path)
        let d = try #require(try library.descriptor())
        #expect(String(cString: d.pointee.name) == "mia-dataset-idx")
        #expect(d.pointee.abi_major == UInt32(MIA_ABI_MAJOR))
        #expect(components(d).count == 1)
        #expect(idxComponent.kind == MIA_COMPONENT_DATASET)
        let o = options(idxComponent)
        #expect(Set(o.keys) == ["images", "labels", "scale", "class_count", "limit", "classes"])
        #expect(o["images"]?.required == 1 && o["images"]?.type == MIA_OPTION_PATH)
        #expect(o["labels"]?.required == 1 && o["labels"]?.type == MIA_OPTION_PATH)
        #expect(Double(String(cString: o["scale"]!.default_json)) == 1.0 / 255.0)
        #expect(String(cString: o["limit"]!.default_json) == "0")
        #expect(o["class_count"]?.default_json == nil)
        #expect(try library.descriptor(major: UInt32(MIA_ABI_MAJOR) + 1) == nil)
    }

    @Test func readsPlainFilesWithShapeScaleAndLabels() throws {
        try withFiles([
            "images": idxBytes(dimensions: [3, 2, 3], payload: tinyPixels),
            "labels": idxBytes(dimensions: [3], payload: tinyLabels),
        ]) { folder in
            let images = folder.appendingPathComponent("images"), labels = folder.appendingPathComponent("labels")
            let dataset = try CDataset(idxComponent, options: idxOptions(images, labels))
            let info = try dataset.info()
            #expect(info == DatasetInfo(recordCount: 3, classCount: 3, featureShape: [1, 2, 3]))
            let all = try dataset.read(start: 0, count: 3, featureSize: 6)
            #expect(all.labels == [2, 0, 1])
            for (value, byte) in zip(all.features, tinyPixels) {
                #expect(abs(value - Float(byte) / 255) <= 1e-7)
            }
            #expect(all.features.min() == 0 && all.features.max() == 1)
            let middle = try dataset.read(start: 1, count: 2, featureSize: 6)
            #expect(middle.features == Array(all.features[6...]))
            #expect(middle.labels == [0, 1])

            let raw = try CDataset(
                idxComponent, options: idxOptions(images, labels, "\"scale\": 1, \"class_count\": 7, \"limit\": 2"))
            #expect(try raw.info() == DatasetInfo(recordCount: 2, classCount: 7, featureShape: [1, 2, 3]))
            #expect(try raw.read(start: 0, count: 2, featureSize: 6).features == tinyPixels.prefix(12).map(Float.init))
        }
    }

    @Test func gzippedFilesReadTheSameAsPlainOnes() throws {
        try withFiles([
            "images": idxBytes(dimensions: [3, 2, 3], payload: tinyPixels),
            "labels": idxBytes(dimensions: [3], payload: tinyLabels),
        ]) { folder in
            let images = folder.appendingPathComponent("images"), labels = folder.appendingPathComponent("labels")
            let plain = try CDataset(idxComponent, options: idxOptions(images, labels)).read(
                start: 0, count: 3, featureSize: 6)
            let gzip = try run("gzip", ["-k", "-n", images.path, labels.path])
            #expect(gzip.status == 0, "\(gzip.output)")
            let gzImages = folder.appendingPathComponent("images.gz"),
                gzLabels = folder.appendingPathComponent("labels.gz")
            #expect(try Data(contentsOf: gzImages).prefix(2) == Data([0x1F, 0x8B]))
            let zipped = try CDataset(idxComponent, options: idxOptions(gzImages, gzLabels))
            #expect(try zipped.info().recordCount == 3)
            let read = try zipped.read(start: 0, count: 3, featureSize: 6)
            #expect(read.features == plain.features)
            #expect(read.labels == plain.labels)
        }
    }

    @Test func truncatedFilesAreReportedWithTheirPath() throws {
        try withFiles([
            "short-images": idxBytes(dimensions: [3, 2, 3], payload: Array(tinyPixels.dropLast(4))),
            "short-header": Array(idxBytes(dimensions: [3, 2, 3], payload: []).prefix(10)),
            "images": idxBytes(dimensions: [3, 2, 3], payload: tinyPixels),
            "labels": idxBytes(dimensions: [3], payload: tinyLabels),
        ]) { folder in
            let labels = folder.appendingPathComponent("labels")
            let short = folder.appendingPathComponent("short-images")
            #expect(
                openError(idxOptions(short, labels))
                    == CallError(
                        status: MIA_ERR_IO,
                        message: "the images file \(short.path) is truncated: its header declares 3 x 2 x 3 "
                            + "unsigned bytes, but the data ends after 2 of the 3 records"))
            let header = folder.appendingPathComponent("short-header")
            #expect(
                openError(idxOptions(header, labels))
                    == CallError(
                        status: MIA_ERR_IO,
                        message: "the images file \(header.path) is truncated: it ends after 10 bytes, "
                            + "in the 3 dimensions of the header"))

            // A gzip stream cut in the middle.
            let images = folder.appendingPathComponent("images")
            #expect(try run("gzip", ["-n", images.path]).status == 0)
            let zipped = try Data(contentsOf: folder.appendingPathComponent("images.gz"))
            let cut = folder.appendingPathComponent("cut.gz")
            try zipped.prefix(zipped.count - 12).write(to: cut)
            let error = try #require(openError(idxOptions(cut, labels)))
            #expect(error.status == MIA_ERR_IO)
            #expect(error.message.hasPrefix("the images file \(cut.path) is truncated"), "\(error.message)")

            // A gzip stream with its checksum damaged: the data decompresses but does not verify.
            var damaged = [UInt8](zipped)
            damaged[damaged.count - 6] ^= 0xFF
            let bad = folder.appendingPathComponent("bad.gz")
            try Data(damaged).write(to: bad)
            let corrupt = try #require(openError(idxOptions(bad, labels)))
            #expect(corrupt.status == MIA_ERR_IO)
            #expect(
                corrupt.message.hasPrefix("the images file \(bad.path) is not a readable gzip file: "),
                "\(corrupt.message)")

            // A folder where a file belongs.
            let directory = try #require(openError(idxOptions(folder, labels)))
            #expect(directory.status == MIA_ERR_IO)
            #expect(directory.message.hasPrefix("the images file \(folder.path) "), "\(directory.message)")
        }
    }

    @Test func foreignFilesAreReportedWithTheirPath() throws {
        try withFiles([
            "archive.zip": [0x50, 0x4B, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00],
            "floats": idxBytes(dtype: 0x0D, dimensions: [3, 2, 3], payload: []),
            "labels": idxBytes(dimensions: [3], payload: tinyLabels),
            "images": idxBytes(dimensions: [3, 2, 3], payload: tinyPixels),
            "long-images": idxBytes(dimensions: [3, 2, 3], payload: tinyPixels + [7]),
            "huge": idxBytes(dimensions: [0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF], payload: [1, 2, 3]),
            "large": idxBytes(dimensions: [4_000_000_000, 28, 28], payload: tinyPixels),
            "empty-rows": idxBytes(dimensions: [3, 0, 3], payload: []),
        ]) { folder in
            let labels = folder.appendingPathComponent("labels"), images = folder.appendingPathComponent("images")
            let zip = folder.appendingPathComponent("archive.zip")
            #expect(
                openError(idxOptions(zip, labels))
                    == CallError(
                        status: MIA_ERR_IO,
                        message: "the images file \(zip.path) is not an IDX file: it starts with bytes "
                            + "50 4b 03 04, not 00 00 <type> <dimensions>"))
            let floats = folder.appendingPathComponent("floats")
            #expect(
                openError(idxOptions(floats, labels))
                    == CallError(
                        status: MIA_ERR_IO,
                        message: "the images file \(floats.path) holds elements of type 0x0d (float32); "
                            + "the idx loader reads only unsigned bytes (0x08)"))
            // Files swapped: a labels file where images belong, and the other way round.
            #expect(
                openError(idxOptions(labels, images))
                    == CallError(
                        status: MIA_ERR_IO,
                        message: "the labels file \(images.path) has 3 dimensions; expected 1 (count)"))
            #expect(
                openError(idxOptions(labels, labels))
                    == CallError(
                        status: MIA_ERR_IO,
                        message: "the images file \(labels.path) has 1 dimension; expected 3 (count, rows, columns)"))
            let long = folder.appendingPathComponent("long-images")
            #expect(
                openError(idxOptions(long, labels))
                    == CallError(
                        status: MIA_ERR_IO,
                        message: "the images file \(long.path) has bytes after the 3 records its header "
                            + "declares: it is not a well-formed IDX file"))
            // Headers of foreign files that declare absurd sizes fail cleanly, without a trap or a
            // terabyte allocation.
            let huge = folder.appendingPathComponent("huge")
            let declared = "[4294967295, 4294967295, 4294967295]"
            #expect(
                openError(idxOptions(huge, labels))
                    == CallError(
                        status: MIA_ERR_IO,
                        message: "the images file \(huge.path) declares dimensions \(declared) too large to be real"))
            let large = folder.appendingPathComponent("large")
            #expect(
                openError(idxOptions(large, labels))
                    == CallError(
                        status: MIA_ERR_IO,
                        message: "the images file \(large.path) is truncated: its header declares 4000000000 x 28 x 28 "
                            + "unsigned bytes, but the data ends after 0 of the 4000000000 records"))
            let empty = folder.appendingPathComponent("empty-rows")
            #expect(
                openError(idxOptions(empty, labels))
                    == CallError(
                        status: MIA_ERR_IO,
                        message: "the images file \(empty.path) has dimension 1 of size 0: [3, 0, 3]"))
            let missing = folder.appendingPathComponent("missing")
            #expect(
                openError(idxOptions(missing, labels))
                    == CallError(
                        status: MIA_ERR_IO,
                        message: "cannot open the images file \(missing.path): No such file or directory"))
        }
    }

    @Test func mismatchedPairsAndBadOptionsAreErrors() throws {
        try withFiles([
            "images": idxBytes(dimensions: [3, 2, 3], payload: tinyPixels),
            "labels": idxBytes(dimensions: [3], payload: tinyLabels),
            "two-labels": idxBytes(dimensions: [2], payload: [0, 1]),
        ]) { folder in
            let images = folder.appendingPathComponent("images"), labels = folder.appendingPathComponent("labels")
            let two = folder.appendingPathComponent("two-labels")
            #expect(
                openError(idxOptions(images, two))
                    == CallError(
                        status: MIA_ERR_IO,
                        message: "the images file \(images.path) holds 3 records but the labels file \(two.path) "
                            + "holds 2: they must be a matching pair"))
            #expect(
                openError(idxOptions(images, labels, "\"class_count\": 2"))
                    == CallError(
                        status: MIA_ERR_IO,
                        message: "the labels file \(labels.path) has label 2 at record 0, outside [0, 2) set by "
                            + "option `class_count`"))
            #expect(
                openError(idxOptions(images, labels, "\"limit\": -1"))
                    == CallError(
                        status: MIA_ERR_INVALID_ARGUMENT, message: "option `limit` must be 0 (all) or positive, got -1")
            )
            #expect(
                openError("{\"labels\": \"\(labels.path)\"}")
                    == CallError(status: MIA_ERR_INVALID_ARGUMENT, message: "option `images` is missing"))
            let dataset = try CDataset(idxComponent, options: idxOptions(images, labels))
            let outside = callError { _ = try dataset.read(start: 2, count: 2, featureSize: 6) }
            #expect(outside?.status == MIA_ERR_INVALID_ARGUMENT)
            #expect(outside?.message == "read of records [2, 4) is outside the 3 records of \(images.path)")
            let wrongBuffer = callError { _ = try dataset.read(start: 0, count: 1, featureSize: 5) }
            #expect(wrongBuffer?.message == "read of 1 records needs 6 features and 1 labels; got buffers of 5 and 1")
        }
    }

    /// `classes` keeps the records of the listed classes in file order, relabelled in list order.
    @Test func aSubsetOfClassesIsKeptAndRelabelled() throws {
        let folder = URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist")
        let images = folder.appendingPathComponent("train-images-idx3-ubyte.gz")
        let labels = folder.appendingPathComponent("train-labels-idx1-ubyte.gz")
        let all = try CDataset(idxComponent, options: idxOptions(images, labels, "\"limit\": 300"))
            .read(start: 0, count: 300, featureSize: 784)
        let subset = try CDataset(
            idxComponent, options: idxOptions(images, labels, "\"limit\": 300, \"classes\": [7, 2]"))
        let kept = (0..<300).filter { all.labels[$0] == 7 || all.labels[$0] == 2 }
        #expect(try subset.info() == DatasetInfo(recordCount: kept.count, classCount: 2, featureShape: [1, 28, 28]))
        let read = try subset.read(start: 0, count: kept.count, featureSize: 784)
        #expect(read.labels == kept.map { all.labels[$0] == 7 ? 0 : 1 })
        for (r, i) in kept.enumerated().prefix(5) {
            #expect(
                Array(read.features[(r * 784)..<((r + 1) * 784)]) == Array(all.features[(i * 784)..<((i + 1) * 784)]))
        }
        #expect(
            openError(idxOptions(images, labels, "\"classes\": [3, 3]"))?.message.contains("distinct classes") == true)
    }

    /// The first 100 training records of Fashion-MNIST match a decompression done by `gzip`
    /// and a header parse written here; the 10,000 test records have 1,000 of each class.
    @Test func readsFashionMNIST() throws {
        let folder = URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist")
        let images = folder.appendingPathComponent("train-images-idx3-ubyte.gz")
        let labels = folder.appendingPathComponent("train-labels-idx1-ubyte.gz")
        let dataset = try CDataset(idxComponent, options: idxOptions(images, labels, "\"limit\": 100"))
        #expect(try dataset.info() == DatasetInfo(recordCount: 100, classCount: 10, featureShape: [1, 28, 28]))
        let read = try dataset.read(start: 0, count: 100, featureSize: 784)

        let labelBytes = [UInt8](try runForData("gzip", ["-dc", labels.path]))
        #expect(labelBytes.count == 8 + 60_000)
        #expect(read.labels == labelBytes[8..<108].map(Int32.init))
        #expect(Set(read.labels) == Set(0..<10))
        let imageBytes = [UInt8](try runForData("gzip", ["-dc", images.path]))
        #expect(imageBytes.count == 16 + 60_000 * 784)
        #expect(Array(imageBytes[0..<16]) == [0, 0, 8, 3, 0, 0, 0xEA, 0x60, 0, 0, 0, 28, 0, 0, 0, 28])
        let expected = imageBytes[16..<(16 + 100 * 784)].map { Float($0) / 255 }
        #expect(zip(read.features, expected).allSatisfy { abs($0 - $1) <= 1e-7 })
        #expect(read.features.min() == 0 && read.features.max() == 1)

        let test = try CDataset(
            idxComponent,
            options: idxOptions(
                folder.appendingPathComponent("t10k-images-idx3-ubyte.gz"),
                folder.appendingPathComponent("t10k-labels-idx1-ubyte.gz")))
        let info = try test.info()
        #expect(info == DatasetInfo(recordCount: 10_000, classCount: 10, featureShape: [1, 28, 28]))
        let testLabels = try test.read(start: 0, count: 10_000, featureSize: 784).labels
        #expect((0..<10).map { c in testLabels.filter { $0 == c }.count } == Array(repeating: 1000, count: 10))
    }
}
