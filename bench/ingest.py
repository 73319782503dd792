"""Ingest throughput benchmark (issue: Foundation).

Generates 1,000,000 Microsoft 365 Management Activity API records (~1.4 KB each, a
realistic operation mix) and 5,000,000 Dovecot syslog lines, ingests each into a
fresh workspace through the real CLI in a child process, and reports events/s and
the child's peak RSS.  Targets on 2 cores: >= 250,000 M365 events/s, >= 500,000
Dovecot lines/s, peak RSS <= 2 GB.

    .venv/bin/python bench/ingest.py [--m365 N] [--dovecot N] [--keep DIR]
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

from dwelltime.simulate.bulk import write_dovecot_log, write_m365_ndjson

TARGETS = {"m365": 250_000, "dovecot": 500_000}
RSS_LIMIT_MB = 2048


def run_ingest(path: Path, workspace: Path, fmt: str) -> dict[str, float]:
    cmd = [
        sys.executable,
        "-m",
        "dwelltime.cli",
        "ingest",
        str(path),
        "--workspace",
        str(workspace),
        "--json",
        "--format",
        fmt,
    ]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = proc.stdout.read() if proc.stdout else b""
    err = proc.stderr.read() if proc.stderr else b""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"ingest failed ({status}): {err.decode(errors='replace')[-2000:]}")
    summary = json.loads(out)[0]
    return {
        "records": summary["read"],
        "stored": summary["stored"],
        "quarantined": summary["quarantined"],
        "seconds": round(seconds, 2),
        "events_per_s": round(summary["read"] / seconds),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--m365", type=int, default=1_000_000)
    parser.add_argument("--dovecot", type=int, default=5_000_000)
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "dwelltime-bench")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "ingest.json")
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    results: dict[str, object] = {"cores": os.cpu_count(), "python": sys.version.split()[0]}
    for name, count, writer, fmt in (
        ("m365", args.m365, write_m365_ndjson, "m365-audit"),
        ("dovecot", args.dovecot, write_dovecot_log, "dovecot"),
    ):
        if count <= 0:
            continue
        source = args.data / f"{name}-{count}.log"
        if not source.exists():
            t0 = time.perf_counter()
            size = writer(source, count)
            print(f"generated {count:,} {name} records ({size / 1e6:,.0f} MB) in {time.perf_counter() - t0:.1f}s")
        workspace = args.data / f"ws-{name}"
        shutil.rmtree(workspace, ignore_errors=True)
        figures = run_ingest(source, workspace, fmt)
        figures["bytes"] = source.stat().st_size
        figures["target_events_per_s"] = TARGETS[name]
        figures["meets_target"] = figures["events_per_s"] >= TARGETS[name] and figures["peak_rss_mb"] <= RSS_LIMIT_MB
        results[name] = figures
        print(
            f"{name:8s} {figures['records']:>10,} records  {figures['seconds']:7.2f}s  "
            f"{figures['events_per_s']:>9,}/s (target {TARGETS[name]:,})  peak RSS {figures['peak_rss_mb']:,} MB  "
            f"{'OK' if figures['meets_target'] else 'BELOW TARGET'}"
        )
        shutil.rmtree(workspace, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
