// swift-tools-version: 6.1
//
// DP-SGD benchmark driver, a package of its own so that `swift build -c release` here builds
// only the native backend and what it needs (not the whole project). Sources/ holds symbolic
// links to the project's Kernels, CCPUID, PluginABI, PluginKit and Plugins/Models/Native.
import PackageDescription

let package = Package(
    name: "dpsgd-bench",
    targets: [
        .target(name: "PluginABI", path: "Sources/PluginABI", exclude: ["README.md"]),
        .target(name: "CCPUID", path: "Sources/CCPUID"),
        .target(name: "Kernels", dependencies: ["CCPUID"], path: "Sources/Kernels"),
        .target(name: "PluginKit", dependencies: ["PluginABI"], path: "Sources/PluginKit"),
        .target(
            name: "ModelNative", dependencies: ["PluginKit", "Kernels"], path: "Sources/ModelNative",
            exclude: ["README.md"]),
        .executableTarget(
            name: "DPSGDBench", dependencies: ["ModelNative", "PluginKit", "Kernels"], path: "Sources/DPSGDBench"),
    ],
    swiftLanguageModes: [.v5]
)
