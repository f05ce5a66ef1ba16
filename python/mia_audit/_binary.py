"""Finding and running the `mia-audit` binary, with its progress shown and its failures raised."""

import os
import re
import shutil
import subprocess
import sys
from collections import deque
from typing import Callable, List, Optional

README_SECTION = "README.md, section \"From Python\""


class AuditError(RuntimeError):
    """A run of `mia-audit` that failed: `message` is what the tool said, `exit_code` its exit
    code (2: invalid config, 1: the run failed, 130: interrupted; see the README's exit codes)."""

    def __init__(self, message: str, exit_code: int, output: str = ""):
        super().__init__(f"mia-audit failed (exit {exit_code}): {message}")
        self.message = message
        self.exit_code = exit_code
        self.output = output


class BinaryNotFound(FileNotFoundError):
    """Neither `MIA_AUDIT_BIN` nor `PATH` leads to a `mia-audit` binary."""


def find_binary() -> str:
    """`MIA_AUDIT_BIN` when set (it must be an executable file), else `mia-audit` on `PATH`."""
    given = os.environ.get("MIA_AUDIT_BIN")
    if given:
        if os.path.isfile(given) and os.access(given, os.X_OK):
            return given
        raise BinaryNotFound(f"MIA_AUDIT_BIN is {given!r}, which is not an executable file "
                             f"(build it with `swift build -c release`: {README_SECTION})")
    found = shutil.which("mia-audit")
    if found:
        return found
    raise BinaryNotFound("no mia-audit binary: set MIA_AUDIT_BIN to its path (for example "
                         "<repository>/.build/release/mia-audit) or put it on PATH; "
                         f"{README_SECTION} shows how to build it")


# A progress line of the tool (stderr when it is not a terminal): "attacks: 2/5 (3.1/s, 1s left)".
_PROGRESS = re.compile(r"^(?P<task>[^:]+): (?P<done>\d+)/(?P<total>\d+)\b")


class _Progress:
    """A tqdm bar per task of the tool when tqdm is installed and `show` is true; else nothing."""

    def __init__(self, show: bool):
        self.bar = None
        self.task = None
        self.tqdm = None
        if show:
            try:
                from tqdm.auto import tqdm  # optional dependency
                self.tqdm = tqdm
            except ImportError:
                self.tqdm = None

    def line(self, text: str) -> bool:
        """Shows `text` if it is a progress line; returns whether it was one."""
        match = _PROGRESS.match(text)
        if not match:
            return False
        if self.tqdm is None:
            return True
        task, done, total = match["task"], int(match["done"]), int(match["total"])
        if task != self.task:
            self.close()
            self.bar = self.tqdm(total=total, desc=task, leave=False)
            self.task = task
        self.bar.total = total
        self.bar.n = done
        self.bar.refresh()
        return True

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        self.bar = None
        self.task = None


def run_tool(arguments: List[str], progress: bool = True,
             echo: Optional[Callable[[str], None]] = None) -> str:
    """Runs `mia-audit ARGUMENTS`; returns its standard output. Progress lines drive a tqdm bar
    (when `progress` and tqdm is installed); other lines of its log go to `echo` (default:
    nothing). A non-zero exit raises `AuditError` with the tool's error lines."""
    binary = find_binary()
    bar = _Progress(progress)
    tail = deque(maxlen=40)
    with subprocess.Popen([binary] + arguments, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, bufsize=1) as process:
        try:
            for raw in process.stderr:
                text = raw.rstrip("\n")
                if bar.line(text):
                    continue
                tail.append(text)
                if echo is not None:
                    echo(text)
            stdout = process.stdout.read()
            code = process.wait()
        except KeyboardInterrupt:
            process.terminate()
            process.wait()
            raise
        finally:
            bar.close()
    if code != 0:
        errors = [t for t in tail if t.strip()]
        message = "\n".join(errors[-8:]) or stdout.strip() or "no message"
        raise AuditError(message, code, "\n".join(tail) + "\n" + stdout)
    return stdout
