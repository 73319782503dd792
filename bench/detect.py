"""Detection benchmark (issue: detection engine): full and incremental detect over a simulated organisation.

Simulates (hybrid, every attack) and splits the logs at the start of the last
simulated day (Japan time, the simulator's).  Ingests days 1..N-1, runs a full
``dwelltime detect``, ingests day N, times ``dwelltime detect --since`` (incremental
from the last run's watermark), then times a full ``dwelltime detect`` over the same
data and checks that both gave the same alerts and incidents.  Scores the incidents
with ``dwelltime eval``.  Targets: full detect over 1,000 users x 90 days <= 60 s,
incremental over one new day <= 10 s, on this machine (2 cores).

    .venv/bin/python bench/detect.py [--users N] [--days D] [--keep DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import tempfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from _cli import run_cli
from dwelltime.simulate.split import split_logs

TARGET_SECONDS = 60
INCREMENTAL_TARGET_SECONDS = 10


def _digest(ws: Path) -> str:
    """Alerts and incidents as the CLI prints them (JSON), hashed."""
    alerts = run_cli("alerts", "--workspace", str(ws), "--format", "json")[1]
    incidents = run_cli("incidents", "--workspace", str(ws), "--format", "json")[1]
    return hashlib.sha256((alerts + incidents).encode()).hexdigest()


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
            run_cli(
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
    early_ws = work / "ws-early"
    # The simulator's days are Japanese days: the new day starts at its midnight, JST.
    last_day = max(p.stem.split("-", 1)[1] for p in (sim / "logs" / "entra").glob("signins-*.json"))
    cutoff = datetime.fromisoformat(last_day).replace(tzinfo=timezone(timedelta(hours=9))).astimezone(UTC)
    figures["new_day_from"] = cutoff.isoformat()
    if not (work / "late").exists():
        split_logs(sim / "logs", cutoff, work / "early", work / "late")
    if not early_ws.exists():
        figures["ingest_early_s"] = round(run_cli("ingest", str(work / "early"), "--workspace", str(early_ws))[0], 1)
    shutil.rmtree(ws, ignore_errors=True)
    shutil.copytree(early_ws, ws)
    figures["detect_early_s"] = round(run_cli("detect", "--workspace", str(ws))[0], 1)
    figures["ingest_new_day_s"] = round(run_cli("ingest", str(work / "late"), "--workspace", str(ws))[0], 1)
    seconds, out = run_cli("detect", "--since", "--workspace", str(ws))
    figures["incremental_detect_s"] = round(seconds, 1)
    figures["incremental_output"] = out.strip().splitlines()[:3]
    incremental = _digest(ws)
    seconds, _ = run_cli("detect", "--workspace", str(ws))
    figures["detect_s"] = round(seconds, 1)
    figures["target_s"] = TARGET_SECONDS
    figures["incremental_target_s"] = INCREMENTAL_TARGET_SECONDS
    figures["incremental_equals_full"] = incremental == _digest(ws)
    figures["meets_target"] = seconds <= TARGET_SECONDS
    figures["incremental_meets_target"] = figures["incremental_detect_s"] <= INCREMENTAL_TARGET_SECONDS  # type: ignore[operator]
    _, report = run_cli("eval", str(sim / "truth.json"), "--workspace", str(ws), "--json")
    figures["eval"] = json.loads(report)["summary"]
    print(json.dumps(figures, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
