"""The simulate command end to end: real formats that parse with nothing quarantined, same seed same bytes."""

from __future__ import annotations

import hashlib
import json
import mailbox
import subprocess
import sys
from pathlib import Path

import pytest

from dwelltime.ingest import IngestOptions, ingest
from dwelltime.simulate.run import simulate
from dwelltime.store.engine import connect
from dwelltime.workspace import Workspace

ALL_HYBRID = [
    "apt-imap",
    "gateway-implant",
    "apt-cloud",
    "bec",
    "spray",
    "oauth-consent",
    "token-replay",
    "insider-export",
]


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def hybrid_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("sim") / "hybrid"
    result = simulate("hybrid", 40, 5, 11, ALL_HYBRID, out)
    return out, result.records


def test_everything_written_parses_with_zero_quarantined(
    hybrid_run: tuple[Path, dict[str, int]], tmp_path: Path
) -> None:
    out, written = hybrid_run
    ws = Workspace.open(tmp_path / "ws")
    summaries = ingest([out / "logs"], ws, IngestOptions())
    assert summaries and all(s.error is None for s in summaries)
    assert sum(s.quarantined for s in summaries) == 0
    per_format: dict[str, int] = {}
    for s in summaries:
        assert s.format is not None
        per_format[s.format] = per_format.get(s.format, 0) + s.read
    # Every format the hybrid organisation writes is read by the matching parser.
    assert set(per_format) == {"entra-signin", "m365-audit", "dovecot", "zeek"}
    assert all(count > 100 for count in per_format.values()), per_format
    # Every record a writer wrote was read back as one record by the matching parser
    # (Dovecot and Postfix share mail.log, read by the syslog layer as one file).
    assert per_format["m365-audit"] == written["m365"]
    assert per_format["entra-signin"] == written["entra"]
    assert per_format["dovecot"] == written["dovecot"] + written["postfix"]
    assert per_format["zeek"] == written["zeek"]
    con = connect(ws)
    formats = dict(con.execute("SELECT source_format, count(*) FROM events GROUP BY 1").fetchall())
    assert {"m365-audit", "entra-signin", "dovecot", "postfix", "zeek"} <= set(formats)
    assert con.execute("SELECT count(*) FROM events WHERE source_format = 'syslog'").fetchone() == (0,)


def test_truth_names_records_that_exist_and_attacker_reads(hybrid_run: tuple[Path, dict[str, int]]) -> None:
    hybrid_run_dir = hybrid_run[0]
    truth = json.loads((hybrid_run_dir / "truth.json").read_text())
    assert {a["scenario"] for a in truth["attacks"]} == set(ALL_HYBRID)
    for attack in truth["attacks"]:
        assert attack["first_malicious"] <= attack["last_malicious"]
        assert attack["records"], attack["scenario"]
        for ref in attack["records"][:50]:
            lines = (hybrid_run_dir / "logs" / ref["file"]).read_text(encoding="utf-8").splitlines()
            assert ref["record_id"] in lines[ref["line"] - 1]
    readers = {a["scenario"]: a["messages_read"] for a in truth["attacks"]}
    assert readers["apt-imap"] and readers["apt-cloud"]
    assert {c["kind"] for c in truth["confounders"]} >= {"mobile-polling", "password-guessing", "vpn"}
    # The messages the attackers read are real messages of the victims' mailboxes.
    corpus_ids = set()
    for mbox_path in (hybrid_run_dir / "mailboxes").rglob("*.mbox"):
        corpus_ids.update(str(m["Message-ID"]) for m in mailbox.mbox(mbox_path))
    for attack in truth["attacks"]:
        assert set(attack["messages_read"]) <= corpus_ids, attack["scenario"]


def test_same_seed_same_bytes_and_a_different_seed_differs(tmp_path: Path) -> None:
    runs = []
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        out = tmp_path / name
        simulate("onprem", 20, 2, seed, ["apt-imap", "spray"], out)
        runs.append(_digest(out))
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_cli_simulate_rejects_unknown_scenario(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "dwelltime.cli", "simulate", "--out", str(tmp_path / "x"), "--scenarios", "nope"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "unknown scenario" in proc.stderr and "apt-imap" in proc.stderr


def test_parameters_for_a_scenario_not_simulated_are_refused(tmp_path: Path) -> None:
    from dwelltime.errors import ConfigError

    with pytest.raises(ConfigError, match="not simulated: bec"):
        simulate("onprem", 5, 2, 1, ["apt-imap"], tmp_path, params={"bec": {"victim": "x"}})
