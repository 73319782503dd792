"""Simulator benchmark (issue: simulator): 1,000 people x 90 days, hybrid, every attack.

Runs ``dwelltime simulate`` in a child process, reports wall time, records per format
and the child's peak RSS, and writes JSON.  Target: under 5 minutes on 2 cores with
bounded memory.

    .venv/bin/python bench/simulate.py [--users N] [--days D] [--org hybrid]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 300


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--org", default="hybrid")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "simulate.json")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dwelltime-bench-sim-"))
    cmd = [
        sys.executable,
        "-m",
        "dwelltime.cli",
        "simulate",
        "--org",
        args.org,
        "--users",
        str(args.users),
        "--days",
        str(args.days),
        "--seed",
        str(args.seed),
        "--out",
        str(work / "sim"),
    ]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = proc.stdout.read() if proc.stdout else b""
    err = proc.stderr.read() if proc.stderr else b""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"simulate failed: {err.decode(errors='replace')[-2000:]}")
    sizes = {p.name: p.stat().st_size for p in (work / "sim").iterdir()}
    size = sum(p.stat().st_size for p in (work / "sim").rglob("*") if p.is_file())
    truth = json.loads((work / "sim" / "truth.json").read_text())
    result = {
        "cores": os.cpu_count(),
        "org": args.org,
        "users": args.users,
        "days": args.days,
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "bytes_written": size,
        "attacks": [a["scenario"] for a in truth["attacks"]],
        "target_seconds": TARGET_SECONDS,
        "meets_target": seconds < TARGET_SECONDS,
        "summary": out.decode(errors="replace"),
    }
    del sizes
    print(
        f"{args.users:,} users x {args.days} days ({args.org}): {seconds:.1f}s, peak RSS {result['peak_rss_mb']:,} MB, "
        f"{size / 1e9:.2f} GB written, target < {TARGET_SECONDS}s: {'OK' if result['meets_target'] else 'MISSED'}"
    )
    print(out.decode(errors="replace"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
