"""`dwelltime notify` through the real Typer app: the default exposure path, and clear errors without tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

from notify_fixtures import INCIDENT, exposure, write_partners
from typer.testing import CliRunner

from dwelltime.cli import app

runner = CliRunner()


def _workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / "scope" / INCIDENT["id"]).mkdir(parents=True)
    (ws / "scope" / INCIDENT["id"] / "exposure.json").write_text(json.dumps(exposure()), encoding="utf-8")
    (ws / "incidents.json").write_text(json.dumps([INCIDENT]), encoding="utf-8")
    return ws


def test_notify_reads_the_default_exposure_and_writes_everything(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "notify", INCIDENT["id"], "--partners", str(write_partners(tmp_path)), "--out", str(out),
            "--workspace", str(ws), "--discovered-at", "2024-04-10T18:00+09:00", "--contact", "soc@example.co.jp",
            "--tlp", "green", "--org-name", "Example KK",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "3 letter(s)" in result.output
    for name in ("stix-bundle.json", "misp-event.json", "deadlines.json", "README.md", "index.html"):
        assert (out / name).is_file(), name
    assert len(list((out / "letters").glob("*.md"))) == 3
    deadlines = json.loads((out / "deadlines.json").read_text(encoding="utf-8"))
    assert deadlines["gdpr_art33"]["due"] == "2024-04-13T09:00:00Z"
    assert deadlines["discovered_at_source"] == "option"
    assert "tlp:green" in (out / "misp-event.json").read_text(encoding="utf-8")


def _fails(args: list[str], *expected: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    flat = "".join(result.output.split())  # rich wraps long lines at the terminal width
    for text in expected:
        assert "".join(text.split()) in flat, result.output


def test_missing_exposure_is_a_clear_error(tmp_path: Path) -> None:
    partners = write_partners(tmp_path)
    _fails(
        ["notify", "INC-none", "--partners", str(partners), "--out", str(tmp_path / "o"), "-w", str(tmp_path / "ws")],
        "no exposure report at",
        "dwelltime scope",
    )


def test_bad_csv_names_file_and_line(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text("organisation,domain,language\nA,a.com,klingon\n", encoding="utf-8")
    _fails(
        ["notify", INCIDENT["id"], "--partners", str(bad), "--out", str(tmp_path / "o"), "-w", str(ws)],
        "bad.csv:2:",
        "klingon",
    )
    assert not (tmp_path / "o").exists()  # nothing written before the inputs are known good


def test_other_bad_inputs(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    partners = str(write_partners(tmp_path))
    base = ["--partners", partners, "--out", str(tmp_path / "o"), "-w", str(ws)]
    _fails(["notify", INCIDENT["id"], *base, "--discovered-at", "2024-04-10T18:00"], "no UTC offset")
    _fails(["notify", INCIDENT["id"], *base, "--tlp", "purple"], "--tlp")
    _fails(["notify", "../../etc", *base], "incident id")
    other = tmp_path / "other.json"
    other.write_text(json.dumps({**exposure(), "incident_id": "INC-other"}), encoding="utf-8")
    _fails(["notify", INCIDENT["id"], *base, "--exposure", str(other)], "INC-other")
    broken = tmp_path / "broken.json"
    broken.write_text('{"version": 1,\n', encoding="utf-8")
    _fails(["notify", INCIDENT["id"], *base, "--exposure", str(broken)], "broken.json:", "not JSON")
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps({"version": 1, "account": "x"}), encoding="utf-8")
    _fails(["notify", INCIDENT["id"], *base, "--exposure", str(partial)], "missing", "parties")
