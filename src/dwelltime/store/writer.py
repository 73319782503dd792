"""Writing events and quarantined records to the workspace, exactly once.

Each batch is written per date partition to a temporary file, flushed to disk, and
renamed into place: a file under ``events/`` is always complete.  A run killed at any
moment leaves at most stray temporaries (removed at the next start) and partitions
that already hold some of the file's events; the next run skips those through the
uid index, so every event ends up stored exactly once.
"""

from __future__ import annotations

import os
import secrets
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dwelltime.errors import StoreError
from dwelltime.schema import EVENT_SCHEMA, QUARANTINE_SCHEMA
from dwelltime.sources.base import Rejected, uid_of
from dwelltime.store.dedup import SeenIndex, uid_keys
from dwelltime.workspace import Workspace

PARQUET_COMPRESSION = "zstd"
PARQUET_COMPRESSION_LEVEL = 1  # zstd 1: nearly snappy's speed, a third smaller on log text
#: Columns worth dictionary-encoding (few distinct values).  Trying a dictionary on raw
#: records, uids or message ids only to abandon it costs a quarter of the write time.
DICTIONARY_COLUMNS = [
    "event_class",
    "action",
    "outcome",
    "operation",
    "user",
    "user_type",
    "dst_host",
    "observer",
    "client_app",
    "protocol",
    "auth_method",
    "error_code",
    "status_detail",
    "mailbox",
    "folder",
    "app_id",
    "app_name",
    "tenant",
    "src_country",
    "src_city",
    "src_as_org",
    "src_net_class",
    "source_format",
    "source_file",
    "reason",
]


#: Columns whose min/max statistics no query can use (no one filters on a range of raw record
#: text or of hashes) but which cost a sixth of the write time to compute on long values.
NO_STATISTICS_COLUMNS = frozenset({"raw", "event_uid", "params", "message_ids", "recipients", "folders", "scopes"})


def new_run_id() -> str:
    """Sortable, unique id of one ingest run (used in part file names)."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(4)


class EventStore:
    """Appends events and quarantined records to a workspace, skipping what it already holds."""

    def __init__(self, workspace: Workspace, run_id: str | None = None) -> None:
        self.ws = workspace
        self.run_id = run_id or new_run_id()
        self._seq = 0
        self._events_seen = SeenIndex(lambda p: self._partition_keys(self.ws.events_dir, p, "event_uid"))
        self._quarantine_seen = SeenIndex(lambda p: self._partition_keys(self.ws.quarantine_dir, p, "quarantine_uid"))
        # Parquet encoding runs on a writer thread (pyarrow releases the GIL), overlapping
        # the parsing of the next chunk; at most a few batches wait, so memory stays bounded.
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parquet-writer")
        self._pending: deque[Future[None]] = deque()
        self._remove_stale_temporaries()

    def _remove_stale_temporaries(self) -> None:
        for stale in self.ws.tmp_dir.glob("*.parquet.tmp"):
            stale.unlink(missing_ok=True)

    @staticmethod
    def _partition_keys(base: Path, partition: str, column: str) -> np.ndarray:
        part_dir = base / f"date={partition}"
        keys = [np.empty(0, dtype=np.uint64)]
        for part in sorted(part_dir.glob("*.parquet")):
            table = pq.read_table(part, columns=[column])
            keys.append(uid_keys(table.column(column)))
        return np.concatenate(keys)

    def store_events(self, events: pa.Table) -> tuple[int, int]:
        """Store the rows not already stored; returns (stored, duplicates)."""
        if events.num_rows == 0:
            return 0, 0
        dates = pc.cast(pc.cast(events.column("time"), pa.timestamp("us")), pa.date32())
        encoded = pc.dictionary_encode(dates).combine_chunks()
        codes = np.asarray(encoded.indices)
        keys = uid_keys(events.column("event_uid"))
        days = encoded.dictionary.to_pylist()
        stored = 0
        for code, day in enumerate(days):
            rows = np.flatnonzero(codes == code) if len(days) > 1 else np.arange(len(codes))
            partition = day.isoformat()
            fresh = self._events_seen.admit(partition, keys[rows])
            if not fresh.any():
                continue
            chosen = _gather(events, rows if fresh.all() else rows[fresh])
            self._submit(self.ws.events_dir / f"date={partition}", chosen)
            stored += int(fresh.sum())
        return stored, events.num_rows - stored

    def store_rejected(self, rejected: list[Rejected], source_file: str, source_format: str) -> int:
        """Quarantine rejected records (exactly once); returns how many were new."""
        if not rejected:
            return 0
        now = datetime.now(UTC)
        uids = [uid_of("quarantine", f"{source_format}\x1f{r.line}\x1f{r.reason}\x1f{r.raw}") for r in rejected]
        table = pa.Table.from_pydict(
            {
                "quarantine_uid": uids,
                "source_file": [source_file] * len(rejected),
                "source_line": [r.line for r in rejected],
                "source_format": [source_format] * len(rejected),
                "reason": [r.reason for r in rejected],
                "raw": [r.raw for r in rejected],
                "ingested_at": [now] * len(rejected),
            },
            schema=QUARANTINE_SCHEMA,
        )
        partition = now.date().isoformat()
        fresh = self._quarantine_seen.admit(partition, uid_keys(table.column("quarantine_uid")))
        if fresh.any():
            self._submit(self.ws.quarantine_dir / f"date={partition}", table.filter(pa.array(fresh)))
        return int(fresh.sum())

    def _submit(self, directory: Path, table: pa.Table) -> None:
        while len(self._pending) >= 2:
            self._pending.popleft().result()
        self._seq += 1
        self._pending.append(self._writer.submit(self._write, directory, table, self._seq))

    def flush(self) -> None:
        """Wait until everything handed over so far is durably on disk (raises the writer's error)."""
        while self._pending:
            self._pending.popleft().result()

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._writer.shutdown(wait=True)

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self, directory: Path, table: pa.Table, seq: int) -> None:
        try:
            self._write_file(directory, table, seq)
        except OSError as exc:
            raise StoreError(f"cannot write to workspace {self.ws.root}: {exc}") from exc

    def _write_file(self, directory: Path, table: pa.Table, seq: int) -> None:
        name = f"part-{self.run_id}-{seq:06d}.parquet"
        tmp = self.ws.tmp_dir / f"{name}.tmp"
        pq.write_table(
            table,
            tmp,
            compression=PARQUET_COMPRESSION,
            compression_level=PARQUET_COMPRESSION_LEVEL,
            use_dictionary=[c for c in DICTIONARY_COLUMNS if c in table.column_names],
            # Readers see plain UTF-8 strings whether a column was string or string_view in memory.
            store_schema=False,
            row_group_size=128 * 1024,
            write_statistics=[c for c in table.column_names if c not in NO_STATISTICS_COLUMNS],
        )
        _fsync_path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        tmp.replace(directory / name)
        _fsync_path(directory)


