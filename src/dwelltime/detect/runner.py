"""Running detections over the store and keeping their alerts.

Each detection's query runs on DuckDB over the ``events`` view; its rows become alerts
with the detection's metadata and a stable alert id (so re-running over the same data
gives the same ids).  The alert set is rewritten atomically each run.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from datetime import datetime

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from dwelltime.detect.base import ALERT_COLUMNS, Detection
from dwelltime.detect.shared import SHARED
from dwelltime.errors import DetectionError
from dwelltime.sources.base import uid_of
from dwelltime.workspace import Workspace

ALERT_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("detection", pa.string()),
        ("title", pa.string()),
        ("severity", pa.string()),
        ("risk", pa.int32()),
        ("techniques", pa.list_(pa.string())),
        ("entity", pa.string()),
        ("entity_type", pa.string()),
        ("time", pa.timestamp("us", tz="UTC")),
        ("score", pa.float64()),
        ("event_uids", pa.list_(pa.string())),
        ("src_ips", pa.list_(pa.string())),
        ("explanation", pa.string()),
        ("incident_id", pa.string()),
    ]
)


def build_shared(con: duckdb.DuckDBPyConnection, source: str = "events", suffix: str = "") -> None:
    """Materialise each shared relation (``logins``, ...) from ``source`` as a temp table ``<name><suffix>``."""
    for name, (select, _columns) in SHARED.items():
        body = select if source == "events" else f"WITH events AS (SELECT * FROM {source})\n{select}"
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name}{suffix} AS {body}")


#: Seconds each detection's query took in this process (the benchmark reports them).
TIMINGS: dict[str, float] = {}


def run_query(con: duckdb.DuckDBPyConnection, detection: Detection) -> list[dict[str, object]]:
    """One detection's alerts over the ``events`` relation (and the shared relations) as they stand."""
    start = time.perf_counter()
    try:
        if detection.scorer is not None:
            result = list(detection.scorer(con, detection.query))
        else:
            result = con.execute(detection.query).fetchall()
    except duckdb.Error as exc:
        raise DetectionError(f"{detection.id} failed: {exc}") from exc
    TIMINGS[detection.id] = TIMINGS.get(detection.id, 0.0) + time.perf_counter() - start
    if os.environ.get("DWELLTIME_DETECT_PROFILE"):
        print(f"{detection.id}: {TIMINGS[detection.id]:.2f} s", file=sys.stderr, flush=True)
    return [_alert(detection, dict(zip(ALERT_COLUMNS, values, strict=True))) for values in result]


def present_classes(con: duckdb.DuckDBPyConnection, relation: str = "events") -> set[str]:
    return {str(row[0]) for row in con.execute(f"SELECT DISTINCT event_class FROM {relation}").fetchall()}


def run_detections(con: duckdb.DuckDBPyConnection, detections: Sequence[Detection]) -> pa.Table:
    """All alerts of ``detections`` over the ``events`` relation (a view or table in the event schema)."""
    present = present_classes(con)
    build_shared(con)
    rows: list[dict[str, object]] = []
    for detection in detections:
        if present.isdisjoint(detection.event_classes):
            continue
        rows += run_query(con, detection)
    return alerts_table(rows)


def alerts_table(rows: list[dict[str, object]]) -> pa.Table:
    rows.sort(key=lambda r: (r["time"], r["detection"], r["entity"], r["id"]))
    return pa.Table.from_pylist(rows, schema=ALERT_SCHEMA)


def _alert(detection: Detection, found: dict[str, object]) -> dict[str, object]:
    when = found["time"]
    if not isinstance(when, datetime):
        raise DetectionError(f"{detection.id} returned a time that is not a timestamp: {when!r}")
    uids = sorted(str(u) for u in (found["event_uids"] or []))  # type: ignore[attr-defined]
    entity = str(found["entity"] or "").lower()
    key = f"{detection.id}|{entity}|{when.isoformat()}|{','.join(uids)}"
    score = float(found["score"] or 0.0)  # type: ignore[arg-type]
    return {
        "id": "AL-" + uid_of("alert", key)[:16],
        "detection": detection.id,
        "title": detection.title,
        "severity": detection.severity,
        "risk": detection.alert_risk(score),
        "techniques": list(detection.techniques),
        "entity": entity,
        "entity_type": str(found["entity_type"] or "user"),
        "time": when,
        "score": score,
        "event_uids": uids,
        "src_ips": sorted({str(ip) for ip in (found["src_ips"] or []) if ip}),  # type: ignore[attr-defined]
        "explanation": str(found["explanation"] or detection.title),
        "incident_id": None,
    }


def save_alerts(workspace: Workspace, alerts: pa.Table) -> None:
    tmp = workspace.tmp_dir / "alerts.parquet.tmp"
    pq.write_table(alerts, tmp)
    tmp.replace(workspace.root / "alerts.parquet")


def load_alerts(workspace: Workspace) -> pa.Table:
    path = workspace.root / "alerts.parquet"
    return pq.read_table(path) if path.exists() else ALERT_SCHEMA.empty_table()
