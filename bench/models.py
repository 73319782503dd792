"""Behavioural models benchmark (issue: behavioural models): scoring rate, and rules alone vs rules + models.

1. **Scoring rate**: every successful sign-in of a workspace (default: a 1,000-user x 90-day
   hybrid simulation, made by ``bench/detect.py --keep DIR``) replayed through the login
   risk model at once (score then learn, learn filter on), as ``dwelltime detect --models``
   does.  Target: >= 200,000 sign-ins/s on this machine.
2. **Detection**: the time-to-detect matrix of ``bench/eval_matrix.py`` (every org kind x
   seeds 1-3) with the rule catalogue alone and with rules + models.

3. **Adversarial apt runs**: the operator hides in the victim's habits (``apt-imap.mimic`` and
   ``apt-cloud.mimic``: a residential proxy in the victim's own home ISP, the victim's own
   client, the victim's working hours), apt-imap on-prem and hybrid, apt-cloud cloud and
   hybrid, seeds 1-3, rules alone and rules + models: what still catches it and when.
   Target: detected within 48 h.

4. **Baselines** written the way the open rule sets write them (``bench/baselines.py``: two
   countries in 15 minutes; a new ASN in 7 days), each hit an incident, on the same
   workspaces, scored the same way.

    .venv/bin/python bench/models.py [--workspace DIR] [--skip-matrix]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from baselines import run_baselines
from dwelltime.detect.identity import build_identities, resolve_events_view
from dwelltime.detect.models.login_replay import replay
from dwelltime.detect.rules import model_login_risk
from dwelltime.detect.runner import build_shared
from dwelltime.store.engine import connect
from dwelltime.workspace import Workspace
from eval_matrix import _run, one_run

RATE_TARGET = 200_000


def scoring_rate(root: Path) -> dict[str, object]:
    workspace = Workspace(root)
    con = connect(workspace)
    con.execute("ALTER VIEW events RENAME TO events_raw")
    resolve_events_view(con, build_identities(con, root / "identities.csv"))
    build_shared(con)
    table = model_login_risk.model_input(con.sql(model_login_risk.INPUT_SQL).to_arrow_table())
    start = time.perf_counter()
    result = replay(table)
    seconds = time.perf_counter() - start
    return {
        "sign_ins": table.num_rows,
        "seconds": round(seconds, 2),
        "per_s": round(table.num_rows / seconds),
        "rounds": result.rounds,
        "flagged": int(result.flagged.sum()),
        "meets_target": table.num_rows / seconds >= RATE_TARGET,
    }


#: The adversarial runs: scenario, and the org kinds it runs in.
ADVERSARIAL = (("apt-imap", ("onprem", "hybrid")), ("apt-cloud", ("cloud", "hybrid")))


def adversarial(work: Path, scenario: str, org: str, seed: int, models: bool) -> dict[str, object]:
    """``scenario`` with ``mimic`` on: simulate and ingest once, detect (rules, or rules + models), evaluate."""
    base = work / f"adversarial-{scenario}-{org}-{seed}"
    sim, ws = base / "sim", base / "ws"
    if not (sim / "truth.json").exists():
        _run(
            "simulate", "--org", org, "--users", "100", "--days", "28", "--seed", str(seed),
            "--scenarios", scenario, "--param", f"{scenario}.mimic=true", "--out", str(sim),
        )  # fmt: skip
    if not (ws / "events").exists():
        _run("ingest", str(sim / "logs"), "--workspace", str(ws))
    _run("detect", "--workspace", str(ws), *(["--models"] if models else []))
    report = json.loads(_run("eval", str(sim / "truth.json"), "--workspace", str(ws), "--json"))
    attack = report["attacks"][0]
    return {
        "scenario": scenario,
        "org": org,
        "seed": seed,
        "models": models,
        "detected": attack["detected"],
        "ttd_seconds": attack["ttd_seconds"],
        "detections": attack["detections"],
        "false_incidents": report["summary"]["false_incidents"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", type=Path, default=Path("/tmp/dtb/ws"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/dwelltime-eval"))
    parser.add_argument("--skip-matrix", action="store_true")
    parser.add_argument("--skip-adversarial", action="store_true")
    parser.add_argument("--skip-baselines", action="store_true")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "models.json")
    args = parser.parse_args()
    figures: dict[str, object] = {"cores": os.cpu_count()}
    if (args.workspace / "events").exists():
        figures["scoring"] = scoring_rate(args.workspace)
        print(json.dumps(figures["scoring"]), flush=True)
    if not args.skip_matrix:
        table = []
        for org in ("cloud", "onprem", "hybrid"):
            for seed in (1, 2, 3):
                for models in (False, True):
                    run = one_run(args.work, org, seed, 100, 28, False, models)
                    summary = run["summary"]
                    assert isinstance(summary, dict)
                    row = {"org": org, "seed": seed, "models": models, **summary}
                    table.append(row)
                    print(json.dumps(row), flush=True)
        figures["matrix"] = table
    if not args.skip_baselines:
        found: dict[str, object] = {}
        targets = [("hybrid-1000x90", args.workspace, args.workspace.parent / "sim" / "truth.json")]
        targets += [
            (base.name, base / "ws", base / "sim" / "truth.json")
            for base in sorted(args.work.glob("*-*-100x28"))
            if (base / "ws" / "events").exists()
        ]
        for name, ws, truth in targets:
            if (ws / "events").exists() and truth.exists():
                found[name] = run_baselines(ws, truth)
                print(name, json.dumps(found[name]), flush=True)
        figures["baselines"] = found
    if not args.skip_adversarial:
        runs = []
        for scenario, orgs in ADVERSARIAL:
            for org in orgs:
                for seed in (1, 2, 3):
                    for models in (False, True):
                        run = adversarial(args.work, scenario, org, seed, models)
                        runs.append(run)
                        print(json.dumps(run), flush=True)
        figures["adversarial"] = runs
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