def _gather(table: pa.Table, rows: np.ndarray) -> pa.Table:
    """``table[rows]`` for sorted ``rows``; zero-copy slices when they form a few contiguous runs.

    Logs arrive in time order, so a batch's rows of one date are nearly always one run
    (or a few, around midnight); copying every column with ``take`` would cost more than
    parsing them did.
    """
    if len(rows) == 0:
        return table.slice(0, 0)
    breaks = np.flatnonzero(np.diff(rows) != 1) + 1
    if len(breaks) > 64:
        return _plain_text(table).take(pa.array(rows))
    starts = np.concatenate(([0], breaks))
    ends = np.concatenate((breaks, [len(rows)]))
    pieces = [table.slice(int(rows[a]), int(b - a)) for a, b in zip(starts, ends, strict=True)]
    return pieces[0] if len(pieces) == 1 else pa.concat_tables(pieces)


def _plain_text(table: pa.Table) -> pa.Table:
    """``table`` with string_view columns as plain strings (Arrow has no take kernel for string_view)."""
    for index, field in enumerate(table.schema):
        if pa.types.is_string_view(field.type):
            table = table.set_column(index, pa.field(field.name, pa.string()), table.column(index).cast(pa.string()))
    return table


def _fsync_path(path: Path) -> None:
    flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0)
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def conform(table: pa.Table) -> pa.Table:
    """A parser's table in the event schema's column order and types (string_view text allowed)."""
    columns = []
    for field in EVENT_SCHEMA:
        if field.name in table.column_names:
            column = table.column(field.name)
            if column.type != field.type and not (field.type == pa.string() and pa.types.is_string_view(column.type)):
                column = column.cast(field.type)
            columns.append(column)
        else:
            columns.append(pa.nulls(table.num_rows, field.type))
    # string_view text (raw records read straight from the file) is kept as it is: Parquet
    # stores it as ordinary UTF-8, and converting a block of records costs a full copy.
    return pa.Table.from_arrays(columns, names=list(EVENT_SCHEMA.names))
