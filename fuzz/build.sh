#!/usr/bin/env bash
# Builds the libFuzzer harnesses (fuzz/harnesses/*.swift) into .build-fuzz/bin/, each compiled
# with swiftc together with the parser's own source files (they are internal types), with
# -sanitize=fuzzer,address. The main package and its tests are untouched.
# Usage: fuzz/build.sh [NAME...]   (default: every harness)
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build-fuzz
mkdir -p "$out/bin" "$out/modules"
flags=(-parse-as-library -O -g -sanitize=fuzzer,address -module-cache-path "$out/module-cache")

# The parser sources of each harness (paths from the repository root).
sources() {
    case "$1" in
        npy) echo Sources/PluginKit/Npy/Npy.swift Sources/PluginKit/Npy/NpyMapping.swift Sources/PluginKit/Npy/Npy+Shape.swift Sources/AuditCore/Storage/SignalArray.swift ;;
        idx) echo Plugins/Datasets/IDX/IDXFile.swift ;;
        csv) echo Plugins/Datasets/CSV/CSVReader.swift ;;
        worker) echo Plugins/Models/Python/WorkerMessage.swift Plugins/Models/Python/NpyArray.swift ;;
        cifar) echo Plugins/Datasets/CIFAR/CIFARFile.swift ;;
        config) echo Sources/AuditCore/Config/*.swift Sources/AuditCore/Storage/MembershipFile.swift Sources/AuditCore/Metrics/OneRunEpsilon.swift Sources/AuditCore/Storage/AtomicFile.swift \
            Sources/AuditCore/Plugins/CFunction/CFunctionSpec.swift Sources/AuditCore/Storage/SHA256.swift Sources/AuditCore/Orchestration/Scale/SlurmBatch.swift Sources/AuditCore/Orchestration/Scale/ArrayPlan.swift \
            fuzz/support/NpyAnyStub.swift ;;
        *) echo "fuzz/build.sh: unknown harness $1" >&2; exit 2 ;;
    esac
}

# PluginKit's error type, the only PluginKit API the dataset parsers use, as a small module
# `PluginKit` built from the real file (it needs only the C headers of PluginABI).
pluginkit() {
    [ "$out/modules/PluginKit.swiftmodule" -nt Sources/PluginKit/PluginError.swift ] && return
    swiftc -parse-as-library -O -g -sanitize=address -module-name PluginKit -emit-module \
        -emit-module-path "$out/modules/PluginKit.swiftmodule" -emit-library -static \
        -o "$out/modules/libPluginKit.a" -I Sources/PluginABI/include \
        -module-cache-path "$out/module-cache" Sources/PluginKit/PluginError.swift
}

# The modules the config harness links as they are (not instrumented: the fuzzer's coverage is
# of AuditCore's Config code): PluginKit, Yams and Logging from `swift build -c release`.
release() {
    local r=.build/release
    [ -f "$r/Modules/Yams.swiftmodule" ] && [ -f "$r/Modules/PluginKit.swiftmodule" ] || {
        echo "fuzz/build.sh: the config harness needs \`swift build -c release\` first" >&2; exit 2; }
    echo -I "$r/Modules" -I Sources/PluginABI/include -I .build/checkouts/Yams/Sources/CYaml/include \
        "$r"/PluginKit.build/*.o "$r"/PluginABI.build/*.o "$r"/Yams.build/*.o "$r"/CYaml.build/src/*.o "$r"/Logging.build/*.o
}

names=("$@")
[ ${#names[@]} -gt 0 ] || names=(npy idx csv worker cifar config)
for name in "${names[@]}"; do
    extra=()
    case "$name" in
        idx|csv|cifar) pluginkit; extra=(-I "$out/modules" -I Sources/PluginABI/include -I Sources/CZlib -L "$out/modules" -lPluginKit) ;;
        # shellcheck disable=SC2207
        config) extra=($(release)) ;;
    esac
    echo "fuzz/build.sh: $name"
    # shellcheck disable=SC2046
    swiftc "${flags[@]}" "${extra[@]}" -module-name "fuzz_$name" -o "$out/bin/$name" \
        fuzz/harnesses/"$name".swift fuzz/support/InputFile.swift $(sources "$name") \
        2> >(grep -v "Cannot export local symbol '__asan" >&2)
done
