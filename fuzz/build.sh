#!/usr/bin/env bash
# Builds the libFuzzer harnesses (fuzz/harnesses/*.swift) into .build-fuzz/bin/, each compiled
# with swiftc together with the parser's own source files (they are internal types; `compile`
# finds them from the names the harness uses), with -sanitize=fuzzer,address. The main package
# and its tests are untouched.
# Usage: fuzz/build.sh [NAME...]   (default: every harness)
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build-fuzz
mkdir -p "$out/bin" "$out/modules"
flags=(-parse-as-library -O -g -sanitize=fuzzer,address -module-cache-path "$out/module-cache")

# Where each harness finds the parser sources it is compiled with (folders searched, from the
# repository root). No file is listed by hand: `compile` derives the list from the harness.
roots() {
    case "$1" in
        npy) echo Sources/PluginKit Sources/AuditCore ;;
        idx|csv|cifar) echo Plugins ;;
        worker) echo Plugins Sources/PluginKit/Npy ;;
        config) echo Sources/AuditCore ;;
        *) echo "fuzz/build.sh: unknown harness $1" >&2; exit 2 ;;
    esac
}

# Files under the roots declaring top-level NAME (a type, function or constant), one a line.
declaring() {
    local name=$1; shift
    grep -rlE --include='*.swift' \
        "^((public|internal|package|final|open|indirect|nonisolated|@[A-Za-z]+(\([^)]*\))?) )*(struct|class|enum|protocol|actor|typealias|func|let|var) $name\b" "$@" || true
}

# Files under the roots declaring NAME as a member (indented), one a line.
declaring_member() {
    local name=$1; shift
    grep -rlE --include='*.swift' \
        "^\s+((public|internal|package|private|fileprivate|final|static|class|mutating|nonisolated|@[A-Za-z]+(\([^)]*\))?) )*(func|let|var|case) $name\b" "$@" || true
}

# Files under the roots with a top-level `extension TYPE` (or of its last name) that declares MEMBER.
extending() {
    local type=${1//./\\.} member=$2; shift 2
    grep -rlE --include='*.swift' "^((public|internal|package|@[A-Za-z]+(\([^)]*\))?) )*extension ($type|${type##*.})\b" "$@" |
        xargs -r grep -lE "(func|var|let|case|init|subscript|static func|static var|static let) \`?$member\b" || true
}

# Compiles harness NAME from fuzz/harnesses/NAME.swift, fuzz/support's files and the parser
# sources it names: each compile that fails on a name it cannot find (`cannot find 'X'`,
# `type 'T' has no member 'm'`) adds the file under the harness's roots that declares it (one
# file exactly, or the build stops naming the candidates), then compiles again. So moving or
# splitting a parser's files cannot break a harness. The list found last is kept in
# .build-fuzz/NAME.sources and tried first next time.
compile() {
    local name=$1; shift
    local -a extra=("$@") files=() roots
    read -r -a roots <<<"$(roots "$name")"
    local list="$out/$name.sources" log="$out/$name.build.log"
    [ -f "$list" ] && while read -r f; do [ -f "$f" ] && files+=("$f"); done <"$list"
    local support=(fuzz/support/InputFile.swift)
    [ "$name" = config ] && support+=(fuzz/support/NpyAnyStub.swift)
    for _ in $(seq 40); do
        if swiftc "${flags[@]}" "${extra[@]}" -module-name "fuzz_$name" -o "$out/bin/$name" \
            fuzz/harnesses/"$name".swift "${support[@]}" "${files[@]}" >"$log" 2>&1; then
            grep -v "Cannot export local symbol '__asan" "$log" >&2 || true
            printf '%s\n' "${files[@]}" >"$list"
            return 0
        fi
        local -a found=()
        local x t m f
        while read -r x; do
            mapfile -t f < <(declaring "$x" "${roots[@]}")
            if [ ${#f[@]} -gt 1 ]; then
                echo "fuzz/build.sh: $name: \`$x\` is declared in ${#f[@]} files under ${roots[*]}: ${f[*]}" >&2; exit 1
            fi
            # Not a top-level name: a member of the type being compiled, declared in an extension
            # in another file (every file declaring such a member is added).
            [ ${#f[@]} -eq 1 ] || mapfile -t f < <(declaring_member "$x" "${roots[@]}")
            [ ${#f[@]} -gt 0 ] || { cat "$log" >&2; echo "fuzz/build.sh: $name: no file under ${roots[*]} declares \`$x\`" >&2; exit 1; }
            found+=("${f[@]}")
        done < <(sed -nE "s/.*error: cannot find (type )?'([A-Za-z_][A-Za-z_0-9]*)' in scope.*/\2/p" "$log" | sort -u)
        while read -r t m; do
            mapfile -t f < <(extending "$t" "$m" "${roots[@]}")
            [ ${#f[@]} -ge 1 ] || { echo "fuzz/build.sh: $name: no extension of $t under ${roots[*]} declares $m" >&2; cat "$log" >&2; exit 1; }
            found+=("${f[@]}")
        done < <(sed -nE "s/.*error: (value of )?type '([A-Za-z_][A-Za-z_0-9.]*)(<[^']*>)?' has no member '([A-Za-z_][A-Za-z_0-9]*)'.*/\2 \4/p" "$log" | sort -u)
        local before=${#files[@]}
        mapfile -t files < <(printf '%s\n' "${files[@]}" "${found[@]}" | grep . | sort -u)
        [ ${#files[@]} -gt "$before" ] || { cat "$log" >&2; echo "fuzz/build.sh: $name does not build" >&2; exit 1; }
    done
    echo "fuzz/build.sh: $name: sources still missing after 40 rounds" >&2
    exit 1
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
    # Kernels (the privacy accountants and bounds) and the C modules it and AuditCore's SHA-256
    # import, by module map.
    local c
    for c in CCPUID CKernels CSHA256; do
        echo -Xcc -fmodule-map-file="$r/$c.build/module.modulemap" -I "Sources/$c/include" "$r/$c.build"/*.o
    done
    echo -I "$r/Modules" -I Sources/PluginABI/include -I .build/checkouts/Yams/Sources/CYaml/include \
        "$r"/PluginKit.build/*.o "$r"/PluginABI.build/*.o "$r"/Yams.build/*.o "$r"/CYaml.build/src/*.o "$r"/Logging.build/*.o \
        "$r"/Kernels.build/*.o
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
    compile "$name" "${extra[@]}"
done
