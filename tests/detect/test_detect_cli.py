"""`dwelltime detect`, `alerts`, `incidents` and `eval` end to end: the JSON contracts outside tooling relies on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

INCIDENT_FIELDS = {
    "id",
    "entity",
    "entity_type",
    "opened_at",
    "first_event_at",
    "last_event_at",
    "severity",
    "score",
    "detections",
    "techniques",
    "src_ips",
    "alert_count",
}
ALERT_FIELDS = {"id", "detection", "entity", "time", "score", "techniques", "event_uids", "explanation", "incident_id"}


def cli(*args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "dwelltime.cli", *args], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_detect_writes_alerts_and_incidents_in_the_contract_shape(tmp_path: Path) -> None:
    sim, ws = tmp_path / "sim", tmp_path / "ws"
    cli(
        "simulate",
        "--org",
        "cloud",
        "--users",
        "30",
        "--days",
        "10",
        "--seed",
        "4",
        "--scenarios",
        "bec",
        "--out",
        str(sim),
    )
    cli("ingest", str(sim / "logs"), "--workspace", str(ws))
    cli("detect", "--workspace", str(ws))
    incidents = json.loads(cli("incidents", "--workspace", str(ws), "--format", "json"))
    alerts = json.loads(cli("alerts", "--workspace", str(ws), "--format", "json"))
    assert alerts, "the BEC scenario forwards mail outside the organisation; at least that must alert"
    ids = {i["id"] for i in incidents}
    for incident in incidents:
        assert set(incident) >= INCIDENT_FIELDS
        assert incident["entity_type"] in {"user", "host"}
        assert incident["opened_at"].endswith("Z") and incident["first_event_at"] <= incident["opened_at"]
    for alert in alerts:
        assert set(alert) >= ALERT_FIELDS
        assert alert["incident_id"] is None or alert["incident_id"] in ids
        assert alert["event_uids"] and alert["explanation"]
    if incidents:
        shown = cli("show", incidents[0]["id"], "--workspace", str(ws))
        assert incidents[0]["id"] in shown and "timeline" in shown
    missing = subprocess.run(
        [sys.executable, "-m", "dwelltime.cli", "show", "INC-nope", "--workspace", str(ws)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode == 2 and "no incident" in missing.stderr
    report = json.loads(cli("eval", str(sim / "truth.json"), "--workspace", str(ws), "--json"))
    assert {"summary", "attacks", "false_incidents"} <= set(report)
    tuned = json.loads(
        cli("tune", "--budget", "1", "--workspace", str(ws), "--truth", str(sim / "truth.json"), "--json")
    )
    rows = {r["threshold"]: r for r in tuned["rows"]}
    # At the threshold in force, tune re-derives exactly the incidents and the score detect and eval gave.
    assert rows[tuned["current"]]["incidents"] == len(incidents)
    assert rows[tuned["current"]]["detected"] == report["summary"]["detected"]
    counts = [r["incidents"] for r in tuned["rows"]]
    assert counts == sorted(counts, reverse=True)  # a higher threshold never opens more incidents
    # The threshold tune reports is the one detect applies, and the workspace keeps it for later runs.
    lowest = min(rows)
    assert rows[lowest]["incidents"] > len(incidents), "the lowest threshold must open more, or this proves nothing"
    out = cli("detect", "--workspace", str(ws), "--threshold", str(lowest))
    assert f"(threshold {lowest})" in out
    assert len(json.loads(cli("incidents", "--workspace", str(ws), "--format", "json"))) == rows[lowest]["incidents"]
    cli("detect", "--workspace", str(ws), "--since", "last")
    assert len(json.loads(cli("incidents", "--workspace", str(ws), "--format", "json"))) == rows[lowest]["incidents"]
    again = json.loads(cli("tune", "--budget", "1", "--workspace", str(ws), "--json"))
    assert again["current"] == lowest
    refused = subprocess.run(
        [sys.executable, "-m", "dwelltime.cli", "detect", "--workspace", str(ws), "--threshold", "0"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 2 and "positive whole number" in refused.stderr
