// swift-tools-version: 6.2
//
// An attack plugin written in Swift as its own package, outside the mia-audit package: it
// depends on the host package by path for `PluginKit`, and builds one dynamic library,
// `libTopKMarginAttack.so`, to drop into a plugin folder.
import Foundation
import PackageDescription

let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path

let package = Package(
    name: "swift-attack-example",
    products: [
        .library(name: "TopKMarginAttack", type: .dynamic, targets: ["TopKMarginAttack"])
    ],
    dependencies: [
        .package(name: "mia-audit", path: "../..")
    ],
    targets: [
        .target(
            name: "TopKMarginAttack",
            dependencies: [.product(name: "PluginKit", package: "mia-audit")],
            path: "Sources/TopKMarginAttack",
            // Export only the entry symbol: the copy of PluginKit inside stays private.
            linkerSettings: [.unsafeFlags(["-Xlinker", "--version-script=\(here)/exports.map"])])
    ],
    swiftLanguageModes: [.v6]
)
