"""Reading what ``notify`` starts from: the exposure report, the incident and its alerts.

The exposure report comes from another tool (``dwelltime scope``, or a script), so it is
checked for the contract's fields before anything is written: a letter built from a report
missing its counts would state nothing true.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, cast

from dwelltime.errors import ConfigError
from dwelltime.scope.contract import EXPOSURE_VERSION, Exposure

_INCIDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def check_incident_id(incident_id: str) -> str:
    """An incident id fit to be a directory name (it picks ``scope/<INCIDENT>/exposure.json``)."""
    if not _INCIDENT_ID.fullmatch(incident_id) or ".." in incident_id:
        raise ConfigError(f"incident id {incident_id!r} is not of the form INC-xxxxxxxxxxxx")
    return incident_id


def default_exposure_path(workspace: Path, incident_id: str) -> Path:
    """Where ``dwelltime scope --incident INCIDENT`` writes its JSON report by default."""
    return workspace / "scope" / check_incident_id(incident_id) / "exposure.json"


def load_exposure(path: Path) -> Exposure:
    """The exposure report at ``path``, with its contract's top-level fields checked."""
    if not path.is_file():
        raise ConfigError(f"no exposure report at {path} (run 'dwelltime scope' first, or pass --exposure FILE)")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}:{exc.lineno}: not JSON ({exc.msg})") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the exposure report ({exc})") from exc
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: an exposure report is a JSON object, found {type(doc).__name__}")
    missing = sorted(set(Exposure.__required_keys__) - set(doc))
    if missing:
        raise ConfigError(f"{path}: not an exposure report, missing {', '.join(missing)}")
    if doc["version"] != EXPOSURE_VERSION:
        raise ConfigError(
            f"{path}: exposure report version {doc['version']!r}, this dwelltime reads {EXPOSURE_VERSION}"
        )
    for key in ("messages", "parties", "sessions"):
        if not isinstance(doc[key], list):
            raise ConfigError(f"{path}: {key} must be a list")
    return cast(Exposure, doc)


def load_incident(workspace: Path, incident_id: str) -> dict[str, Any] | None:
    """The incident from ``<workspace>/incidents.json``, or None when there is no such file or entry."""
    path = workspace / "incidents.json"
    if not path.is_file():
        return None
    try:
        incidents = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read incidents ({exc})") from exc
    for incident in incidents if isinstance(incidents, list) else []:
        if isinstance(incident, dict) and incident.get("id") == incident_id:
            return incident
    return None


def load_incident_alerts(workspace: Path, incident_id: str) -> list[dict[str, Any]]:
    """The incident's alerts from the last ``dwelltime detect`` run (empty when there is none)."""
    if not (workspace / "alerts.parquet").is_file():
        return []
    from dwelltime.detect.runner import load_alerts
    from dwelltime.workspace import Workspace

    rows: list[dict[str, Any]] = load_alerts(Workspace(workspace)).to_pylist()
    return [row for row in rows if row.get("incident_id") == incident_id]
