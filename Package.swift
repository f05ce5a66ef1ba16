// swift-tools-version: 6.2
//
// Dependency rule (one direction only):
//   Host -> AuditCore -> PluginKit -> PluginABI
//   Kernels -> CCPUID (cpuid), CKernels (im2col/col2im, direct convolution, max pooling, ReLU passes and the Adam update in AVX2/AVX-512/plain C); OpenBLAS is opened by Kernels at run time (dlopen), linked by nothing; AuditCore -> CFFI (libffi, for attacks that are a plain C function), CSHA256 (SHA-256 blocks, SHA extensions where the CPU has them)
//   Plugins see PluginKit and Kernels only, never AuditCore: they are loaded through the C ABI.
//
// Inside AuditCore, layers (folders of Sources/AuditCore):
//   Orchestration (studies, Slurm) -> Stages -> Config, Plugins, Storage, Metrics, Report
//   Stages/ holds the audit in run order: 1-Dataset 2-Models 3-Signals 4-Attacks 5-Evaluation
//   6-Report, and `Audit.run`, the flat list of their calls. Stages use config, plugins, storage
//   and metrics; those never name a stage (Tests/AuditCoreTests/LayerRuleTests checks it).
//
// Every target names its `path:` explicitly: `Plugins/` here holds this project's plugin
// libraries (dynamic libraries loaded with dlopen), not SwiftPM build-tool plugins.
import Foundation
import PackageDescription

let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path

/// Linker flags for a plugin library: export only the entry symbol, so the copy of PluginKit
/// inside each plugin stays private to it.
let pluginLinkerSettings: [LinkerSetting] = [
    .unsafeFlags(["-Xlinker", "--version-script=\(root)/Plugins/exports.map"])
]

/// A built-in plugin: one dynamic library product named `MIA<name>`, loaded by the host at run time.
/// `exclude` lists files beside the code that are not sources (a README.md is excluded by itself).
func plugin(_ name: String, path: String, dependencies: [Target.Dependency], exclude: [String] = []) -> (
    Product, Target
) {
    (
        .library(name: "MIA\(name)", type: .dynamic, targets: [name]),
        .target(
            name: name, dependencies: dependencies, path: path,
            exclude: exclude
                + (FileManager.default.fileExists(atPath: "\(root)/\(path)/README.md") ? ["README.md"] : []),
            linkerSettings: pluginLinkerSettings)
    )
}

let plugins = [
    plugin("DatasetIDX", path: "Plugins/Datasets/IDX", dependencies: ["PluginKit", "CZlib"]),
    plugin("DatasetCSV", path: "Plugins/Datasets/CSV", dependencies: ["PluginKit"]),
    plugin("DatasetCIFAR", path: "Plugins/Datasets/CIFAR", dependencies: ["PluginKit"]),
    plugin("DatasetNPY", path: "Plugins/Datasets/NPY", dependencies: ["PluginKit"]),
    plugin("ModelPython", path: "Plugins/Models/Python", dependencies: ["PluginKit"]),
    plugin("ModelHTTP", path: "Plugins/Models/HTTP", dependencies: ["PluginKit"]),
    plugin("ModelNative", path: "Plugins/Models/Native", dependencies: ["PluginKit", "Kernels"]),
    plugin("AttacksThreshold", path: "Plugins/Attacks/Threshold", dependencies: ["PluginKit", "Kernels"]),
    plugin("AttacksReference", path: "Plugins/Attacks/Reference", dependencies: ["PluginKit", "Kernels"]),
    plugin("AttacksClassifier", path: "Plugins/Attacks/Classifier", dependencies: ["PluginKit", "Kernels"]),
]

/// Plugins that misbehave on purpose, for the loading tests. Not named `libMIA*`, so the host's
/// default discovery in the build folder never picks them up.
let fixtures: [(Product, Target)] = [
    "FixtureWrongABI", "FixtureNoEntry", "FixtureFailing", "FixtureMisbehaving", "FixtureMisbehavingModel",
].map { name in
    (
        .library(name: "Test\(name)", type: .dynamic, targets: [name]),
        .target(name: name, dependencies: ["PluginABI"], path: "Tests/Fixtures/\(name)")
    )
}

