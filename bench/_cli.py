"""Running the real CLI from a benchmark: a child process, timed, failing loudly."""

from __future__ import annotations

import subprocess
import sys
import time


def run_cli(*args: str) -> tuple[float, str]:
    """(seconds, stdout) of ``dwelltime ARGS`` in a child process; exits with its stderr when it fails."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "dwelltime.cli", *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{args[0]} failed: {proc.stderr[-2000:]}")
    return time.perf_counter() - start, proc.stdout
