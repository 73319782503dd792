"""Risk-based incidents from alerts.

Each alert adds its detection's risk to its entity.  Within a sliding window, an
entity's risk is the sum over *distinct* detections of the highest risk each raised
(one noisy detection repeating itself cannot open an incident alone unless it is
severe).  When that sum reaches the threshold an incident opens; ``opened_at`` is the
time of the alert that crossed it — the moment a live deployment would have paged
someone.  Later alerts for the entity join the open incident until it has been quiet
for ``close_after``.

Identities: alerts on an on-prem login name are folded into the person's principal
using the mapping of :mod:`dwelltime.detect.identity`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa

from dwelltime.detect.base import SEVERITIES
from dwelltime.sources.base import uid_of

THRESHOLD = 50
WINDOW = timedelta(hours=72)
CLOSE_AFTER = timedelta(days=7)


@dataclass
class Incident:
    id: str
    entity: str
    entity_type: str
    opened_at: datetime
    first_event_at: datetime
    last_event_at: datetime
    severity: str = "low"
    score: float = 0.0
    detections: list[str] = field(default_factory=list)
    techniques: list[str] = field(default_factory=list)
    src_ips: list[str] = field(default_factory=list)
    alert_ids: list[str] = field(default_factory=list)
    related: list[str] = field(default_factory=list)  # incidents sharing an attacker address

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "entity": self.entity,
            "entity_type": self.entity_type,
            "opened_at": _iso(self.opened_at),
            "first_event_at": _iso(self.first_event_at),
            "last_event_at": _iso(self.last_event_at),
            "severity": self.severity,
            "score": round(self.score, 1),
            "detections": self.detections,
            "techniques": self.techniques,
            "src_ips": self.src_ips,
            "alert_count": len(self.alert_ids),
            "alert_ids": self.alert_ids,
            "related": self.related,
        }


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def correlate(
    alerts: pa.Table, aliases: dict[str, str] | None = None, threshold: int = THRESHOLD
) -> tuple[list[Incident], dict[str, str]]:
    """Incidents, and alert id -> incident id for the alerts that joined one (``threshold``: see ``tune``)."""
    aliases = aliases or {}
    rows = sorted(alerts.to_pylist(), key=lambda a: (a["time"], a["id"]))
    by_entity: dict[str, list[dict[str, Any]]] = {}
    for alert in rows:
        entity = aliases.get(alert["entity"], alert["entity"])
        by_entity.setdefault(entity, []).append(alert)
    incidents: list[Incident] = []
    membership: dict[str, str] = {}
    for entity, entity_alerts in sorted(by_entity.items()):
        window: deque[dict[str, Any]] = deque()
        current: Incident | None = None
        for alert in entity_alerts:
            when: datetime = alert["time"]
            if current is not None and when - current.last_event_at > CLOSE_AFTER:
                current = None
            window.append(alert)
            while window and when - window[0]["time"] > WINDOW:
                window.popleft()
            if current is not None:
                _join(current, alert)
                membership[alert["id"]] = current.id
                continue
            if _risk(window) >= threshold:
                first = window[0]
                current = Incident(
                    id="INC-" + uid_of("incident", f"{entity}|{alert['id']}")[:12],
                    entity=entity,
                    entity_type=alert["entity_type"],
                    opened_at=when,
                    first_event_at=first["time"],
                    last_event_at=when,
                )
                for member in window:
                    _join(current, member)
                    membership[member["id"]] = current.id
                incidents.append(current)
    incidents.sort(key=lambda i: (i.opened_at, i.id))
    link_by_address(incidents)
    return incidents, membership


#: An address shared by more incidents than this is infrastructure (a proxy, a NAT), not one actor.
MAX_LINKED_PER_ADDRESS = 5


def link_by_address(incidents: list[Incident]) -> None:
    """Mark incidents of different entities that share a source address as related (one actor, several victims)."""
    by_address: dict[str, list[Incident]] = {}
    for incident in incidents:
        for address in incident.src_ips:
            by_address.setdefault(address, []).append(incident)
    for sharing in by_address.values():
        if not 2 <= len(sharing) <= MAX_LINKED_PER_ADDRESS:
            continue
        for incident in sharing:
            for other in sharing:
                if other.entity != incident.entity and other.id not in incident.related:
                    incident.related.append(other.id)


def _risk(window: deque[dict[str, Any]]) -> int:
    best: dict[str, int] = {}
    for alert in window:
        best[alert["detection"]] = max(best.get(alert["detection"], 0), int(alert["risk"]))
    return sum(best.values())


def _join(incident: Incident, alert: dict[str, Any]) -> None:
    incident.first_event_at = min(incident.first_event_at, alert["time"])
    incident.last_event_at = max(incident.last_event_at, alert["time"])
    incident.alert_ids.append(alert["id"])
    incident.score += float(alert["risk"])
    for name, values in (
        ("detections", [alert["detection"]]),
        ("techniques", alert["techniques"]),
        ("src_ips", alert["src_ips"]),
    ):
        merged = getattr(incident, name)
        for value in values or []:
            if value not in merged:
                merged.append(value)
    if SEVERITIES.index(alert["severity"]) > SEVERITIES.index(incident.severity):
        incident.severity = alert["severity"]
