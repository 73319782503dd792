"""Incremental detection: judge only the new events, against history kept from earlier runs.

A run covers the events before its *watermark* ``W`` (the latest event time, cut down
to a whole second so that a second's log copies are never split).  For every
:class:`~dwelltime.detect.base.Keep` of the catalogue it stores the rows that baseline
needs (the first rows per key, or every row of a rare kind), computed over events
before ``W``.  The next run, over data that grew, judges each detection over

    kept rows older than ``cut``  +  every stored event from ``cut`` on

where ``cut`` is ``W`` minus the detection's ``lookback``, rounded down to the hour, and
keeps the alerts at or after ``W``; the alerts before ``W`` are the previous run's (by
no-look-ahead, later data cannot change them).  Then the kept rows are updated with the
events from ``W`` on: the first rows per key of "old first rows + new rows" are the
first rows per key of everything, so the state after any sequence of runs is the
state a full run would have built.  The work of an incremental run is the new events
plus each detection's lookback window plus the kept rows, not the whole history.

The watermark is only trusted while the data before it is unchanged: a run records how
many events lay before it, and a later run that counts a different number (logs that
arrived late, a re-ingested archive) falls back to an older snapshot whose count still
holds, or to a full run.  So does a change of the catalogue (queries, lookbacks, kept
rows) or of the identity mapping (a new login-to-principal link changes whose history
an event belongs to).

The SQL built here is constant text over relation names of our own plus the
detections' declared predicates and keys; no value from the data enters it.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from dwelltime.detect.base import BASE_KEEP, Detection, Keep
from dwelltime.detect.runner import alerts_table, build_shared, present_classes, run_query
from dwelltime.detect.shared import SHARED
from dwelltime.errors import DetectionError
from dwelltime.schema import EVENT_SCHEMA

#: Bump when the meaning of stored state changes.
STATE_VERSION = 2
#: Snapshots kept (so that late data a few runs back still has a snapshot before it).
KEEP_SNAPSHOTS = 5
#: Files a Keep's rows may be spread over before a run rewrites them as one.
MAX_PARTS = 24


def relation_columns(relation: str) -> tuple[str, ...]:
    if relation == "events":
        return tuple(EVENT_SCHEMA.names)
    if relation in SHARED:
        return SHARED[relation][1]
    raise DetectionError(f"unknown relation {relation!r} in a Keep")


def keeps_of(detection: Detection) -> tuple[Keep, ...]:
    return (*BASE_KEEP, *detection.keep)


def keep_id(keep: Keep) -> str:
    key = f"{keep.relation}|{keep.where}|{'|'.join(keep.keys)}|{keep.first}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _kept_column(column: str, keep: Keep) -> str:
    """A column as kept: the vendor's raw record only where the Keep itself reads it.

    Baselines are built from the normalized fields; the raw text is most of a row's size
    and, for the keys of Postfix relay mentions, the only place the relay is written.
    """
    if column == "raw" and keep.relation == "events" and "raw" not in f"{keep.where} {' '.join(keep.keys)}":
        return "CAST(NULL AS VARCHAR) AS raw"
    return f'"{column}"'


def _ranks(keep: Keep) -> tuple[str, str]:
    """Window columns ranking rows per key, and the condition for a row to be kept.

    For the first row per key, the partition minimum of ``time`` (no sort within
    partitions, and ties at that instant are all kept: a superset that merges the same
    way); for the first N, a row number in ``(time, event_uid)`` order.
    """
    if keep.first == 1:
        ranks = ", ".join(f"min(time) OVER (PARTITION BY {key}) AS _dt_first{i}" for i, key in enumerate(keep.keys))
        return ranks, " OR ".join(f"time = _dt_first{i}" for i in range(len(keep.keys)))
    ranks = ", ".join(
        f"ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY time, event_uid) AS _dt_rank{i}"
        for i, key in enumerate(keep.keys)
    )
    return ranks, " OR ".join(f"_dt_rank{i} <= {keep.first}" for i in range(len(keep.keys)))


def reduce_sql(keep: Keep, source: str, only: str | None = None) -> str:
    """The rows of ``source`` that ``keep`` retains (portable SQL); with ``only``, those of them in ``only``.

    Ranks are computed over the uid, time and key columns only, then the kept rows are
    fetched by uid: a window over whole rows would carry every raw record through it.
    ``only`` (a part of ``source``) is where the rows are fetched from: an incremental run
    ranks old and new rows together and fetches just the new rows it keeps.
    """
    columns = ", ".join(_kept_column(c, keep) for c in relation_columns(keep.relation))
    fetched = only or source
    if not keep.keys:
        return f"SELECT {columns} FROM {fetched} WHERE {keep.where}"
    ranks, chosen = _ranks(keep)
    return (
        f"SELECT {columns} FROM {fetched} WHERE ({keep.where}) AND event_uid IN ("
        f"SELECT event_uid FROM (SELECT event_uid, time, {ranks} FROM {source} WHERE {keep.where}) _dt_ranked"
        f" WHERE {chosen})"
    )


def catalogue_digest(detections: Sequence[Detection]) -> str:
    """Changes whenever what a run stores or how it judges changes."""
    parts = [f"v{STATE_VERSION}"]
    parts += [f"{name}:{sql}" for name, (sql, _c) in SHARED.items()]
    for d in detections:
        keeps = ";".join(keep_id(k) for k in keeps_of(d))
        parts.append(f"{d.id}|{d.query}|{d.lookback}|{keeps}|{','.join(d.event_classes)}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def identities_digest(identities: dict[str, str]) -> str:
    return hashlib.sha256(orjson.dumps(sorted(identities.items()))).hexdigest()


def floor_second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


@dataclass
class Snapshot:
    """What a run stored: the watermark, the count of events before it, and the kept rows."""

    path: Path | None
    watermark: datetime
    before: int  # events with time < watermark when the run was made
    catalogue: str
    identities: str
    tables: dict[str, pa.Table] | None = None  # in memory instead of under ``path`` (tests)

    def table(self, keep: Keep) -> pa.Table:
        if self.tables is not None:
            return self.tables[keep_id(keep)]
        return pa.concat_tables([pq.read_table(f) for f in self.files(keep_id(keep))])

    def rows(self, keep: Keep) -> int:
        if self.tables is not None:
            return int(self.tables[keep_id(keep)].num_rows)
        return sum(int(pq.ParquetFile(f).metadata.num_rows) for f in self.files(keep_id(keep)))

    def attach(self, con: duckdb.DuckDBPyConnection, keep: Keep, name: str) -> None:
        """Make the kept rows of ``keep`` the relation ``name`` (a view over its files, or the table in memory)."""
        if self.tables is not None:
            con.register(name, self.tables[keep_id(keep)])
            return
        listed = ", ".join("'" + str(f).replace("'", "''") + "'" for f in self.files(keep_id(keep)))
        con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM read_parquet([{listed}])")

    def files(self, kid: str) -> list[Path]:
        """The files holding a Keep's rows: the rows of the run that first kept them, then each later run's."""
        if self.path is None:
            raise DetectionError("snapshot has neither a path nor tables")
        found = sorted(self.path.glob(f"{kid}-*.parquet"))
        if not found:
            raise DetectionError(f"snapshot {self.path} has no rows for keep {kid}")
        return found

    @classmethod
    def load(cls, path: Path) -> Snapshot | None:
        meta = path / "snapshot.json"
        if not meta.exists():
            return None
        raw = orjson.loads(meta.read_bytes())
        if raw.get("version") != STATE_VERSION:
            return None
        return cls(
            path,
            datetime.fromisoformat(raw["watermark"]),
            int(raw["before"]),
            str(raw["catalogue"]),
            str(raw["identities"]),
        )


def snapshots(state_dir: Path) -> list[Snapshot]:
    """Stored snapshots, newest watermark first."""
    found = [s for p in sorted(state_dir.glob("run-*")) if (s := Snapshot.load(p)) is not None]
    return sorted(found, key=lambda s: s.watermark, reverse=True)


def write_snapshot(
    state_dir: Path,
    tables: dict[str, pa.Table],
    watermark: datetime,
    before: int,
    catalogue: str,
    identities: str,
    previous: Snapshot | None = None,
) -> Path:
    """Write a snapshot atomically (a directory renamed into place), then prune old ones.

    Without ``previous``, ``tables`` are every Keep's rows.  With it, they are the rows
    this run adds (see :func:`history_tables`): the previous snapshot's files are linked
    into the new one (kept rows are never dropped, only added) and the additions written
    beside them, so a run writes what is new, not all history again; a Keep spread over
    more than :data:`MAX_PARTS` files is rewritten as one.
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    name = f"run-{watermark.strftime('%Y%m%dT%H%M%S')}-{hashlib.sha256(catalogue.encode()).hexdigest()[:6]}"
    tmp = state_dir / f".{name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    writes: list[tuple[pa.Table, Path]] = []
    for kid, table in tables.items():
        parts = previous.files(kid) if previous is not None and previous.path is not None else []
        if len(parts) >= MAX_PARTS:
            writes.append((pa.concat_tables([*(pq.read_table(f) for f in parts), table]), tmp / f"{kid}-0000.parquet"))
            continue
        for n, part in enumerate(parts):
            _link(part, tmp / f"{kid}-{n:04d}.parquet")
        writes.append((table, tmp / f"{kid}-{len(parts):04d}.parquet"))
    # Parquet encoding releases the GIL: the tables are written side by side, without min/max
    # statistics (the snapshot is read whole, never filtered).
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        list(pool.map(lambda item: pq.write_table(item[0], item[1], write_statistics=False), writes))
    meta = {
        "version": STATE_VERSION,
        "watermark": watermark.isoformat(),
        "before": before,
        "catalogue": catalogue,
        "identities": identities,
    }
    (tmp / "snapshot.json").write_bytes(orjson.dumps(meta, option=orjson.OPT_INDENT_2))
    final = state_dir / name
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    for old in snapshots(state_dir)[KEEP_SNAPSHOTS:]:
        if old.path is not None:
            shutil.rmtree(old.path, ignore_errors=True)
    return final


