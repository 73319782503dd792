"""``dwelltime detect``: run the catalogue over the workspace, correlate, keep alerts and incidents.

A full run judges every stored event.  An incremental run (``--since``) judges only the
events from the newest usable snapshot's watermark on, against the history that
snapshot kept (see :mod:`dwelltime.detect.incremental`); incidents are then re-correlated
over all alerts, which is cheap.  Both end with the same alerts and incidents for the
same data, and both store a snapshot for the next incremental run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import orjson
import pyarrow as pa

from dwelltime.detect import incremental as inc
from dwelltime.detect.identity import build_identities, resolve_events_view
from dwelltime.detect.registry import all_detections
from dwelltime.detect.runner import load_alerts, run_detections, save_alerts
from dwelltime.incidents.correlate import Incident, correlate
from dwelltime.incidents.threshold import load_threshold, save_threshold
from dwelltime.schema import EVENT_SCHEMA
from dwelltime.store.engine import connect
from dwelltime.workspace import Workspace

#: Sentinel for ``--since`` without a time: from the last run's watermark.
LAST = "last"


@dataclass
class DetectResult:
    alerts: pa.Table
    incidents: list[Incident]
    mode: str = "full"  # "full" or "incremental"
    since: datetime | None = None  # incremental: the watermark the run started from
    reason: str = ""  # why an incremental request ran in full
    notes: list[str] = field(default_factory=list)
    threshold: int = 0  # the incident threshold the run used


def state_dir(workspace: Workspace) -> Path:
    return workspace.root / "detect-state"


def detect(
    workspace: Workspace,
    since: datetime | str | None = None,
    models: bool = False,
    threshold: int | None = None,
) -> DetectResult:
    """Detect over the workspace: in full, or (``since`` = ``LAST`` or a time) incrementally where possible.

    ``models``: also run the behavioural models (detections with a scorer).  They are opt-in
    while their cost is a replay of every sign-in on each run; the catalogue digest records
    which set ran, so switching falls back to a full run.

    ``threshold``: the incident threshold to use from now on in this workspace (None: the one
    it has, see :mod:`dwelltime.incidents.threshold`).  Alerts do not depend on it, so
    changing it never forces a full run.
    """
    if threshold is None:
        threshold = load_threshold(workspace.root)
    else:
        save_threshold(workspace.root, threshold)
    detections = tuple(d for d in all_detections() if models or d.scorer is None)
    con = connect(workspace)
    con.execute("ALTER VIEW events RENAME TO events_raw")
    identities = build_identities(con, workspace.root / "identities.csv")
    resolve_events_view(con, identities)
    con.execute("ALTER VIEW events RENAME TO events_all")
    catalogue = inc.catalogue_digest(detections)
    idents = inc.identities_digest(identities)
    latest = inc.max_time(con, "events_raw")
    total = inc.count_all(con, "events_raw")
    snapshot, reason = (
        (None, "") if since is None else _usable_snapshot(con, workspace, since, catalogue, idents, total)
    )
    if latest is None:
        con.execute("CREATE OR REPLACE TEMP VIEW events AS SELECT * FROM events_all")
        return _finish(workspace, run_detections(con, detections), identities, threshold, "full", None, reason)
    watermark = inc.watermark_of(latest)
    if snapshot is None:
        con.execute("CREATE OR REPLACE TEMP VIEW events AS SELECT * FROM events_all")
        alerts = run_detections(con, detections)
        tables = inc.history_tables(con, detections, watermark, None, "events_all", shared_built=True)
        mode = "full"
    else:
        recent = _recent_view(con, workspace, snapshot)
        rows = inc.run_incremental(con, detections, snapshot, recent, "events_all")
        alerts = inc.merge_alerts(load_alerts(workspace), rows, snapshot.watermark)
        tables = inc.history_tables(con, detections, watermark, snapshot, recent)
        mode = "incremental"
    before = inc.count_before(con, "events_raw", watermark, total)
    # Alerts first, then the snapshot: the newest snapshot never claims alerts that were not saved.
    since_mark = snapshot.watermark if snapshot is not None else None
    result = _finish(workspace, alerts, identities, threshold, mode, since_mark, reason)
    inc.write_snapshot(state_dir(workspace), tables, watermark, before, catalogue, idents, snapshot)
    return result


def _usable_snapshot(
    con: duckdb.DuckDBPyConnection, workspace: Workspace, since: datetime | str, catalogue: str, idents: str, total: int
) -> tuple[inc.Snapshot | None, str]:
    """The newest snapshot an incremental run can start from, or None and why not."""
    if not (workspace.root / "alerts.parquet").exists():
        return None, "no earlier run"
    found = inc.snapshots(state_dir(workspace))
    if not found:
        return None, "no snapshot of an earlier run"
    reasons = []
    for snap in found:
        if isinstance(since, datetime) and snap.watermark > since:
            reasons.append(f"snapshot at {snap.watermark.isoformat()} is after {since.isoformat()}")
            continue
        if snap.catalogue != catalogue:
            reasons.append("the detection catalogue changed since the last run")
            continue
        if inc.count_before(con, "events_raw", snap.watermark, total) != snap.before:
            reasons.append(f"events before {snap.watermark.isoformat()} changed since that run (late data)")
            continue
        if snap.identities != idents:
            reasons.append("the identity mapping changed (new login-to-principal evidence)")
            continue
        return snap, ""
    return None, reasons[0] if len(set(reasons)) == 1 else "; ".join(dict.fromkeys(reasons))


def _recent_view(con: duckdb.DuckDBPyConnection, workspace: Workspace, snapshot: inc.Snapshot) -> str:
    """A view over the date partitions the detections' lookbacks reach into, identities resolved.

    Partitions are by UTC date, so only the files of the days from the earliest cut on
    are opened; the ``identities`` table is already on the connection.
    """
    lookbacks = [d.lookback for d in all_detections() if d.lookback is not None]
    earliest = inc.floor_hour(snapshot.watermark - max(lookbacks, default=timedelta(0)))
    files = [
        str(f)
        for part in sorted(workspace.events_dir.glob("date=*"))
        if part.name.removeprefix("date=") >= earliest.date().isoformat()
        for f in sorted(part.glob("*.parquet"))
    ]
    if not files:
        return "events_all"
    listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    columns = ", ".join(f'"{n}"' for n in EVENT_SCHEMA.names)
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW recent_raw AS SELECT {columns} "
        f"FROM read_parquet([{listed}], hive_partitioning = false, union_by_name = true)"
    )
    con.execute(
        "CREATE OR REPLACE TEMP VIEW recent AS SELECT e.* REPLACE (coalesce(i.principal, e.user) AS user) "
        "FROM recent_raw e LEFT JOIN identities i ON lower(e.user) = i.login"
    )
    return "recent"


def _finish(
    workspace: Workspace,
    alerts: pa.Table,
    identities: dict[str, str],
    threshold: int,
    mode: str,
    since: datetime | None,
    reason: str,
) -> DetectResult:
    incidents, membership = correlate(alerts, identities, threshold=threshold)
    ids = pa.array([membership.get(a) for a in alerts.column("id").to_pylist()], pa.string())
    alerts = alerts.set_column(alerts.schema.get_field_index("incident_id"), "incident_id", ids)
    save_alerts(workspace, alerts)
    payload = orjson.dumps([i.to_json() for i in incidents], option=orjson.OPT_INDENT_2) + b"\n"
    tmp = workspace.tmp_dir / "incidents.json.tmp"
    tmp.write_bytes(payload)
    tmp.replace(workspace.root / "incidents.json")
    return DetectResult(alerts, incidents, mode, since, reason, threshold=threshold)
