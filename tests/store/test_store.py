"""EventStore: exactly-once storage, partitioning, quarantine, crash leftovers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq

from dwelltime.sources.base import EventRows, Rejected, uid_of
from dwelltime.store.engine import connect
from dwelltime.store.writer import EventStore, conform
from dwelltime.workspace import Workspace


def _store_events(ws: Workspace, rows: EventRows) -> tuple[int, int]:
    with EventStore(ws) as store:
        return store.store_events(conform(rows.take().events))


def _events(n: int, start: datetime, offset: int = 0) -> EventRows:
    rows = EventRows("test-format", "/logs/a.log")
    for i in range(offset, offset + n):
        raw = f"line {i}"
        rows.add(
            i + 1,
            raw,
            event_uid=uid_of("test", f"{raw}\x1f{i + 1}"),
            time=start + timedelta(hours=i),
            event_class="auth",
            action="login",
            outcome="success",
            user=f"user{i % 3}",
            params={"k": "v", "n": 3},
        )
    return rows


def test_store_is_exactly_once_across_runs(tmp_path: Path) -> None:
    ws = Workspace.open(tmp_path / "ws")
    start = datetime(2024, 3, 1, 20, tzinfo=UTC)
    first = _store_events(ws, _events(10, start))
    assert first == (10, 0)
    # A second run (new process state) sees what is on disk.
    assert _store_events(ws, _events(10, start, offset=5)) == (5, 5)
    con = connect(ws)
    total, distinct = con.execute("SELECT count(*), count(DISTINCT event_uid) FROM events").fetchone()
    assert (total, distinct) == (15, 15)
    # Partitioned by UTC date: 20:00 + 15 hours spans two days.
    parts = sorted(p.name for p in ws.events_dir.iterdir())
    assert parts == ["date=2024-03-01", "date=2024-03-02"]


def test_duplicates_inside_one_batch_are_stored_once(tmp_path: Path) -> None:
    ws = Workspace.open(tmp_path / "ws")
    table = conform(_events(4, datetime(2024, 1, 1, tzinfo=UTC)).take().events)
    doubled = table.__class__.from_batches(table.to_batches() + table.to_batches())
    with EventStore(ws) as store:
        assert store.store_events(doubled) == (4, 4)


def test_stored_rows_round_trip_with_schema(tmp_path: Path) -> None:
    ws = Workspace.open(tmp_path / "ws")
    _store_events(ws, _events(2, datetime(2024, 1, 1, tzinfo=UTC)))
    row = connect(ws).execute("SELECT user, params['n'], source_line, raw FROM events ORDER BY source_line").fetchone()
    assert row == ("user0", "3", 1, "line 0")


def test_stale_temporaries_are_removed_and_never_read(tmp_path: Path) -> None:
    ws = Workspace.open(tmp_path / "ws")
    stale = ws.tmp_dir / "part-x-000001.parquet.tmp"
    stale.write_bytes(b"half a parquet file")
    EventStore(ws).close()
    assert not stale.exists()


def test_quarantine_is_exactly_once(tmp_path: Path) -> None:
    ws = Workspace.open(tmp_path / "ws")
    rejected = [Rejected(3, "invalid JSON", "{oops"), Rejected(9, "invalid UTF-8 at byte 0", "\ufffd")]
    for expected_new in (2, 0):
        with EventStore(ws) as store:
            assert store.store_rejected(rejected, "/logs/a.json", "m365-audit") == expected_new
    rows = connect(ws).execute("SELECT source_line, reason FROM quarantine ORDER BY source_line").fetchall()
    assert rows == [(3, "invalid JSON"), (9, "invalid UTF-8 at byte 0")]
    files = list(ws.quarantine_dir.rglob("*.parquet"))
    assert sum(pq.read_metadata(f).num_rows for f in files) == 2


def test_scattered_rows_of_string_view_text_are_gathered() -> None:
    """Rows of one date scattered over more than 64 runs (records out of time order) with raw text
    held as string_view, as the M365 reader hands it over: gathered, not an Arrow error."""
    import numpy as np
    import pyarrow as pa

    from dwelltime.store.writer import _gather

    raw = pa.array([f"record {i}" for i in range(400)], pa.string()).cast(pa.string_view())
    table = pa.table({"n": pa.array(range(400)), "raw": raw})
    rows = np.arange(0, 400, 3)  # 133 runs of one row
    gathered = _gather(table, rows)
    assert gathered.column("n").to_pylist() == rows.tolist()
    assert gathered.column("raw").to_pylist() == [f"record {i}" for i in rows]
