"""Risk-based correlation: threshold crossing time, distinct-detection risk, closing, linking by address."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa

from dwelltime.detect.runner import ALERT_SCHEMA
from dwelltime.incidents.correlate import correlate

T0 = datetime(2024, 4, 1, tzinfo=UTC)


def _alert(
    n: int, entity: str, hours: float, detection: str, risk: int, ips: list[str] | None = None
) -> dict[str, object]:
    return {
        "id": f"AL-{n}",
        "detection": detection,
        "title": detection,
        "severity": "medium" if risk < 50 else "high",
        "risk": risk,
        "techniques": ["T1078"],
        "entity": entity,
        "entity_type": "user",
        "time": T0 + timedelta(hours=hours),
        "score": 1.0,
        "event_uids": [f"e{n}"],
        "src_ips": ips or [],
        "explanation": "x",
        "incident_id": None,
    }


def _table(rows: list[dict[str, object]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=ALERT_SCHEMA)


def test_opens_when_distinct_detections_cross_the_threshold() -> None:
    alerts = [
        _alert(1, "a@x.jp", 0, "dt.a.one", 25),
        _alert(2, "a@x.jp", 1, "dt.a.one", 25),  # the same detection again adds nothing
        _alert(3, "a@x.jp", 5, "dt.a.two", 25),  # a second detection crosses 50 here
        _alert(4, "a@x.jp", 6, "dt.a.three", 10),  # joins the open incident
    ]
    incidents, membership = correlate(_table(alerts))
    assert len(incidents) == 1
    incident = incidents[0]
    assert incident.opened_at == T0 + timedelta(hours=5)
    assert incident.first_event_at == T0
    assert set(membership) == {"AL-1", "AL-2", "AL-3", "AL-4"}
    assert incident.detections == ["dt.a.one", "dt.a.two", "dt.a.three"]


def test_risk_outside_the_window_does_not_add_up_and_aliases_merge_names() -> None:
    alerts = [
        _alert(1, "ito-s", 0, "dt.a.one", 25),
        _alert(2, "s.ito@x.jp", 100, "dt.a.two", 25),  # 100 h later: outside the 72 h window
    ]
    assert correlate(_table(alerts), {"ito-s": "s.ito@x.jp"})[0] == []
    alerts[1]["time"] = T0 + timedelta(hours=10)
    incidents, _ = correlate(_table(alerts), {"ito-s": "s.ito@x.jp"})
    assert [i.entity for i in incidents] == ["s.ito@x.jp"]


def test_incidents_sharing_an_attacker_address_are_related() -> None:
    alerts = [
        _alert(1, "a@x.jp", 0, "dt.a.high", 50, ["45.76.1.2"]),
        _alert(2, "b@x.jp", 2, "dt.a.high", 50, ["45.76.1.2"]),
        _alert(3, "c@x.jp", 2, "dt.a.high", 50, ["198.51.100.9"]),
    ]
    incidents, _ = correlate(_table(alerts))
    related = {i.entity: i.related for i in incidents}
    assert len(related["a@x.jp"]) == 1 and len(related["b@x.jp"]) == 1 and related["c@x.jp"] == []