def _link(source: Path, target: Path) -> None:
    """``target`` names the same file as ``source`` (a hard link; a copy where links are refused)."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def all_keeps(detections: Sequence[Detection]) -> dict[str, Keep]:
    found: dict[str, Keep] = {}
    for d in detections:
        if d.lookback is None:
            continue
        for keep in keeps_of(d):
            found.setdefault(keep_id(keep), keep)
    return found


def _exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    rows = con.execute(
        "SELECT (SELECT count(*) FROM duckdb_views() WHERE view_name = $n)"
        " + (SELECT count(*) FROM duckdb_tables() WHERE table_name = $n)",
        {"n": name},
    ).fetchall()
    return bool(rows and rows[0][0])


def _register(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    con.register(f"{name}_arrow", table)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_arrow")
    con.unregister(f"{name}_arrow")


def history_tables(
    con: duckdb.DuckDBPyConnection,
    detections: Sequence[Detection],
    watermark: datetime,
    previous: Snapshot | None = None,
    new_source: str = "events",
    shared_built: bool = False,
) -> dict[str, pa.Table]:
    """The kept rows of every Keep over events before ``watermark``, or what a run adds to them.

    Without ``previous``: every kept row, reduced from all of ``events`` (a full run;
    ``shared_built``: the shared relations on the connection were just built over all of
    them).  With it: only the rows to *add* to the previous snapshot's (an incremental
    run): the events of ``new_source`` between its watermark and this one that the
    reduction over "previous rows + those events" keeps.  No previous row ever leaves: rows
    are kept for being first per key, and every new event is later than every old one.
    """
    low = previous.watermark if previous is not None else None
    where = "time < $hi" if low is None else "time >= $lo AND time < $hi"
    params: dict[str, object] = {"hi": watermark} if low is None else {"lo": low, "hi": watermark}
    if previous is None:  # all history: a view (a copy of every stored event would not fit in memory)
        fresh_events = "_dt_all_events"
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {fresh_events} AS SELECT * FROM {new_source}"
            f" WHERE time < {_literal(watermark)}"
        )
    else:  # the events since the last watermark: few, and read by every Keep
        fresh_events = "_dt_new_events"
        con.execute(f"CREATE OR REPLACE TEMP TABLE {fresh_events} AS SELECT * FROM {new_source} WHERE {where}", params)
    if previous is None and shared_built:  # a full run just built them over all events: slice, do not rebuild
        for name in SHARED:
            con.execute(
                f"CREATE OR REPLACE TEMP VIEW {name}_dt_new AS SELECT * FROM {name} WHERE time < {_literal(watermark)}"
            )
    else:
        build_shared(con, fresh_events, "_dt_new")
    out: dict[str, pa.Table] = {}
    keeps = all_keeps(detections)
    if previous is None:
        out.update(_events_keeps_in_one_pass(con, {k: v for k, v in keeps.items() if v.relation == "events"}))
    for kid, keep in keeps.items():
        if kid in out:
            continue
        fresh = fresh_events if keep.relation == "events" else f"{keep.relation}_dt_new"
        if previous is None:
            source = fresh
        else:
            columns = ", ".join(f'"{c}"' for c in relation_columns(keep.relation))
            old = f"_dt_keep_{kid}"
            if not _exists(con, old):
                previous.attach(con, keep, old)
            merged = f"(SELECT {columns} FROM {old} UNION ALL SELECT {columns} FROM {fresh}) _dt_merged"
            out[kid] = con.sql(reduce_sql(keep, merged, fresh)).to_arrow_table()
            continue
        out[kid] = con.sql(reduce_sql(keep, source)).to_arrow_table()
    return out


def _events_keeps_in_one_pass(con: duckdb.DuckDBPyConnection, keeps: dict[str, Keep]) -> dict[str, pa.Table]:
    """Every Keep over all of ``_dt_all_events`` with one scan of whole rows (a full run).

    The ranks of each keyed Keep are computed over the uid, time and key columns; then
    the kept rows of all of them, and the rows of the keep-everything ones, are fetched
    together (the raw record only where a Keep reads it), and split per Keep.
    """
    source = "_dt_all_events"
    con.execute("CREATE OR REPLACE TEMP TABLE _dt_kept_uids (kid VARCHAR, uid VARCHAR)")
    for kid, keep in keeps.items():
        if not keep.keys:
            continue
        ranks, chosen = _ranks(keep)
        con.execute(
            f"INSERT INTO _dt_kept_uids SELECT '{kid}', event_uid FROM (SELECT event_uid, time, {ranks} FROM {source}"
            f" WHERE {keep.where}) _dt_ranked WHERE {chosen}"
        )
    everything = [f"({k.where})" for k in keeps.values() if not k.keys]
    with_raw = [f"({k.where})" for k in keeps.values() if _kept_column("raw", k) == '"raw"']
    raw = f"CASE WHEN {' OR '.join(with_raw)} THEN raw END AS raw" if with_raw else "CAST(NULL AS VARCHAR) AS raw"
    columns = ", ".join(raw if c == "raw" else f'"{c}"' for c in relation_columns("events"))
    wanted = " OR ".join(["event_uid IN (SELECT uid FROM _dt_kept_uids)", *everything])
    con.execute(f"CREATE OR REPLACE TEMP TABLE _dt_fetched AS SELECT {columns} FROM {source} WHERE {wanted}")
    out: dict[str, pa.Table] = {}
    for kid, keep in keeps.items():
        columns = ", ".join(
            f'f."{c}"' if _kept_column(c, keep) == f'"{c}"' else _kept_column(c, keep)
            for c in relation_columns("events")
        )
        if keep.keys:
            query = (
                f"SELECT {columns} FROM _dt_fetched f"
                f" WHERE f.event_uid IN (SELECT uid FROM _dt_kept_uids WHERE kid = '{kid}')"
            )
        else:
            query = f"SELECT {columns} FROM _dt_fetched f WHERE {keep.where}"
        out[kid] = con.sql(query).to_arrow_table()
    return out


def run_incremental(
    con: duckdb.DuckDBPyConnection,
    detections: Sequence[Detection],
    previous: Snapshot,
    recent: str,
    everything: str,
) -> list[dict[str, object]]:
    """Alerts at or after ``previous.watermark``.

    ``recent`` holds every event from the earliest cut on (the stored days a lookback
    reaches into); ``everything`` all stored events, for detections without a lookback.
    The shared relations are built once over ``recent`` (they group at most per second,
    and cuts fall on whole hours, so a detection's slice of them is the relation of its
    slice of events), and each snapshot table is loaded once.
    """
    present = present_classes(con, recent)
    build_shared(con, recent, "_dt_recent")
    loaded: set[str] = set()
    rows: list[dict[str, object]] = []
    for detection in detections:
        if present.isdisjoint(detection.event_classes):
            continue
        if detection.lookback is None:
            con.execute(f"CREATE OR REPLACE TEMP VIEW events AS SELECT * FROM {everything}")
            build_shared(con)
        else:
            cut = floor_hour(previous.watermark - detection.lookback)
            _detection_view(con, detection, previous, recent, cut, loaded)
        rows += [r for r in run_query(con, detection) if r["time"] >= previous.watermark]  # type: ignore[operator]
    return rows


def _literal(moment: datetime) -> str:
    """A timestamp literal for a view body (views take no parameters); our own value, never data."""
    return f"TIMESTAMPTZ '{moment.astimezone(UTC).strftime('%Y-%m-%d %H:%M:%S')}+00'"


def _uses(query: str, relation: str) -> bool:
    return re.search(rf"\b{relation}\b", query) is not None


def _detection_view(
    con: duckdb.DuckDBPyConnection,
    detection: Detection,
    previous: Snapshot,
    recent: str,
    cut: datetime,
    loaded: set[str],
) -> None:
    """``events`` (and shared relations) for one detection: its kept rows before ``cut``, all rows after."""
    by_relation: dict[str, list[Keep]] = {}
    for keep in keeps_of(detection):
        by_relation.setdefault(keep.relation, []).append(keep)
    since = _literal(cut)
    for relation in ("events", *SHARED):
        if relation != "events" and not _uses(detection.query, relation):
            continue
        columns = ", ".join(f'"{c}"' for c in relation_columns(relation))
        newer = recent if relation == "events" else f"{relation}_dt_recent"
        # An event kept by several Keeps is taken once: from the first Keep that has it, raw-keeping
        # Keeps first (their copy has the raw record), then smallest first (cheap anti-joins).
        keeps = sorted(
            by_relation.get(relation, []),
            key=lambda k: (_kept_column("raw", k) != '"raw"', previous.rows(k)),
        )
        parts = []
        for n, keep in enumerate(keeps):
            name = f"_dt_keep_{keep_id(keep)}"
            if name not in loaded:
                previous.attach(con, keep, name)
                loaded.add(name)
            earlier = "".join(f" AND event_uid NOT IN (SELECT event_uid FROM _dt_keep_{keep_id(k)})" for k in keeps[:n])
            parts.append(f"SELECT {columns} FROM {name} WHERE time < {since}{earlier}")
        older = " UNION ALL ".join(parts) if parts else f"SELECT {columns} FROM {newer} WHERE FALSE"
        body = f"{older} UNION ALL SELECT {columns} FROM {newer} WHERE time >= {since}"
        kind = "VIEW" if relation == "events" else "TABLE"
        con.execute(f"CREATE OR REPLACE TEMP {kind} {relation} AS {body}")


def max_time(con: duckdb.DuckDBPyConnection, relation: str) -> datetime | None:
    rows = con.execute(f"SELECT max(time) FROM {relation}").fetchall()
    value = rows[0][0] if rows else None
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise DetectionError(f"max(time) is not a timestamp: {value!r}")
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def count_all(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    """All rows (from the Parquet footers); a run computes it once for its :func:`count_before` calls."""
    row = con.execute(f"SELECT count(*) FROM {relation}").fetchone()
    return int(row[0]) if row else 0


def count_before(con: duckdb.DuckDBPyConnection, relation: str, moment: datetime, total: int | None = None) -> int:
    # All rows minus the rows from the moment on: the count of all comes from the Parquet footers and the
    # rows from a recent moment from few row groups (zone maps), where a filter on every row would scan.
    everything = count_all(con, relation) if total is None else total
    row = con.execute(f"SELECT count(*) FROM {relation} WHERE time >= $t", {"t": moment}).fetchone()
    return everything - (int(row[0]) if row else 0)


def watermark_of(latest: datetime) -> datetime:
    """The watermark for data whose latest event is ``latest``: that second (its events count as new next time)."""
    return floor_second(latest)


def merge_alerts(old: pa.Table, new_rows: list[dict[str, object]], watermark: datetime) -> pa.Table:
    """The previous run's alerts before ``watermark`` plus this run's alerts from it on."""
    kept = [dict(r, incident_id=None) for r in old.to_pylist() if r["time"] < watermark]
    return alerts_table(kept + new_rows)
