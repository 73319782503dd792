"""End-to-end: the CLI on real-format files, bad input, re-ingest, and kill -9 at random moments."""

from __future__ import annotations

import gzip
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dwelltime.simulate.bulk import write_dovecot_log, write_m365_ndjson
from dwelltime.store.engine import connect
from dwelltime.workspace import Workspace

CLI = [sys.executable, "-m", "dwelltime.cli"]


def run_cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}")
    return proc


def ingest_json(workspace: Path, *paths: Path, extra: tuple[str, ...] = ()) -> list[dict[str, object]]:
    proc = run_cli("ingest", *map(str, paths), "--workspace", str(workspace), "--json", *extra, check=False)
    assert proc.returncode in (0, 1), proc.stderr
    return list(json.loads(proc.stdout))


def stored_count(workspace: Path) -> tuple[int, int]:
    con = connect(Workspace.open(workspace, create=False))
    total, distinct = con.execute("SELECT count(*), count(DISTINCT event_uid) FROM events").fetchone()
    return int(total), int(distinct)


def test_ingest_twice_adds_nothing_and_counts_add_up(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    write_m365_ndjson(logs / "audit.json", 3000, seed=3)
    write_dovecot_log(logs / "mail.log", 5000, seed=3)
    ws = tmp_path / "ws"
    first = ingest_json(ws, logs, extra=("--year", "2024"))
    assert {s["format"] for s in first} == {"m365-audit", "dovecot"}
    for s in first:
        assert s["read"] == s["parsed"] + s["quarantined"]
        assert s["events"] == s["stored"] + s["duplicates"]
        assert s["quarantined"] == 0 and s["stored"] == s["read"] and s["error"] is None
    second = ingest_json(ws, logs, extra=("--year", "2024"))
    assert [s["stored"] for s in second] == [0, 0]
    assert [s["duplicates"] for s in second] == [s["events"] for s in first]
    assert stored_count(ws) == (8000, 8000)
    manifest = [json.loads(line) for line in (ws / "manifest.jsonl").read_text().splitlines()]
    assert len(manifest) == 4 and all(len(m["sha256"]) == 64 for m in manifest)


def test_unknown_format_is_refused_naming_formats_tried(tmp_path: Path) -> None:
    junk = tmp_path / "photo.bin"
    junk.write_bytes(os.urandom(200_000))
    proc = run_cli("ingest", str(junk), "--workspace", str(tmp_path / "ws"), check=False)
    assert proc.returncode == 1
    assert "photo.bin" in proc.stderr and "tried:" in proc.stderr and "m365-audit" in proc.stderr


def test_bad_records_are_quarantined_with_file_line_and_reason(tmp_path: Path) -> None:
    path = tmp_path / "audit.json"
    write_m365_ndjson(path, 50, seed=4)
    with path.open("ab") as handle:
        handle.write(b'{"CreationTime": "2024-03-05T01:02:03", "Operation": \n')  # line 51: cut short
        handle.write(b"\xff\xfe\x00binary\n")  # line 52: not UTF-8
        handle.write(b'{"CreationTime": 12, "Operation": ["x"], "Folders": "nope"}\n')  # 53: wrong types
        handle.write(
            b'{"CreationTime": "2024-03-05T01:02:03", "Operation": "X", "Pad": "' + b"a" * 10_000_000 + b'"}\n'
        )
    ws = tmp_path / "ws"
    [summary] = ingest_json(ws, path, extra=("--format", "m365-audit"))
    assert summary["read"] == 54
    assert summary["read"] == summary["parsed"] + summary["quarantined"]
    con = connect(Workspace.open(ws, create=False))
    lines = {r[0]: r[1] for r in con.execute("SELECT source_line, reason FROM quarantine").fetchall()}
    assert {51, 52, 53} <= set(lines)
    assert "UTF-8" in lines[52]
    assert all(reason for reason in lines.values())
    # every quarantined record names its file
    files = {r[0] for r in con.execute("SELECT DISTINCT source_file FROM quarantine").fetchall()}
    assert files == {str(path)}


def test_truncated_gzip_keeps_what_was_readable(tmp_path: Path) -> None:
    plain = tmp_path / "mail.log"
    write_dovecot_log(plain, 20_000, seed=5)
    data = gzip.compress(plain.read_bytes())
    cut = tmp_path / "mail.log.gz"
    cut.write_bytes(data[: len(data) // 2])
    [summary] = ingest_json(tmp_path / "ws", cut, extra=("--year", "2024"))
    assert 0 < summary["stored"] < 20_000
    assert summary["quarantined"] >= 1
    con = connect(Workspace.open(tmp_path / "ws", create=False))
    reasons = [r[0] for r in con.execute("SELECT reason FROM quarantine").fetchall()]
    assert any("truncated" in r for r in reasons)


@pytest.mark.slow
def test_kill_9_at_random_moments_then_rerun_stores_exactly_once(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    write_dovecot_log(logs / "mail.log", 400_000, seed=6)
    write_m365_ndjson(logs / "audit.json", 60_000, seed=6)
    reference = tmp_path / "reference"
    started = time.monotonic()
    ingest_json(reference, logs, extra=("--year", "2024"))
    duration = time.monotonic() - started
    expected = stored_count(reference)
    assert expected[0] == expected[1] == 460_000

    rng = random.Random(int.from_bytes(os.urandom(4), "big"))
    ws = tmp_path / "killed"
    kills = finished = 0
    # Kill at random moments until three kills have landed.  A run can outpace its kill (a
    # loaded machine made the reference run slow): its workspace must then already hold
    # exactly the events, and the next attempts start over on an empty one, or they would
    # only find duplicates and finish before any kill.
    while kills < 3 and finished < 6:
        proc = subprocess.Popen(
            [*CLI, "ingest", str(logs), "--workspace", str(ws), "--year", "2024", "--json"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.05, 0.6) * duration)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
            proc.wait()
        else:
            proc.wait()
            finished += 1
            assert stored_count(ws) == expected
            shutil.rmtree(ws)
    assert kills >= 1, "every run finished before its kill; the test did not test anything"
    ingest_json(ws, logs, extra=("--year", "2024"))
    assert stored_count(ws) == expected


def test_status_sql_quarantine_formats_and_enrich_info(tmp_path: Path) -> None:
    path = tmp_path / "audit.json"
    write_m365_ndjson(path, 200, seed=8)
    with path.open("ab") as handle:
        handle.write(b"not json at all\n")
    ws = tmp_path / "ws"
    ingest_json(ws, path)
    status = json.loads(run_cli("status", "--workspace", str(ws), "--json").stdout)
    assert status["quarantined"] == 1 and status["files_ingested"] == 1
    assert sum(e["count"] for e in status["events"]) == 200
    rows = json.loads(run_cli("sql", "SELECT count(*) AS n FROM events", "--workspace", str(ws), "--json").stdout)
    assert rows == [{"n": 200}]
    quarantined = json.loads(run_cli("quarantine", "--workspace", str(ws), "--json").stdout)
    assert quarantined[0]["line"] == 201 and quarantined[0]["file"] == str(path)
    assert "m365-audit" in run_cli("formats").stdout
    info = json.loads(run_cli("enrich-info", "--json").stdout)
    assert {"geoip2fast", "net_hosting"} <= {i["name"] for i in info}
    failed = run_cli("sql", "DROP TABLE nothing_here", "--workspace", str(ws), check=False)
    assert failed.returncode == 2 and "query failed" in failed.stderr


def test_markup_in_file_names_is_shown_literally(tmp_path: Path) -> None:
    evil = tmp_path / "[red]evil[blink].log"
    evil.write_bytes(b"\x00\x01\x02 nothing a parser knows\n")
    proc = run_cli("ingest", str(evil), "--workspace", str(tmp_path / "ws"), check=False)
    assert proc.returncode == 1
    assert "[red]evil[blink].log" in proc.stderr.replace("\n", "")
