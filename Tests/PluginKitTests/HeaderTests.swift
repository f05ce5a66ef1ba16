import Foundation
import Testing

// The C contract compiles on its own, header by header, as strict C99 and as C++17.

let headerFolder = packageRoot.appendingPathComponent("Sources/PluginABI/include")

/// Every header under include/, as a path relative to it (`mia/entry.h`), found on disk so a
/// new header is checked without editing this list.
let headers: [String] = {
    let files = FileManager.default.enumerator(atPath: headerFolder.path)?.compactMap { $0 as? String } ?? []
    return files.filter { $0.hasSuffix(".h") }.sorted()
}()

@Suite struct HeaderTests {
    @Test func everyHeaderIsFound() {
        #expect(headers.contains("mia/mia.h") && headers.contains("mia/attack.h"), "\(headers)")
    }

    @Test(arguments: headers)
    func compilesAloneAsC99(header: String) throws {
        let result = try compileAlone(
            header, "gcc", ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"], ext: "c")
        #expect(result.status == 0, "gcc -std=c99 on \(header):\n\(result.output)")
    }

    @Test(arguments: headers)
    func compilesAloneAsCxx17(header: String) throws {
        let result = try compileAlone(
            header, "g++", ["-std=c++17", "-Wall", "-Wextra", "-Werror", "-pedantic"], ext: "cpp")
        #expect(result.status == 0, "g++ -std=c++17 on \(header):\n\(result.output)")
    }

    /// The check has teeth: a header with a C99 violation in it fails the same command.
    @Test func theCompileCheckRejectsABrokenHeader() throws {
        let folder = try makeTemporaryFolder("header")
        defer { removeFolder(folder) }
        try FileManager.default.createDirectory(
            at: folder.appendingPathComponent("mia"), withIntermediateDirectories: true)
        try "#include \"mia/mia.h\"\nstatic inline int unused_variable(void) { int x; return 0; }\n"
            .write(to: folder.appendingPathComponent("mia/broken.h"), atomically: true, encoding: .utf8)
        let result = try compileAlone(
            "mia/broken.h", "gcc", ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-I", folder.path], ext: "c"
        )
        #expect(result.status != 0)
        #expect(result.output.contains("unused"))
    }
}

/// Compiles a translation unit that includes only `header` (then one declaration, so that a
/// header of macros alone is not an empty unit), with `flags`, to an object file.
func compileAlone(_ header: String, _ compiler: String, _ flags: [String], ext: String) throws -> ProcessResult {
    let folder = try makeTemporaryFolder("header")
    defer { removeFolder(folder) }
    let unit = folder.appendingPathComponent("unit.\(ext)")
    try "#include \"\(header)\"\ntypedef int mia_header_check_unit;\n".write(
        to: unit, atomically: true, encoding: .utf8)
    return try run(
        compiler,
        flags + ["-I", headerFolder.path, "-c", unit.path, "-o", folder.appendingPathComponent("unit.o").path])
}
