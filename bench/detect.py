"""Detection benchmark (issue: detection engine): full detect over a simulated organisation.

Simulates (hybrid, every attack), ingests, then times ``dwelltime detect`` in a child
process and scores the incidents with ``dwelltime eval``.  Target: a full detect over
1,000 users x 90 days in <= 60 s on 2 cores.

    .venv/bin/python bench/detect.py [--users N] [--days D] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 60


def _run(*args: str) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "dwelltime.cli", *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{args[0]} failed: {proc.stderr[-2000:]}")
    return time.perf_counter() - start, proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, default=None, help="reuse/keep the simulation and workspace here")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "detect.json")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="dwelltime-bench-detect-"))
    sim, ws = work / "sim", work / "ws"
    figures: dict[str, object] = {"cores": os.cpu_count(), "users": args.users, "days": args.days}
    if not (sim / "truth.json").exists():
        figures["simulate_s"] = round(
            _run(
                "simulate",
                "--org",
                "hybrid",
                "--users",
                str(args.users),
                "--days",
                str(args.days),
                "--seed",
                str(args.seed),
                "--out",
                str(sim),
            )[0],
            1,
        )
    if not ws.exists():
        figures["ingest_s"] = round(_run("ingest", str(sim / "logs"), "--workspace", str(ws))[0], 1)
    seconds, _ = _run("detect", "--workspace", str(ws))
    figures["detect_s"] = round(seconds, 1)
    figures["target_s"] = TARGET_SECONDS
    figures["meets_target"] = seconds <= TARGET_SECONDS
    _, report = _run("eval", str(sim / "truth.json"), "--workspace", str(ws), "--json")
    figures["eval"] = json.loads(report)["summary"]
    print(json.dumps(figures, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
