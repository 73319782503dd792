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
    """Accumulates rows for parsers that build one Python dict per record.

    Used by the formats where per-record Python is fast enough (sign-in logs,
    Workspace reports, Zeek, Postfix); the high-volume formats are vectorized instead.
    """

    def __init__(self, source_format: str, source_file: str) -> None:
        self.source_format = source_format
        self.source_file = source_file
        self._rows: list[dict[str, Any]] = []
        self._rejected: list[Rejected] = []

    def __len__(self) -> int:
        return len(self._rows) + len(self._rejected)

    def add(self, line: int, raw: str, **values: Any) -> None:
        unknown = set(values) - _COLUMN_SET
        if unknown:
            raise KeyError(f"not event fields: {sorted(unknown)}")
        params = values.get("params")
        if isinstance(params, Mapping):
            values["params"] = [(str(k), _param_text(v)) for k, v in params.items() if v is not None]
        values["source_format"] = self.source_format
        values["source_file"] = self.source_file
        values["source_line"] = line
        values["raw"] = raw
        self._rows.append(values)

    def reject(self, line: int, reason: str, raw: str) -> None:
        self._rejected.append(Rejected(line, reason, raw))

    def take(self, parsed: int | None = None) -> Chunk:
        """Return what has accumulated as a chunk and start afresh.

        ``parsed`` is the number of input records consumed when it differs from the
        number of rows added (see :attr:`Chunk.parsed`).
        """
        table = pa.Table.from_pylist(self._rows, schema=EVENT_SCHEMA)
        chunk = Chunk(table, self._rejected, parsed)
        self._rows = []
        self._rejected = []
        return chunk


_COLUMN_SET = frozenset(EVENT_COLUMNS)


def _param_text(value: object) -> str:
    if isinstance(value, str):
        return value
    import orjson

    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return str(value)
