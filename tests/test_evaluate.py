"""dwelltime eval scoring: hand-made ground truth and incidents with hand-computed results."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from dwelltime.errors import ConfigError
from dwelltime.evaluate import Incident, Truth, evaluate, load_incidents, render, score

# 500 users over 14 days: false incidents per 1,000 users per week = false * 1000 * 7 / (500 * 14) = false.
TRUTH: dict[str, object] = {
    "users": 500,
    "days": 14,
    "aliases": {"alice": "alice@example.go.jp"},
    "attacks": [
        {
            "scenario": "apt-imap",
            "entity": "alice@example.go.jp",
            "first_malicious": "2024-05-01T01:00:00Z",
            "last_malicious": "2024-05-10T09:00:00Z",
            "attacker_ips": ["160.251.142.7"],
            "records": [{"format": "dovecot", "file": "dovecot/maillog", "line": 12, "record_id": ""}],
            "messages_read": ["<a.1@example.go.jp>"],
        },
        {
            "scenario": "spray",
            "entity": "bob@example.go.jp",
            "first_malicious": "2024-05-03T00:00:00Z",
            "last_malicious": "2024-05-03T06:00:00Z",
            "attacker_ips": ["5.181.234.10", "5.181.234.11"],
            "records": [],
            "messages_read": [],
        },
        {
            "scenario": "gateway-implant",
            "entity": "mx1",
            "entity_type": "host",
            "first_malicious": "2024-05-05T00:00:00Z",
            "last_malicious": "2024-05-12T00:00:00Z",
            "attacker_ips": ["47.242.10.5"],
            "records": [],
            "messages_read": [],
        },
        {
            "scenario": "token-replay",
            "entity": "carol@example.go.jp",
            "first_malicious": "2024-05-06T03:00:00Z",
            "last_malicious": "2024-05-06T05:00:00Z",
            "attacker_ips": ["162.55.10.9"],
            "records": [],
            "messages_read": [],
        },
    ],
    "confounders": [
        {
            "kind": "travel",
            "entity": "erin@example.go.jp",
            "start": "2024-05-08T00:00:00Z",
            "end": "2024-05-09T00:00:00Z",
        },
        {"kind": "isp-change", "entity": "*", "start": "2024-05-04T00:00:00Z", "end": "2024-05-04T23:59:59Z"},
        {
            "kind": "vpn",
            "entity": "frank@example.go.jp",
            "start": "2024-05-10T00:00:00Z",
            "end": "2024-05-10T12:00:00Z",
        },
    ],
}


def inc(id_: str, entity: str, opened: str, first: str, last: str, ips: list[str] | None = None) -> dict[str, object]:
    return {
        "id": id_,
        "entity": entity,
        "entity_type": "user",
        "opened_at": opened,
        "first_event_at": first,
        "last_event_at": last,
        "severity": "high",
        "score": 80,
        "detections": [f"dt.test.{id_.lower()}"],
        "techniques": ["T1078"],
        "src_ips": ips or [],
        "alert_count": 2,
    }


INCIDENTS = [
    # on-prem login name "ALICE" is alice@ through the truth's aliases; 30 minutes after the first event
    inc("I1", "ALICE", "2024-05-01T01:30:00Z", "2024-05-01T01:00:00Z", "2024-05-02T00:00:00Z"),
    inc("I2", "alice@example.go.jp", "2024-05-03T00:00:00Z", "2024-05-02T23:00:00Z", "2024-05-03T00:00:00Z"),
    # another user's incident carrying a spray address (v4-mapped spelling) during the spray: detects it, 2 h
    inc(
        "I3",
        "dave@example.go.jp",
        "2024-05-03T02:00:00+00:00",
        "2024-05-03T00:10:00Z",
        "2024-05-03T02:00:00Z",
        ["::ffff:5.181.234.10"],
    ),
    inc("I4", "bob@example.go.jp", "2024-05-03T05:00:00Z", "2024-05-03T04:00:00Z", "2024-05-03T05:00:00Z"),
    # false, during erin's trip
    inc("I5", "erin@example.go.jp", "2024-05-08T10:00:00Z", "2024-05-08T09:00:00Z", "2024-05-08T10:00:00Z"),
    # carol's incident opened two hours before the replay, without the attacker's address: early, so false
    inc("I6", "carol@example.go.jp", "2024-05-06T01:00:00Z", "2024-05-06T01:00:00Z", "2024-05-06T04:00:00Z"),
    # false, on the day of the office ISP change (org-wide); frank's VPN confounder is on another day
    inc("I7", "frank@example.go.jp", "2024-05-04T00:00:00Z", "2024-05-04T00:00:00Z", "2024-05-04T01:00:00Z"),
    # alice before the attack, no overlap: false
    inc("I8", "alice@example.go.jp", "2024-04-20T00:00:00Z", "2024-04-20T00:00:00Z", "2024-04-21T00:00:00Z"),
    # a spray address on another user a month later: no overlap, so it is not about the spray
    inc(
        "I9",
        "dave@example.go.jp",
        "2024-06-01T00:00:00Z",
        "2024-06-01T00:00:00Z",
        "2024-06-01T01:00:00Z",
        ["5.181.234.10"],
    ),
]


def _write(tmp_path: Path, truth: object = TRUTH, incidents: object = INCIDENTS) -> tuple[Path, Path]:
    truth_path = tmp_path / "truth.json"
    truth_path.write_text(json.dumps(truth))
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "incidents.json").write_text(json.dumps(incidents))
    return truth_path, ws


def test_per_attack_results(tmp_path: Path) -> None:
    report = evaluate(*_write(tmp_path))
    by = {a.scenario: a for a in report.attacks}

    assert by["apt-imap"].detected
    assert by["apt-imap"].incident_ids == ["I1", "I2"]
    assert by["apt-imap"].ttd_seconds == 1800.0
    assert by["apt-imap"].opened_at is not None and by["apt-imap"].opened_at.isoformat() == "2024-05-01T01:30:00+00:00"
    assert by["apt-imap"].detections == ["dt.test.i1", "dt.test.i2"]

    assert by["spray"].detected
    assert by["spray"].incident_ids == ["I3", "I4"]
    assert by["spray"].ttd_seconds == 7200.0

    assert not by["gateway-implant"].detected
    assert by["gateway-implant"].ttd_seconds is None and by["gateway-implant"].incident_ids == []

    assert not by["token-replay"].detected
    assert by["token-replay"].early_incident_ids == ["I6"]


def test_false_incidents_and_rates(tmp_path: Path) -> None:
    report = evaluate(*_write(tmp_path))
    assert report.detected == 2
    assert report.incidents == 9
    assert report.median_ttd_seconds == 4500.0
    assert report.max_ttd_seconds == 7200.0
    false = {f.id: f for f in report.false_incidents}
    assert sorted(false) == ["I5", "I6", "I7", "I8", "I9"]
    assert report.false_per_1000_users_week == 5.0
    assert false["I5"].confounders == ["travel"]
    assert false["I7"].confounders == ["isp-change"]
    assert false["I6"].confounders == [] and false["I6"].early_for == ["token-replay"]
    assert report.false_by_confounder == {"isp-change": 1, "none": 3, "travel": 1}


def test_rate_scales_with_users_and_days(tmp_path: Path) -> None:
    truth: Truth = {"users": 2000, "days": 28, "attacks": [], "confounders": []}
    incidents = load_incidents_from(INCIDENTS[:3], tmp_path)
    report = score(truth, incidents)
    # 3 false / (2000 / 1000) / (28 / 7) = 0.375
    assert report.false_per_1000_users_week == 0.375
    assert report.median_ttd_seconds is None


def test_attacker_address_makes_an_early_incident_a_detection(tmp_path: Path) -> None:
    truth: Truth = {
        "users": 1000,
        "days": 7,
        "attacks": [
            {
                "scenario": "bec",
                "entity": "gina@example.go.jp",
                "first_malicious": "2024-05-01T12:00:00Z",
                "last_malicious": "2024-05-02T12:00:00Z",
                "attacker_ips": ["197.210.10.4"],
                "records": [],
                "messages_read": [],
            }
        ],
        "confounders": [],
    }
    incidents = load_incidents_from(
        [
            inc(
                "J1",
                "gina@example.go.jp",
                "2024-05-01T11:59:00Z",
                "2024-05-01T11:50:00Z",
                "2024-05-01T13:00:00Z",
                ["197.210.10.4"],
            )
        ],
        tmp_path,
    )
    report = score(truth, incidents)
    assert report.attacks[0].detected
    assert report.attacks[0].ttd_seconds == 0.0  # never negative
    assert report.false_incidents == []


def test_entity_aliases_on_the_attack(tmp_path: Path) -> None:
    truth: Truth = {
        "users": 100,
        "days": 7,
        "attacks": [
            {
                "scenario": "apt-imap",
                "entity": "hana@example.go.jp",
                "entity_aliases": ["h.sato"],
                "first_malicious": "2024-05-01T00:00:00Z",
                "last_malicious": "2024-05-01T01:00:00Z",
                "attacker_ips": [],
                "records": [],
                "messages_read": [],
            }
        ],
        "confounders": [],
    }
    incidents = load_incidents_from(
        [inc("K1", "H.Sato", "2024-05-01T00:20:00Z", "2024-05-01T00:00:00Z", "2024-05-01T00:20:00Z")], tmp_path
    )
    report = score(truth, incidents)
    assert report.attacks[0].incident_ids == ["K1"]
    assert report.attacks[0].ttd_seconds == 1200.0


def test_json_and_table(tmp_path: Path) -> None:
    report = evaluate(*_write(tmp_path))
    data = json.loads(report.to_json())
    assert data["summary"]["detected"] == 2
    assert data["summary"]["false_incidents"] == 5
    assert data["summary"]["false_per_1000_users_week"] == 5.0
    assert data["attacks"][0]["first_malicious"] == "2024-05-01T01:00:00Z"
    assert data["attacks"][0]["ttd_seconds"] == 1800.0
    assert [f["id"] for f in data["false_incidents"]] == ["I5", "I6", "I7", "I8", "I9"]
    buf = io.StringIO()
    render(report, Console(file=buf, width=200, color_system=None))
    text = buf.getvalue()
    assert "detected 2/4 attacks" in text
    assert "median time to detect 1h15m" in text
    assert "5.00 per 1,000 users per week" in text
    assert "travel: 1" in text


def test_missing_and_malformed_inputs(tmp_path: Path) -> None:
    truth_path, ws = _write(tmp_path)
    (ws / "incidents.json").unlink()
    with pytest.raises(ConfigError, match="dwelltime detect"):
        evaluate(truth_path, ws)
    (ws / "incidents.json").write_text('{"not": "a list"}')
    with pytest.raises(ConfigError, match="array"):
        evaluate(truth_path, ws)
    (ws / "incidents.json").write_text(json.dumps([{"id": "X", "entity": "a"}]))
    with pytest.raises(ConfigError, match="opened_at"):
        evaluate(truth_path, ws)
    (ws / "incidents.json").write_text("[]")
    bad = dict(TRUTH)
    del bad["users"]
    truth_path.write_text(json.dumps(bad))
    with pytest.raises(ConfigError, match="users"):
        evaluate(truth_path, ws)
    truth_path.write_text(json.dumps({**TRUTH, "days": 0}))
    with pytest.raises(ConfigError, match="positive"):
        evaluate(truth_path, ws)


def load_incidents_from(items: list[dict[str, object]], tmp_path: Path) -> list[Incident]:
    path = tmp_path / "incidents.json"
    path.write_text(json.dumps(items))
    return load_incidents(path)
