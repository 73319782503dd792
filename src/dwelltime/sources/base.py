"""The contract every log source fulfils, and the helpers they share.

A source is data, not a class hierarchy: ``Source(id, title, sniff, parse)``.
``parse`` is pure: it reads one file and yields :class:`Chunk` objects, each with
events in :data:`dwelltime.schema.EVENT_SCHEMA` *and* the records it could not
parse, so that ``events + rejected == read`` holds chunk by chunk and nothing is
dropped silently.  Enrichment, dedup and storage happen downstream.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from dwelltime.schema import EVENT_COLUMNS, EVENT_SCHEMA

#: Separator used inside uid keys; a control character that log text rarely carries.
UID_SEP = "\x1f"


def uid_of(namespace: str, key: str) -> str:
    """Stable 128-bit hex event id.  Must equal :func:`uid_sql` for the same inputs.

    SHA-256 rather than a fast non-cryptographic hash: keys contain attacker-chosen
    text (subjects, user names), and a crafted collision must not let an attacker
    make one of their records shadow a genuine one at dedup time.
    """
    return hashlib.sha256(f"{namespace}{UID_SEP}{key}".encode()).hexdigest()[:32]


def uid_sql(namespace: str, key_expr: str) -> str:
    """DuckDB SQL expression computing :func:`uid_of` (``namespace`` is a literal id, never user data)."""
    if not namespace.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"bad uid namespace {namespace!r}")
    return f"substr(sha256('{namespace}' || chr(31) || ({key_expr})), 1, 32)"


@dataclass(frozen=True)
class ParseContext:
    """What a parser may need to know beyond the bytes of the file."""

    source_file: str
    #: Year for timestamps that carry none (RFC 3164); None = infer from ``mtime``.
    year: int | None = None
    #: IANA zone of timestamps that carry no offset.
    tz: str = "UTC"
    #: The file's modification time (UTC), for year inference.
    mtime: datetime | None = None
    #: Rows per chunk the parser should aim for (bounded memory).
    chunk_rows: int = 100_000


@dataclass(frozen=True)
class Rejected:
    """One record that could not be parsed, with why."""

    line: int
    reason: str
    raw: str


@dataclass
class Chunk:
    """A parser's unit of output: events plus the records it rejected."""

    events: pa.Table
    rejected: list[Rejected] = field(default_factory=list)
    #: Input records consumed successfully.  None means one event per record.  Set it
    #: when records and events differ: Postfix folds a message's lines into one event,
    #: a Workspace activity may hold several events.
    parsed: int | None = None

    @property
    def records_parsed(self) -> int:
        return self.events.num_rows if self.parsed is None else self.parsed

    @property
    def read(self) -> int:
        """Input records read: parsed + rejected (the accounting identity ingest reports)."""
        return self.records_parsed + len(self.rejected)


Sniffer = Callable[[bytes, str], float]
Parser = Callable[[Path, ParseContext], Iterator[Chunk]]


@dataclass(frozen=True)
class Source:
    """A log format dwelltime reads.

    ``sniff(head, name)`` gets up to 64 KiB of the (decompressed) start of the file and
    its name and answers a confidence in [0, 1]; the highest non-zero answer wins.
    """

    id: str
    title: str
    sniff: Sniffer
    parse: Parser


class EventRows:
    """Accumulates events for parsers that handle one record at a time in Python.

    Used by the formats where per-record Python is fast enough (sign-in logs,
    Workspace reports, Zeek, Postfix); the high-volume formats are vectorized instead.
    Values are kept column by column (row numbers and values per field) and params as
    flat key/value lists with offsets, so building the Arrow table at ``take`` costs one
    conversion per column instead of one dictionary lookup per field per row.
    """

    def __init__(self, source_format: str, source_file: str) -> None:
        self.source_format = source_format
        self.source_file = source_file
        self._reset()

    def _reset(self) -> None:
        self._count = 0
        self._rows: dict[str, list[int]] = {}
        self._values: dict[str, list[Any]] = {}
        self._lines: list[int] = []
        self._raws: list[str] = []
        self._param_offsets: list[int] = [0]
        self._param_keys: list[str] = []
        self._param_values: list[str] = []
        self._param_null: list[bool] = []
        self._rejected: list[Rejected] = []

    def __len__(self) -> int:
        return self._count + len(self._rejected)

    def add(self, line: int, raw: str, **values: Any) -> None:
        row = self._count
        params = values.pop("params", None)
        for name, value in values.items():
            if value is None:
                continue
            rows = self._rows.get(name)
            if rows is None:
                if name not in _COLUMN_SET or name in _PROVENANCE:
                    raise KeyError(f"not an event field a parser sets: {name}")
                rows = self._rows[name] = []
                self._values[name] = []
            rows.append(row)
            self._values[name].append(value)
        if params is None:
            self._param_null.append(True)
        else:
            items = params.items() if isinstance(params, Mapping) else params
            for key, value in items:
                if value is not None:
                    self._param_keys.append(str(key))
                    self._param_values.append(value if isinstance(value, str) else _param_text(value))
            self._param_null.append(False)
        self._param_offsets.append(len(self._param_keys))
        self._lines.append(line)
        self._raws.append(raw)
        self._count += 1

    def reject(self, line: int, reason: str, raw: str) -> None:
        self._rejected.append(Rejected(line, reason, raw))

    def take(self, parsed: int | None = None) -> Chunk:
        """Return what has accumulated as a chunk and start afresh.

        ``parsed`` is the number of input records consumed when it differs from the
        number of rows added (see :attr:`Chunk.parsed`).
        """
        count = self._count
        columns: list[pa.Array] = []
        for column in EVENT_SCHEMA:
            name = column.name
            if name == "params":
                columns.append(
                    pa.MapArray.from_arrays(
                        pa.array(self._param_offsets, pa.int32()),
                        pa.array(self._param_keys, pa.string()),
                        pa.array(self._param_values, pa.string()),
                        type=column.type,
                        mask=pa.array(self._param_null, pa.bool_()),
                    )
                )
            elif name == "source_format":
                columns.append(pa.array([self.source_format] * count, pa.string()))
            elif name == "source_file":
                columns.append(pa.array([self.source_file] * count, pa.string()))
            elif name == "source_line":
                columns.append(pa.array(self._lines, pa.int64()))
            elif name == "raw":
                columns.append(pa.array(self._raws, pa.string()))
            elif name not in self._rows:
                columns.append(pa.nulls(count, column.type))
            else:
                rows, values = self._rows[name], self._values[name]
                if len(rows) != count:
                    full: list[Any] = [None] * count
                    for index, value in zip(rows, values, strict=True):
                        full[index] = value
                    values = full
                columns.append(pa.array(values, column.type))
        table = pa.Table.from_arrays(columns, schema=EVENT_SCHEMA)
        chunk = Chunk(table, self._rejected, parsed)
        self._reset()
        return chunk


_PROVENANCE = frozenset({"source_format", "source_file", "source_line", "raw"})
_COLUMN_SET = frozenset(EVENT_COLUMNS)


def _param_text(value: object) -> str:
    if isinstance(value, str):
        return value
    import orjson

    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return str(value)
