"""Time-to-detect matrix (issue: detection engine): every org kind x seeds 1, 2, 3.

For each combination: ``dwelltime simulate --users 100 --days 28`` with every scenario of
that org kind, ingest, a full ``dwelltime detect``, then ``dwelltime eval``.  Prints one
row per run (detected, median and max time to detect, false incidents per 1,000 users
per week) and one row per attack (which detections opened its incident and when), and
writes everything as JSON.  Targets: every attack detected, median <= 1 h, none later
than 24 h, <= 1 false incident per 1,000 users per week.

The simulations and workspaces are kept under ``--work`` (default /tmp/dwelltime-eval)
and reused when present, so that after a change to the detections only the detect and
eval steps run again (``--fresh`` simulates and ingests anew).  Runs are sequential:
the machine has two cores.

    .venv/bin/python bench/eval_matrix.py [--users 100] [--days 28] [--orgs cloud,onprem,hybrid] [--seeds 1,2,3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

MEDIAN_TARGET_S = 3600
MAX_TARGET_S = 24 * 3600
FALSE_TARGET = 1.0


def _run(*args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "dwelltime.cli", *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"dwelltime {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return proc.stdout


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = round(seconds)
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"


def one_run(
    work: Path, org: str, seed: int, users: int, days: int, fresh: bool, models: bool = False
) -> dict[str, object]:
    """Simulate (unless kept), ingest (unless kept), detect and evaluate one combination."""
    base = work / f"{org}-{seed}-{users}x{days}"
    sim, ws = base / "sim", base / "ws"
    if fresh and base.exists():
        shutil.rmtree(base)
    timings: dict[str, float] = {}
    if not (sim / "truth.json").exists():
        start = time.perf_counter()
        _run(
            "simulate", "--org", org, "--users", str(users), "--days", str(days), "--seed", str(seed), "--out", str(sim)
        )
        timings["simulate_s"] = round(time.perf_counter() - start, 1)
    if not (ws / "events").exists():
        start = time.perf_counter()
        _run("ingest", str(sim / "logs"), "--workspace", str(ws))
        timings["ingest_s"] = round(time.perf_counter() - start, 1)
    start = time.perf_counter()
    _run("detect", "--workspace", str(ws), *(["--models"] if models else []))
    timings["detect_s"] = round(time.perf_counter() - start, 1)
    report = json.loads(_run("eval", str(sim / "truth.json"), "--workspace", str(ws), "--json"))
    summary = report["summary"]
    ok = (
        summary["detected"] == summary["attacks"]
        and summary["median_ttd_seconds"] is not None
        and summary["median_ttd_seconds"] <= MEDIAN_TARGET_S
        and summary["max_ttd_seconds"] <= MAX_TARGET_S
        and summary["false_per_1000_users_week"] <= FALSE_TARGET
    )
    return {
        "org": org,
        "seed": seed,
        "summary": summary,
        "meets_targets": ok,
        "timings": timings,
        "attacks": [
            {k: a[k] for k in ("scenario", "entity", "detected", "ttd_seconds", "first_malicious", "detections")}
            for a in report["attacks"]
        ],
        "false_incidents": report["false_incidents"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--orgs", default="cloud,onprem,hybrid")
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--work", type=Path, default=Path("/tmp/dwelltime-eval"))
    parser.add_argument("--fresh", action="store_true", help="simulate and ingest again even when kept")
    parser.add_argument("--models", action="store_true", help="detect with the behavioural models too")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "eval_matrix.json")
    args = parser.parse_args()
    runs = []
    for org in [o.strip() for o in args.orgs.split(",") if o.strip()]:
        for seed in [int(s) for s in args.seeds.split(",") if s.strip()]:
            run = one_run(args.work, org, seed, args.users, args.days, args.fresh, args.models)
            runs.append(run)
            s = run["summary"]
            assert isinstance(s, dict)
            print(
                f"{org:7} seed {seed}: {s['detected']}/{s['attacks']} detected,"
                f" median {_duration(s['median_ttd_seconds'])}"
                f", max {_duration(s['max_ttd_seconds'])}, false {s['false_incidents']}"
                f" ({s['false_per_1000_users_week']}/1k users/week)  {'ok' if run['meets_targets'] else 'MISSES'}",
                flush=True,
            )
            for attack in run["attacks"]:  # type: ignore[attr-defined]
                print(
                    f"    {attack['scenario']:16} {_duration(attack['ttd_seconds']):>8}  "
                    f"{', '.join(d.removeprefix('dt.') for d in attack['detections'])}",
                    flush=True,
                )
            for false in run["false_incidents"]:  # type: ignore[attr-defined]
                print(f"    FALSE {false['entity']} {false['opened_at']} {false['detections']} {false['confounders']}")
    figures = {
        "cores": os.cpu_count(),
        "users": args.users,
        "days": args.days,
        "targets": {"median_ttd_s": MEDIAN_TARGET_S, "max_ttd_s": MAX_TARGET_S, "false_per_1000_users_week": 1.0},
        "all_meet_targets": all(r["meets_targets"] for r in runs),
        "runs": runs,
    }
    print()
    print(f"{'org':8}{'seed':>5}{'detected':>10}{'median':>10}{'max':>10}{'false/1k/wk':>13}")
    for r in runs:
        s = r["summary"]
        assert isinstance(s, dict)
        print(
            f"{r['org']:8}{r['seed']:>5}{str(s['detected']) + '/' + str(s['attacks']):>10}"
            f"{_duration(s['median_ttd_seconds']):>10}{_duration(s['max_ttd_seconds']):>10}"
            f"{s['false_per_1000_users_week']:>13}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
