"""Every detection in the catalogue: conventions, its own positive and negative cases, Spark SQL, no look-ahead."""

from __future__ import annotations

import pytest
import sqlglot

from dwelltime import duck
from dwelltime.detect.base import Case, Detection
from dwelltime.detect.cases import events_table
from dwelltime.detect.registry import all_detections
from dwelltime.detect.runner import run_detections

DETECTIONS = all_detections()
CASES = [(d, c) for d in DETECTIONS for c in (*d.positives, *d.negatives)]


def _alerts(detection: Detection, events: list[dict[str, object]]) -> list[tuple[str, object]]:
    con = duck.connect()
    con.register("case_events", events_table(events))
    con.execute("CREATE TABLE events AS SELECT * FROM case_events")
    table = run_detections(con, [detection])
    return sorted(zip(table.column("entity").to_pylist(), table.column("time").to_pylist(), strict=True))


def test_catalogue_is_not_empty_and_ids_are_unique() -> None:
    assert len(DETECTIONS) >= 1
    assert len({d.id for d in DETECTIONS}) == len(DETECTIONS)


@pytest.mark.parametrize("detection", DETECTIONS, ids=lambda d: d.id)
def test_conventions(detection: Detection) -> None:
    assert detection.problems() == []


@pytest.mark.parametrize(("detection", "case"), CASES, ids=lambda x: x.id if isinstance(x, Detection) else x.name)
def test_case(detection: Detection, case: Case) -> None:
    assert len(_alerts(detection, list(case.events))) == case.alerts


@pytest.mark.parametrize("detection", DETECTIONS, ids=lambda d: d.id)
def test_query_transpiles_to_spark(detection: Detection) -> None:
    spark = sqlglot.transpile(detection.query, read="duckdb", write="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)
    assert spark and spark[0].strip()


@pytest.mark.parametrize("detection", DETECTIONS, ids=lambda d: d.id)
def test_no_look_ahead(detection: Detection) -> None:
    """Alerts raised on a prefix of the events are exactly the whole run's alerts up to that point."""
    for case in detection.positives:
        events = sorted(case.events, key=lambda e: e["time"])  # type: ignore[arg-type, return-value]
        whole = _alerts(detection, events)
        for cut in range(1, len(events)):
            boundary = events[cut - 1]["time"]
            prefix = [e for e in events if e["time"] <= boundary]  # type: ignore[operator]
            expected = [a for a in whole if a[1] <= boundary]  # type: ignore[operator]
            assert _alerts(detection, prefix) == expected, (case.name, cut)
