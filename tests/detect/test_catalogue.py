"""Every detection in the catalogue: conventions, its own positive and negative cases, Spark SQL, no look-ahead."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest
import sqlglot

from dwelltime import duck
from dwelltime.detect import incremental
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


def _full_rows(detection: Detection, events: list[dict[str, object]]) -> list[dict[str, object]]:
    con = duck.connect()
    con.register("case_events", events_table(events))
    con.execute("CREATE TABLE events AS SELECT * FROM case_events")
    return run_detections(con, [detection]).drop_columns(["incident_id"]).to_pylist()


def _incremental_rows(
    detection: Detection, events: list[dict[str, object]], watermark: datetime
) -> list[dict[str, object]]:
    """Alerts after a full run over the events before ``watermark``, then an incremental run over all."""
    con = duck.connect()
    con.register("case_events", events_table(events))
    con.execute("CREATE TABLE events_all AS SELECT * FROM case_events")
    con.execute("CREATE TEMP TABLE events AS SELECT * FROM events_all WHERE time < $w", {"w": watermark})
    earlier = run_detections(con, [detection])
    con.execute("DROP TABLE events")
    tables = incremental.history_tables(con, [detection], watermark, None, "events_all")
    snapshot = incremental.Snapshot(None, watermark, 0, "", "", tables)
    rows = incremental.run_incremental(con, [detection], snapshot, "events_all", "events_all")
    return incremental.merge_alerts(earlier, rows, watermark).drop_columns(["incident_id"]).to_pylist()


def _watermarks(case: Case, alert_times: list[datetime]) -> list[datetime]:
    """Cut points: at each alert (so it is new to the incremental run) and a few spread over the case."""
    times = sorted({incremental.floor_second(e["time"]) for e in case.events})  # type: ignore[arg-type]
    spread = times[1 :: max(1, len(times) // 4)]
    return sorted({*spread, *(incremental.floor_second(t) for t in alert_times)})


@pytest.mark.parametrize(("detection", "case"), CASES, ids=lambda x: x.id if isinstance(x, Detection) else x.name)
def test_incremental_equals_full(detection: Detection, case: Case) -> None:
    """Full over everything == full over the events before a watermark, then incremental from it (every field)."""
    events = list(case.events)
    whole = _full_rows(detection, events)
    for watermark in _watermarks(case, [r["time"] for r in whole]):  # type: ignore[misc]
        assert _incremental_rows(detection, events, watermark) == whole, (case.name, watermark)


def test_incremental_state_is_what_a_full_run_keeps() -> None:
    """Kept rows merged run after run equal the kept rows a full run builds (the reductions are mergeable)."""
    detection = next(d for d in DETECTIONS if d.id == "dt.signin.new_hosting_asn")
    events = sorted(detection.positives[0].events, key=lambda e: e["time"])  # type: ignore[arg-type, return-value]
    con = duck.connect()
    con.register("case_events", events_table(events))
    con.execute("CREATE TABLE events_all AS SELECT * FROM case_events")
    end = incremental.floor_second(events[-1]["time"]) + timedelta(seconds=1)  # type: ignore[operator]
    middle = incremental.floor_second(events[len(events) // 2]["time"])  # type: ignore[arg-type]
    full = incremental.history_tables(con, [detection], end, None, "events_all")
    first = incremental.history_tables(con, [detection], middle, None, "events_all")
    added = incremental.history_tables(
        con, [detection], end, incremental.Snapshot(None, middle, 0, "", "", first), "events_all"
    )
    assert first.keys() == added.keys()
    merged = {k: pa.concat_tables([first[k], added[k]]) for k in first}
    assert full.keys() == merged.keys()
    for key, table in full.items():
        assert sorted(table.column("event_uid").to_pylist()) == sorted(merged[key].column("event_uid").to_pylist())
    assert any(t.num_rows < len(events) for t in full.values())  # keys really reduce


def _coarse(events: list[dict[str, object]], step: timedelta) -> list[dict[str, object]]:
    """The same events with their times floored to ``step``: many ties, as a low-resolution log has."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return [{**e, "time": epoch + (e["time"] - epoch) // step * step} for e in events]  # type: ignore[operator]


@pytest.mark.parametrize(("detection", "case"), CASES, ids=lambda x: x.id if isinstance(x, Detection) else x.name)
def test_the_order_events_are_stored_in_does_not_matter(detection: Detection, case: Case) -> None:
    """Every field of every alert is the same whatever order the store returns the events in.

    A store returns rows in file order, and files arrive in any order; events with the same
    timestamp (a burst of reads in one second, a log that keeps only minutes) must not be
    judged differently by it.  The case is also run with its times coarsened to make ties.
    """
    for events in (list(case.events), _coarse(list(case.events), timedelta(minutes=10))):
        whole = _full_rows(detection, events)
        assert _full_rows(detection, events[::-1]) == whole, case.name
        for seed in range(2):
            shuffled = events[:]
            random.Random(seed).shuffle(shuffled)
            assert _full_rows(detection, shuffled) == whole, (case.name, seed)
