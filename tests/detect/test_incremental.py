"""``dwelltime detect --since``: an incremental run ends with exactly the alerts and incidents of a full run.

The same simulated history is delivered twice: in one workspace all at once (one full
detect), in another as days 1..N-1 (full detect) and then day N (``detect --since``).
Both must end with the same alerts (ids, times, explanations, evidence, incident ids)
and the same incidents.  Then the fall-backs: a catalogue change or data arriving
before the watermark makes ``--since`` run in full, and say why.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from dwelltime.detect import incremental
from dwelltime.detect.pipeline import LAST, detect, state_dir
from dwelltime.simulate.split import split_logs
from dwelltime.workspace import Workspace

DAYS = 10


def cli(*args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "dwelltime.cli", *args], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def deliveries(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A hybrid org's logs, whole and split at the start of its last day (Japan time)."""
    root = tmp_path_factory.mktemp("incremental")
    sim = root / "sim"
    cli("simulate", "--org", "hybrid", "--users", "40", "--days", str(DAYS), "--seed", "3", "--out", str(sim))
    last = max(p.stem.split("-", 1)[1] for p in (sim / "logs" / "entra").glob("signins-*.json"))
    cutoff = datetime.fromisoformat(last).replace(tzinfo=timezone(timedelta(hours=9))).astimezone(UTC)
    split_logs(sim / "logs", cutoff, root / "early", root / "late")
    return sim / "logs", root / "early", root / "late"


def _state(ws: Path) -> tuple[str, str]:
    return (
        cli("alerts", "--workspace", str(ws), "--format", "json"),
        cli("incidents", "--workspace", str(ws), "--format", "json"),
    )


def test_incremental_over_a_new_day_equals_a_full_run(deliveries: tuple[Path, Path, Path], tmp_path: Path) -> None:
    _, early, late = deliveries
    full_ws, inc_ws = tmp_path / "full", tmp_path / "inc"
    # The same files in both (a line log's event uid includes its line number in its file).
    cli("ingest", str(early), str(late), "--workspace", str(full_ws))
    cli("detect", "--workspace", str(full_ws))

    cli("ingest", str(early), "--workspace", str(inc_ws))
    cli("detect", "--workspace", str(inc_ws))
    before = json.loads(_state(inc_ws)[0])
    cli("ingest", str(late), "--workspace", str(inc_ws))
    out = cli("detect", "--since", "--workspace", str(inc_ws))  # bare --since: from the last watermark
    assert "incremental" in out

    alerts, incidents = _state(inc_ws)
    assert json.loads(alerts) == json.loads(_state(full_ws)[0])
    assert json.loads(incidents) == json.loads(_state(full_ws)[1])
    assert len(json.loads(alerts)) > len(before) > 0  # the new day raised alerts, the old ones stayed
    assert json.loads(incidents)

    # Nothing new: still incremental, nothing changes.
    result = detect(Workspace.open(inc_ws, create=False), LAST)
    assert result.mode == "incremental"
    assert _state(inc_ws) == (alerts, incidents)


def test_since_falls_back_to_a_full_run_and_says_why(deliveries: tuple[Path, Path, Path], tmp_path: Path) -> None:
    _, early, late = deliveries
    ws = tmp_path / "ws"
    cli("ingest", str(late), "--workspace", str(ws))
    first = detect(Workspace.open(ws, create=False), LAST)
    assert (first.mode, first.reason) == ("full", "no earlier run")
    cli("ingest", str(early), "--workspace", str(ws))  # older logs arrive after the run
    late_data = detect(Workspace.open(ws, create=False), LAST)
    assert late_data.mode == "full"
    assert "late data" in late_data.reason

    # A snapshot from another catalogue is not used.
    snapshots = incremental.snapshots(state_dir(Workspace.open(ws, create=False)))
    meta = snapshots[0].path / "snapshot.json"  # type: ignore[operator]
    raw = json.loads(meta.read_text())
    meta.write_text(json.dumps({**raw, "catalogue": "another"}))
    changed = detect(Workspace.open(ws, create=False), LAST)
    assert changed.mode == "full"
    assert "catalogue" in changed.reason


def test_bare_since_means_last() -> None:
    from dwelltime.cli import _bare_since

    assert _bare_since(["detect", "--since"]) == ["detect", "--since", "last"]
    assert _bare_since(["detect", "--since", "--workspace", "w"]) == ["detect", "--since", "last", "--workspace", "w"]
    assert _bare_since(["detect", "--since", "2024-04-01T00:00Z"]) == ["detect", "--since", "2024-04-01T00:00Z"]
    assert _bare_since(["ingest", "--since"]) == ["ingest", "--since"]
