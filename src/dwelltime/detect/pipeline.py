"""``dwelltime detect``: run the catalogue over the workspace, correlate, keep alerts and incidents."""

from __future__ import annotations

from dataclasses import dataclass

import orjson
import pyarrow as pa

from dwelltime.detect.identity import build_identities, resolve_events_view
from dwelltime.detect.registry import all_detections
from dwelltime.detect.runner import run_detections, save_alerts
from dwelltime.incidents.correlate import Incident, correlate
from dwelltime.store.engine import connect
from dwelltime.workspace import Workspace


@dataclass
class DetectResult:
    alerts: pa.Table
    incidents: list[Incident]


def detect(workspace: Workspace) -> DetectResult:
    con = connect(workspace)
    con.execute("ALTER VIEW events RENAME TO events_raw")
    identities = build_identities(con, workspace.root / "identities.csv")
    resolve_events_view(con, identities)
    alerts = run_detections(con, all_detections())
    incidents, membership = correlate(alerts, identities)
    ids = pa.array([membership.get(a) for a in alerts.column("id").to_pylist()], pa.string())
    alerts = alerts.set_column(alerts.schema.get_field_index("incident_id"), "incident_id", ids)
    save_alerts(workspace, alerts)
    payload = orjson.dumps([i.to_json() for i in incidents], option=orjson.OPT_INDENT_2) + b"\n"
    tmp = workspace.tmp_dir / "incidents.json.tmp"
    tmp.write_bytes(payload)
    tmp.replace(workspace.root / "incidents.json")
    return DetectResult(alerts, incidents)