let package = Package(
    name: "mia-audit",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "mia-audit", targets: ["Host"]),
        .library(name: "PluginKit", targets: ["PluginKit"]),
    ] + plugins.map(\.0) + fixtures.map(\.0),
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
    ],
    targets: [
        // The C contract: headers only (plus layout checks that define no symbol).
        .target(name: "PluginABI", path: "Sources/PluginABI"),
        .target(name: "CCPUID", path: "Sources/CCPUID"),
        // SHA-256's compression function: plain C, and the x86 SHA extensions chosen at run time.
        .target(name: "CSHA256", dependencies: ["CCPUID"], path: "Sources/CSHA256"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        // libffi: calls to a plain C function whose signature comes from the config (AuditCore only).
        .systemLibrary(name: "CFFI", path: "Sources/CFFI", pkgConfig: "libffi", providers: [.apt(["libffi-dev"])]),
        // im2col, col2im and direct convolution with AVX2 and AVX-512 variants chosen at run time
        // (Kernels/VectorKernels.swift, Kernels/DirectConvolution.swift).
        .target(name: "CKernels", path: "Sources/CKernels"),
        .target(name: "Kernels", dependencies: ["CCPUID", "CKernels"], path: "Sources/Kernels"),
        .target(name: "PluginKit", dependencies: ["PluginABI"], path: "Sources/PluginKit"),
        // The record of plugin calls in flight and the handlers that report a misbehaving plugin
        // (C: its signal and exit handlers must be async-signal-safe).
        .target(name: "CPluginGuard", path: "Sources/CPluginGuard"),
        .target(
            name: "AuditCore",
            dependencies: [
                "PluginKit", "Kernels", "CPluginGuard", "CFFI", "CSHA256",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "HeapModule", package: "swift-collections"),
            ],
            path: "Sources/AuditCore"),
        .executableTarget(
            name: "Host",
            dependencies: ["AuditCore", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Host"),

        // Benchmark driver of WORKLOADS.md T1 (benchmarks/run_t1.sh); not part of the product.
        .executableTarget(
            name: "NativeBench", dependencies: ["ModelNative", "PluginKit", "Kernels"], path: "benchmarks/NativeBench"),

        .testTarget(name: "PluginKitTests", dependencies: ["PluginKit"], path: "Tests/PluginKitTests"),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels"], path: "Tests/KernelsTests"),
        .testTarget(name: "AuditCoreTests", dependencies: ["AuditCore", "CSHA256"], path: "Tests/AuditCoreTests"),
        .testTarget(
            name: "ModelNativeTests", dependencies: ["ModelNative", "PluginKit"], path: "Tests/ModelNativeTests"),
        .testTarget(
            name: "AttacksTests",
            dependencies: [
                "AttacksThreshold", "AttacksReference", "AttacksClassifier", "PluginKit", "Kernels", "MIATestSupport",
            ],
            path: "Tests/AttacksTests",
            // Each plugin defines `mia_plugin_entry`; the one test binary links several plugins.
            linkerSettings: [.unsafeFlags(["-Xlinker", "--allow-multiple-definition"])]),
        .testTarget(
            name: "BringYourOwnTests",
            dependencies: [
                "DatasetCSV", "DatasetCIFAR", "DatasetNPY", "ModelPython", "ModelHTTP", "AttacksClassifier",
                "PluginKit",
            ],
            path: "Tests/BringYourOwnTests",
            // Each plugin defines `mia_plugin_entry`; the one test binary links several plugins.
            linkerSettings: [.unsafeFlags(["-Xlinker", "--allow-multiple-definition"])]),
        // Runs the release `mia-audit` binary for the tests that audit as a user does.
        .target(name: "MIATestSupport", path: "Tests/Support"),
        .testTarget(name: "StudiesTests", dependencies: ["AuditCore", "MIATestSupport"], path: "Tests/StudiesTests"),
        .testTarget(name: "ScaleTests", dependencies: ["AuditCore"], path: "Tests/ScaleTests"),
        .testTarget(name: "EndToEndTests", dependencies: ["AuditCore", "MIATestSupport"], path: "Tests/EndToEndTests"),
    ] + plugins.map(\.1) + fixtures.map(\.1),
    swiftLanguageModes: [.v6]
)

// House rules for this package's own Swift targets (dependencies keep theirs): Swift 6 language
// mode (above: full data-race checking) and every warning an error (README "Development").
for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + [.treatAllWarnings(as: .error)]
}
