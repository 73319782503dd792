"""``tune``: incidents per day at each threshold, from stored alerts, with the lowest one in budget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa

from dwelltime.detect.runner import ALERT_SCHEMA
from dwelltime.incidents.tune import tune

T0 = datetime(2024, 4, 1, tzinfo=UTC)


def _alert(n: int, entity: str, hours: float, detection: str, risk: int) -> dict[str, object]:
    return {
        "id": f"AL-{n}",
        "detection": detection,
        "title": detection,
        "severity": "low",
        "risk": risk,
        "techniques": ["T1078"],
        "entity": entity,
        "entity_type": "user",
        "time": T0 + timedelta(hours=hours),
        "score": 0.5,
        "event_uids": [f"e{n}"],
        "src_ips": [],
        "explanation": "x",
        "incident_id": None,
    }


def _alerts() -> pa.Table:
    rows = [
        # a: two detections 25 + 25 within a day -> 50
        _alert(1, "a@x.jp", 1, "dt.signin.one", 25),
        _alert(2, "a@x.jp", 5, "dt.mailbox.two", 25),
        # b: one medium alert -> 25
        _alert(3, "b@x.jp", 30, "dt.signin.one", 25),
        # c: high + medium -> 75
        _alert(4, "c@x.jp", 50, "dt.signin.one", 50),
        _alert(5, "c@x.jp", 51, "dt.mailbox.two", 25),
        # d: the same detection twice counts once -> 25
        _alert(6, "d@x.jp", 60, "dt.signin.one", 25),
        _alert(7, "d@x.jp", 61, "dt.signin.one", 25),
    ]
    return pa.Table.from_pylist(rows, schema=ALERT_SCHEMA)


def test_incidents_per_threshold_and_the_lowest_within_budget() -> None:
    report = tune(_alerts(), {}, days=4.0, budget_per_day=0.5, thresholds=(25, 50, 75, 100))
    counts = {r.threshold: r.incidents for r in report.rows}
    assert counts == {25: 4, 50: 2, 75: 1, 100: 0}
    per_day = {r.threshold: r.per_day for r in report.rows}
    assert per_day == {25: 1.0, 50: 0.5, 75: 0.25, 100: 0.0}
    assert report.recommended == 50  # 0.5 a day is within a budget of 0.5; 25 (1 a day) is not


def test_no_threshold_within_budget_says_so() -> None:
    report = tune(_alerts(), {}, days=4.0, budget_per_day=0.1, thresholds=(25, 50))
    assert report.recommended is None and not any(r.within_budget for r in report.rows)


def test_aliases_fold_an_on_prem_login_into_its_person() -> None:
    table = _alerts().to_pylist()
    table[1]["entity"] = "ito-a"  # the second of a's alerts under the on-prem login name
    alerts = pa.Table.from_pylist(table, schema=ALERT_SCHEMA)
    apart = tune(alerts, {}, days=4.0, budget_per_day=1.0, thresholds=(50,))
    together = tune(alerts, {"ito-a": "a@x.jp"}, days=4.0, budget_per_day=1.0, thresholds=(50,))
    assert apart.rows[0].incidents == 1 and together.rows[0].incidents == 2


def test_the_workspaces_own_threshold_is_reported_and_tried() -> None:
    report = tune(_alerts(), {}, days=4.0, budget_per_day=0.5, thresholds=(25, 100), current=75)
    assert report.current == 75
    assert {r.threshold: r.incidents for r in report.rows} == {25: 4, 75: 1, 100: 0}
