"""Scoping benchmark (issue: breach scoping): one incident against a ~100,000-message mailbox set.

Simulates an organisation whose mailboxes hold about 100,000 messages (hybrid, the two
attacks that read mail), ingests and detects, then times -- through the real CLI, in child
processes -- ``dwelltime mailbox index`` over every mailbox and ``dwelltime scope`` of each
incident (personal-data scan included), and scores the exposed messages against ground
truth.  Target: index + scope of one incident <= 60 s on 2 cores.

    .venv/bin/python bench/scope.py [--users N] [--days D] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from _cli import run_cli

TARGET_SECONDS = 60


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "scope.json")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="dwelltime-bench-scope-"))
    sim, ws = work / "sim", work / "ws"
    figures: dict[str, object] = {"cores": os.cpu_count(), "users": args.users, "days": args.days}
    if not (sim / "truth.json").exists():
        figures["simulate_s"] = round(
            run_cli(
                "simulate", "--org", "hybrid", "--users", str(args.users), "--days", str(args.days),
                "--seed", str(args.seed), "--scenarios", "apt-cloud,apt-imap", "--out", str(sim),
            )[0],
            1,
        )  # fmt: skip
    if not ws.exists():
        figures["ingest_s"] = round(run_cli("ingest", str(sim / "logs"), "--workspace", str(ws))[0], 1)
        figures["detect_s"] = round(run_cli("detect", "--workspace", str(ws))[0], 1)
    index_s, out = run_cli("mailbox", "index", str(sim / "mailboxes"), "--workspace", str(ws))
    figures["index_s"] = round(index_s, 1)
    figures["index_output"] = out.strip()
    truth = json.loads((sim / "truth.json").read_text())
    incidents = json.loads(run_cli("incidents", "--workspace", str(ws), "--format", "json")[1])
    per_attack = []
    for attack in truth["attacks"]:
        mine = [i for i in incidents if i["entity"] == attack["entity"]]
        if not mine:
            per_attack.append({"scenario": attack["scenario"], "detected": False})
            continue
        target = work / f"scope-{attack['scenario']}"
        scope_s, _ = run_cli(
            "scope", attack["entity"], "--incident", mine[0]["id"], "--workspace", str(ws), "--out", str(target)
        )
        exposure = json.loads((target / "exposure.json").read_text())
        expected = set(attack["messages_read"])
        reported = {m["message_id"] for m in exposure["messages"] if m["confidence"] >= 0.5}
        hits = len(expected & reported)
        per_attack.append(
            {
                "scenario": attack["scenario"],
                "detected": True,
                "scope_s": round(scope_s, 1),
                "index_plus_scope_s": round(index_s + scope_s, 1),
                "truth_messages": len(expected),
                "reported_messages": len(reported),
                "recall": round(hits / len(expected), 4) if expected else None,
                "precision": round(hits / len(reported), 4) if reported else None,
                "pii": exposure["pii"],
            }
        )
    figures["attacks"] = per_attack
    figures["target_s"] = TARGET_SECONDS
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
