import Foundation
import MIATestSupport
import Testing

// `mia-audit plugins check` passes every built-in plugin library and reports the fixture that
// breaks the contract, with the call.

private let releaseFolder = (binary as NSString).deletingLastPathComponent
private let builtIns = ((try? FileManager.default.contentsOfDirectory(atPath: releaseFolder)) ?? [])
    .filter { $0.hasPrefix("libMIA") && $0.hasSuffix(".so") }.sorted()

@Suite(
    .serialized,
    .enabled(
        if: FileManager.default.isExecutableFile(atPath: binary),
        "build the release binary first: swift build -c release"))
struct PluginsCheckTests {
    @Test func everyBuiltInLibraryIsFound() {
        #expect(builtIns.count >= 9, "\(builtIns)")
    }

    @Test(arguments: builtIns)
    func builtInLibraryConforms(_ name: String) throws {
        let idx =
            #"idx={"images": "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", "labels": "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz", "limit": 100}"#
        let result = try mia(["plugins", "check", releaseFolder + "/" + name, "--options", idx])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(!result.stdout.contains("VIOLATION"), "\(result.stdout)")
        #expect(result.stdout.contains("conforms"))
    }

    @Test func theFailingFixtureIsReportedWithTheCall() throws {
        let result = try mia(["plugins", "check", releaseFolder + "/libTestFixtureFailing.so"])
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(
            result.stdout.contains(
                "VIOLATION score: failed on well-formed signals: failing-attack: this fixture always fails"),
            "\(result.stdout)")
        #expect(result.stdout.contains("VIOLATION open({}): refused its own defaults"), "\(result.stdout)")
    }
}
