#!/usr/bin/env python3
"""Let the compiler decide what a module makes public ("public only what the host, plugins and
tests need", issue 15).

    scripts/narrow-publics.py strip DIR           remove every `public` modifier in DIR's .swift files
    scripts/narrow-publics.py restore DIR LOG     put `public` back on each declaration in DIR that
                                                  the build log LOG asks for (prints how many)
    scripts/narrow-publics.py count DIR           count public declarations in DIR

The loop: `strip`, then repeat `swift build --target <users> 2>&1 | tee LOG; restore DIR LOG` until
the build passes. Users are the targets that import the module without `@testable`. `restore`
reads three kinds of diagnostics: a note `'x' declared here` (or `type declared here`) under an
"inaccessible"/"internal type" error, an error that a declaration "must be declared public", and
`cannot find 'X' in scope` for a top-level declaration of DIR (found by name). Notes come as
`path:line:col: note:` lines or, in the error's own file, drawn in its source excerpt. Anything it cannot
place is printed for a human. Seen once each in AuditCore (issue 15's pass, 518 -> 228), fixed by
hand: a call to an internal memberwise-style init that the compiler reports against `init(from:)`
("extra arguments"); an expression "unable to type-check in reasonable time" that hid three
internal static functions; a `public` put on a local `let` (the compiler names the line).

    python3 scripts/narrow-publics.py strip Sources/AuditCore
    for i in $(seq 40); do
        swift build --target Host >/tmp/np.log 2>&1 && break
        python3 scripts/narrow-publics.py restore Sources/AuditCore /tmp/np.log
    done
    scripts/lint.sh --fix
"""

import os
import re
import sys

PREFIX = r"^(\s*(?:@\w+(?:\([^)]*\))?\s+|nonisolated(?:\(unsafe\))?\s+)*)"
STRIP = re.compile(PREFIX + r"public\s+")
PUBLIC = re.compile(PREFIX + r"public\s")
MODIFIERS = (
    r"(?:(?:final|static|class|override|mutating|nonmutating|convenience|required|indirect|lazy|"
    r"nonisolated(?:\(unsafe\))?|private\(set\)|fileprivate\(set\)|internal\(set\))\s+)*"
)
DECL = re.compile(
    PREFIX + MODIFIERS + r"(?:func|var|let|init|struct|class|enum|protocol|typealias|extension|subscript|actor)\b"
)


def swift_files(root):
    for folder, _, names in os.walk(root):
        for name in sorted(names):
            if name.endswith(".swift"):
                yield os.path.join(folder, name)


def strip(root):
    for path in swift_files(root):
        with open(path) as f:
            lines = f.readlines()
        new = [STRIP.sub(r"\1", line) for line in lines]
        if new != lines:
            with open(path, "w") as f:
                f.writelines(new)


def count(root):
    total = 0
    for path in swift_files(root):
        with open(path) as f:
            total += sum(1 for line in f if PUBLIC.match(line))
    return total


def make_public(path, line_number):
    """Adds `public` to the declaration on `line_number` (1-based); False if none is there."""
    with open(path) as f:
        lines = f.readlines()
    line = lines[line_number - 1]
    if PUBLIC.match(line):
        return True
    match = DECL.match(line)
    if not match:
        return False
    at = len(match.group(1))
    lines[line_number - 1] = line[:at] + "public " + line[at:]
    with open(path, "w") as f:
        f.writelines(lines)
    return True


def top_level(root, name):
    """Where DIR declares `name` at the top level (column 0): [(path, line)]."""
    pattern = re.compile(
        r"^(?:@\w+(?:\([^)]*\))?\s+)*(?:public\s+)?(?:nonisolated(?:\(unsafe\))?\s+)?(?:final\s+)?(?:struct|class|enum|protocol|typealias|actor|func|let|var)\s+"
        + re.escape(name)
        + r"\b"
    )
    found = []
    for path in swift_files(root):
        with open(path) as f:
            for number, line in enumerate(f, 1):
                if pattern.match(line):
                    found.append((path, number))
    return found


def restore(root, log):
    root = os.path.abspath(root)
    location = re.compile(r"^(/[^:]+\.swift):(\d+):\d+: (error|note|warning): (.*)$")
    wanted, unplaced = set(), []
    previous_error = ""
    excerpt_line = re.compile(r"^\s*(\d+) \| ")
    inline_note = re.compile(r"^\s*\|.*`- note: (.*)$")
    error_file, last_line = None, None
    with open(log) as f:
        for raw in f:
            # A note in the error's own file is drawn inside the error's source excerpt.
            numbered = excerpt_line.match(raw)
            if numbered:
                last_line = int(numbered.group(1))
                continue
            note = inline_note.match(raw.rstrip("\n"))
            if note and error_file and last_line and "declared here" in note.group(1):
                if error_file.startswith(root + os.sep) and (
                    "inaccessible" in previous_error or "internal" in previous_error
                ):
                    wanted.add((error_file, last_line))
                continue
            match = location.match(raw.rstrip("\n"))
            if not match:
                if re.match(r"^\S+:\d+:\d+: (?:error|note|warning): ", raw):
                    error_file = None  # a note in a generated interface, not in a source file
                continue
            if match.group(3) == "error":
                error_file, last_line = match.group(1), None
            path, number, kind, message = match.group(1), int(match.group(2)), match.group(3), match.group(4)
            inside = path.startswith(root + os.sep)
            if kind == "error":
                previous_error = message
                if inside and "must be declared public" in message:
                    wanted.add((path, number))
                    continue
                missing = re.match(r"cannot find (?:type )?'(\w+)' in scope", message) or re.match(
                    r"(?:module '\w+' has no member named|no type named) '(\w+)'", message)
                if missing:
                    places = top_level(root, missing.group(1))
                    if len(places) == 1:
                        wanted.add(places[0])
                    elif places or not inside:
                        unplaced.append(raw.strip())
                elif not inside and "inaccessible" not in message and "internal" not in message:
                    unplaced.append(raw.strip())
            elif kind == "note" and inside and ("declared here" in message):
                if "inaccessible" in previous_error or "internal" in previous_error:
                    wanted.add((path, number))
    placed = 0
    for path, number in sorted(wanted):
        if make_public(path, number):
            placed += 1
        else:
            unplaced.append(f"{path}:{number}: no declaration to make public")
    for line in sorted(set(unplaced)):
        print("  unplaced:", line)
    print(f"restored {placed} of {len(wanted)}")


if __name__ == "__main__":
    command, root = sys.argv[1], sys.argv[2]
    if command == "strip":
        strip(root)
    elif command == "restore":
        restore(root, sys.argv[3])
    elif command == "count":
        print(count(root))
    else:
        sys.exit(f"unknown command {command}")
