"""End to end through the CLI: simulate -> ingest -> detect -> mailbox index -> scope (-> notify).

Both attacks that read mail are simulated (apt-cloud reads through Microsoft 365 Bind/Sync,
apt-imap through Dovecot), detected, and scoped from their incidents alone (no analyst
hints); the exposed-message sets are compared with the simulator's ground truth.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _cli(*args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "dwelltime.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


@pytest.fixture(scope="module")
def scoped(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object], dict[str, dict[str, object]]]:
    base = tmp_path_factory.mktemp("scope-e2e")
    sim, ws = base / "sim", base / "ws"
    _cli(
        "simulate", "--org", "hybrid", "--users", "40", "--days", "21", "--seed", "3",
        "--scenarios", "apt-cloud,apt-imap", "--out", str(sim),
    )  # fmt: skip
    _cli("ingest", str(sim / "logs"), "--workspace", str(ws))
    _cli("detect", "--workspace", str(ws))
    _cli("mailbox", "index", str(sim / "mailboxes"), "--workspace", str(ws))
    truth = json.loads((sim / "truth.json").read_text())
    incidents = json.loads(_cli("incidents", "--workspace", str(ws), "--format", "json"))
    exposures: dict[str, dict[str, object]] = {}
    for attack in truth["attacks"]:
        mine = [i for i in incidents if i["entity"] == attack["entity"]]
        assert mine, f"{attack['scenario']} was not detected"
        out = base / attack["scenario"]
        _cli("scope", attack["entity"], "--incident", mine[0]["id"], "--workspace", str(ws), "--out", str(out))
        exposures[attack["scenario"]] = json.loads((out / "exposure.json").read_text())
    return ws, truth, exposures


@pytest.mark.parametrize(("scenario", "recall", "precision"), [("apt-cloud", 0.98, 0.9), ("apt-imap", 0.95, 0.9)])
def test_exposed_messages_match_ground_truth(
    scoped: tuple[Path, dict[str, object], dict[str, dict[str, object]]], scenario: str, recall: float, precision: float
) -> None:
    _, truth, exposures = scoped
    attack = next(a for a in truth["attacks"] if a["scenario"] == scenario)  # type: ignore[attr-defined]
    exposure = exposures[scenario]
    expected = set(attack["messages_read"])
    reported = {m["message_id"] for m in exposure["messages"] if m["confidence"] >= 0.5}  # type: ignore[attr-defined]
    hits = len(expected & reported)
    assert expected, "the scenario read nothing: the test would prove nothing"
    assert hits / len(expected) >= recall
    assert hits / len(reported) >= precision
    assert exposure["summary"]["messages"] == len(reported)  # type: ignore[index]
    assert exposure["summary"]["sessions_attacker"] >= 1  # type: ignore[index]
    assert set(attack["attacker_ips"]) <= set(exposure["attacker"]["ips"])  # type: ignore[index]
    # Every reported message carries the events it rests on.
    assert all(m["evidence"] for m in exposure["messages"])  # type: ignore[attr-defined]


def test_parties_and_personal_data_are_counted(
    scoped: tuple[Path, dict[str, object], dict[str, dict[str, object]]],
) -> None:
    _, _, exposures = scoped
    for exposure in exposures.values():
        parties = exposure["parties"]
        assert parties, "exposed mail from partners names no party"
        own = str(exposure["account"]).split("@", 1)[1]
        assert all(p["domain"] != own for p in parties)  # type: ignore[index]
        assert sum(exposure["pii"].values()) > 0  # type: ignore[attr-defined]
        for party in parties:  # type: ignore[attr-defined]
            assert party["messages"] == len(party["message_ids"])


def test_notify_writes_traceable_letters_and_valid_sharing_files(
    scoped: tuple[Path, dict[str, object], dict[str, dict[str, object]]], tmp_path: Path
) -> None:
    import stix2
    from pymisp import MISPEvent

    from dwelltime.notify.trace import untraceable

    ws, _, exposures = scoped
    exposure = exposures["apt-cloud"]
    party = exposure["parties"][0]  # type: ignore[index]
    partners = tmp_path / "partners.csv"
    partners.write_text(
        "organisation,domain,country,contact,language,domestic\n"
        f"Partner One,{party['domain']},JP,security@{party['domain']},ja,yes\n",
        encoding="utf-8",
    )
    incident = str(exposure["incident_id"])
    out = tmp_path / "notify"
    scope_dir = tmp_path / "scope-copy"
    scope_dir.mkdir()
    (scope_dir / "exposure.json").write_text(json.dumps(exposure), encoding="utf-8")
    _cli(
        "notify", incident, "--partners", str(partners), "--out", str(out), "--workspace", str(ws),
        "--exposure", str(scope_dir / "exposure.json"), "--contact", "csirt@agency.example", "--org-name", "Agency",
    )  # fmt: skip
    letters = sorted((out / "letters").glob("*.md"))
    assert len(letters) == len([p for p in exposure["parties"] if p["messages"]])  # type: ignore[attr-defined]
    for letter in letters:
        text = letter.read_text(encoding="utf-8")
        assert untraceable(text, exposure, ["csirt@agency.example", "Agency", "Partner One"]) == [], letter.name
    first = next(p for p in letters if p.stem.startswith(str(party["domain"]).split(".")[0]))
    assert f"**{party['messages']} 通**" in first.read_text(encoding="utf-8")
    stix2.parse((out / "stix-bundle.json").read_text(), allow_custom=False)
    event = MISPEvent()
    event.load_file(str(out / "misp-event.json"))
    values = {a.value for a in event.attributes} | {a.value for o in event.objects for a in o.attributes}
    assert set(exposure["attacker"]["ips"]) <= values  # type: ignore[index]
    assert (out / "regulators" / "ppc_ja.md").exists() and (out / "regulators" / "gdpr_art33_en.md").exists()
