"""Syslog files: split every line's header in one vectorized pass, then hand rows to daemon families.

Why vectorized: a mail server's syslog is the highest-volume input dwelltime reads
(millions of Dovecot lines a day), so header splitting runs as one DuckDB query over
the Arrow block of lines (RE2 regexes: linear time on any input, no catastrophic
backtracking), with no Python per line.

Header forms accepted (an optional ``<PRI>`` may precede each):

* RFC 3164 ``Jun 13 16:30:54 host prog[pid]: msg`` (also ``Jun  3``/``Jun 3``); the year
  is ``ctx.year`` or inferred from the file's mtime (a month/day later than mtime plus a
  day of slack belongs to the previous year), the zone is ``ctx.tz``;
* without a hostname: ``Jan 29 09:33:58 pop3-login: Info: ...``: a hostname is one token
  that does *not* end in ``:``; the program token does, so the two cannot be confused;
* Dovecot's own log file forms: ``auth-worker(80180): ...`` and
  ``auth(user,ip,sasl:login)<session>: ...`` (parenthesised args and ``<id>`` groups after
  the program name are kept in ``program_args``), and the level-first
  ``Jun 23 15:04:05 Info: imap-login: Login: ...`` (normalised to program ``imap-login``,
  message ``Info: Login: ...``, i.e. the same shape as Dovecot 2.x writes);
* ISO 8601 with an offset (rsyslog high precision, journald ``short-iso``:
  ``+0900``/``+09:00``/``Z``) and without one (zone ``ctx.tz``);
* TAI64N ``@4000000050e1d8a0...`` (daemontools/s6; leap seconds ignored);
* RFC 5424 ``<34>1 2003-10-11T22:14:15.003Z host app procid msgid [sd] msg``, also
  without PRI or version; ``message`` is the MSG part (structured data stays in ``raw``).

Local times are converted to UTC with ICU (built into DuckDB, works offline).  At a
DST change an ambiguous wall time (the repeated hour) maps to the *later* instant
(standard time) and a non-existent one (the skipped hour) is read with the offset in
force before the change (02:30 in New York on the spring-forward day -> 07:30 UTC).

**Families.**  Each daemon family (Dovecot, Postfix, ...) claims rows by a SQL
predicate over the header columns and turns them into events.  A family is a
:class:`Family`; modules listed in :data:`FAMILY_MODULES` are asked for a module-level
``SYSLOG_FAMILY`` on first use, and :func:`register_family` adds others.  Per file,
``family.start(con, ctx)`` returns a runner with

* ``normalize(rows: pa.Table) -> (events: pa.Table, rejected: list[Rejected], consumed: int)``
  where ``rows`` are the header-split rows the family claimed, in file order, with
  the columns of :data:`HEADER_COLUMNS` (``source_line`` int64, ``raw``, ``time``
  timestamp[us, UTC], ``observer``, ``program``, ``pid``, ``message``, ``program_args``);
  ``events`` are in EVENT_SCHEMA (missing columns are filled with nulls); ``consumed``
  counts the rows it took (held-back rows included), so ``consumed + len(rejected)``
  must equal ``rows.num_rows``;
* ``finish() -> pa.Table``: events still held back at end of file (no rejections:
  their rows were already counted as consumed).

``con`` is the parse call's own DuckDB connection, for families that normalize in SQL.
Rows with a valid header that no family claims are kept as ``other``/``syslog`` events.
"""

from __future__ import annotations

import importlib
import ipaddress
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dwelltime import duck
from dwelltime.errors import ConfigError
from dwelltime.schema import EVENT_SCHEMA, EventClass, Outcome
from dwelltime.sources.base import Chunk, ParseContext, Rejected, Source, uid_sql
from dwelltime.sources.reader import QUARANTINE_RAW_BYTES, LineBlock, iter_line_blocks, take_lines

SOURCE_ID = "syslog"
#: event_uid namespace of rows no family claims.
NAMESPACE = "syslog"

#: Columns of the header-split table handed to families (extra columns may be added later).
HEADER_COLUMNS: tuple[str, ...] = (
    "source_line",
    "raw",
    "time",
    "observer",
    "program",
    "pid",
    "message",
    "program_args",
)

#: Modules that may define ``SYSLOG_FAMILY``, in claim order (first claim wins).
FAMILY_MODULES: tuple[str, ...] = ("dwelltime.sources.dovecot", "dwelltime.sources.postfix")

_LEVEL = r"(?:Info|Warn|Warning|Error|Fatal|Panic|Debug)"
_TS = (
    r"[A-Z][a-z]{2} {1,2}\d{1,2} \d\d:\d\d:\d\d(?:\.\d{1,6})?"
    r"|\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d{1,9})?(?:Z|[+-]\d\d(?::?\d\d)?)?"
    r"|@[0-9a-fA-F]{24}"
)
#: BSD-style header: [<PRI>] time [host] [level:] program[[pid]][(args)][<id>...]: message.
#: Groups: head (the whole header, for the message offset), ts, host, level, program, pid, args.
HEADER_RE = (
    rf"^((?:<\d{{1,3}}>)?({_TS}) (?:([^ ]*[^ :]) )?(?:({_LEVEL}): )?"
    r"([^ :\[\]()<>]+)(?:\[([^\]]*)\])?((?:\([^)]*\))?(?:<[^>]*>)*):(?: |$))"
)
#: The common BSD shape ``Mmm dd hh:mm:ss host prog[pid]: `` (host without ``:``, program
#: starting lower-case so it cannot be a level word).  On every line this full-match-free
#: test accepts, :data:`HEADER_RE` takes exactly host = 2nd token, program/pid = 3rd token
#: (its greedy first choices all succeed), so the fields are cut by position instead: a
#: capture-free RE2 test runs on the DFA and costs a fraction of the capturing regex.
#: Bounded lengths keep the whole header inside the first :data:`_FAST_HEAD_CHARS` characters.
FAST_HEADER_RE = (
    r"^[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} [^ :]{1,40} [a-z][^ :\[\]()<>]{0,30}(?:\[[0-9]{0,10}\])?: "
)
#: RFC 5424: [<PRI>][1 ] time host app procid msgid structured-data [msg].
RFC5424_RE = (
    r"^((?:<\d{1,3}>)?(?:1 )?(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)) "
    r"(\S+) (\S+) (\S+) \S+ (?:-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: |$))"
)

_TAI64_EPOCH = 1 << 62
_FAST_HEAD_CHARS = 100


def sql_str(text: str) -> str:
    """A SQL string literal for one of *our* constants (patterns, names), never for log data."""
    return "'" + text.replace("'", "''") + "'"


# --------------------------------------------------------------------------- families


class FamilyRun(Protocol):
    """One family's state while one file is parsed."""

    def normalize(self, rows: pa.Table) -> tuple[pa.Table, list[Rejected], int]: ...

    def finish(self) -> pa.Table: ...


class FastRun(Protocol):
    """A family's pre-pass over a block's raw lines, for its common shapes (see :class:`Family`)."""

    def split(self, lines: pa.Array, numbers: pa.Array) -> tuple[pa.Table, np.ndarray]: ...


@dataclass(frozen=True)
class Family:
    """A daemon family that turns the syslog rows it claims into events.

    ``claim_sql`` is a boolean SQL expression over the header columns (a constant of
    the family's module, e.g. ``program = 'dovecot'``), evaluated inside the header
    query so claiming costs no extra pass.

    ``fast``, when set, starts a per-file pre-pass that sees each block's raw lines
    *before* the header split: ``split(lines, numbers)`` returns the events (EVENT_SCHEMA,
    file order) of the lines it fully handled and a boolean mask of those lines; the
    rest go the general way.  It is consulted only for the first family in claim
    order, and may take only lines with a valid header that ``claim_sql`` claims, so
    the result is the same as without it, only cheaper (it exists because the header
    split alone cost more per line than the whole budget of a busy Dovecot log).
    """

    id: str
    claim_sql: str
    start: Callable[[duckdb.DuckDBPyConnection, ParseContext], FamilyRun]
    fast: Callable[[duckdb.DuckDBPyConnection, ParseContext], FastRun] | None = None


_REGISTERED: list[Family] = []


def register_family(family: Family) -> None:
    """Add a family (after the built-in ones); re-registering an id replaces it."""
    _REGISTERED[:] = [f for f in _REGISTERED if f.id != family.id]
    _REGISTERED.append(family)


def families() -> list[Family]:
    """Built-in families from :data:`FAMILY_MODULES` that are present, then registered ones."""
    found: list[Family] = []
    for name in FAMILY_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        family = getattr(module, "SYSLOG_FAMILY", None)
        if isinstance(family, Family):
            found.append(family)
    ids = {f.id for f in found}
    found.extend(f for f in _REGISTERED if f.id not in ids)
    return found


# --------------------------------------------------------------------------- SQL helpers


def _sql_type(dtype: pa.DataType) -> str:
    if pa.types.is_timestamp(dtype):
        return "TIMESTAMPTZ"
    if pa.types.is_int32(dtype):
        return "INTEGER"
    if pa.types.is_int64(dtype):
        return "BIGINT"
    if pa.types.is_floating(dtype):
        return "DOUBLE"
    if pa.types.is_map(dtype):
        return "MAP(VARCHAR, VARCHAR)"
    if pa.types.is_list(dtype):
        return "VARCHAR[]"
    return "VARCHAR"


def event_select(values: Mapping[str, str], params: Mapping[str, str] | None = None) -> str:
    """A SELECT list producing every EVENT_SCHEMA column in order; unnamed columns are typed NULLs.

    ``values`` maps column name -> SQL expression (constants of the calling module only).
    ``params`` maps param key -> SQL expression; they become ``p__<key>`` columns for
    :func:`with_params` (a key ``tokens`` gives the list of ``key=value`` tokens).
    """
    unknown = set(values) - set(EVENT_SCHEMA.names)
    if unknown:
        raise KeyError(f"not event fields: {sorted(unknown)}")
    parts = []
    for fld in EVENT_SCHEMA:
        expr = values.get(fld.name)
        typ = _sql_type(fld.type)
        parts.append(f'CAST({expr if expr is not None else "NULL"} AS {typ}) AS "{fld.name}"')
    for key, expr in (params or {}).items():
        if not key.replace("_", "").isalnum():
            raise ValueError(f"bad param key {key!r}")
        typ = "VARCHAR[]" if key == "tokens" else "VARCHAR"
        parts.append(f'CAST({expr} AS {typ}) AS "{PARAM_PREFIX}{key}"')
    return ",\n  ".join(parts)


def to_events(table: pa.Table) -> pa.Table:
    """Relabel a DuckDB result as EVENT_SCHEMA (types already match; this sets field docs and UTC)."""
    return table.cast(EVENT_SCHEMA)


#: Prefix of result columns that :func:`with_params` folds into the ``params`` map.
PARAM_PREFIX = "p__"
#: Result column of ``key=value`` tokens that :func:`with_params` adds to ``params``.
PARAM_TOKENS = "p__tokens"


def with_params(table: pa.Table) -> pa.Table:
    """Build ``params`` from ``p__<key>`` string columns and an optional ``p__tokens`` list column.

    Why not in SQL: a per-row list of structs filtered by a lambda and turned into a MAP
    cost more than everything else in the Dovecot query; here the map is assembled for
    the whole block with a few numpy/Arrow kernels.  Null values are left out; a row with
    no entries gets a null map.  Token entries (``key=value``, a trailing comma dropped)
    follow the column entries of their row.
    """
    n = table.num_rows
    names = [c for c in table.column_names if c.startswith(PARAM_PREFIX) and c != PARAM_TOKENS]
    rows: list[np.ndarray] = []
    keys: list[pa.Array] = []
    values: list[pa.Array] = []
    for name in names:
        col = table.column(name).combine_chunks().cast(pa.string())
        valid = np.flatnonzero(col.is_valid().to_numpy(zero_copy_only=False))
        if len(valid):
            rows.append(valid)
            idx = pa.array(valid)
            values.append(col.take(idx))
            keys.append(pa.array([name[len(PARAM_PREFIX) :]]).take(pa.array(np.zeros(len(valid), np.int32))))
    if PARAM_TOKENS in table.column_names:
        tokens = table.column(PARAM_TOKENS).combine_chunks()
        flat = pc.list_flatten(tokens).cast(pa.string())
        parent = pc.list_parent_indices(tokens).to_numpy()
        flat = pc.utf8_rtrim(flat, characters=",")
        has_eq = pc.match_substring(flat, "=").to_numpy(zero_copy_only=False)
        keep = np.flatnonzero(has_eq)
        if len(keep):
            flat = flat.take(pa.array(keep))
            parts = pc.split_pattern(flat, "=", max_splits=1)
            rows.append(parent[keep])
            keys.append(pc.list_element(parts, 0))
            values.append(pc.list_element(parts, 1))
    out = table.drop_columns([c for c in table.column_names if c.startswith(PARAM_PREFIX)])
    if rows:
        row_index = np.concatenate(rows)
        order = np.argsort(row_index, kind="stable")
        counts = np.bincount(row_index, minlength=n)
        offsets = np.zeros(n + 1, dtype=np.int32)
        np.cumsum(counts, out=offsets[1:])
        take = pa.array(order)
        params = pa.MapArray.from_arrays(
            pa.array(offsets),
            pa.concat_arrays(keys).take(take),
            pa.concat_arrays(values).take(take),
            mask=pa.array(counts == 0),
        )
    else:
        params = pa.nulls(n, pa.map_(pa.string(), pa.string()))
    index = out.column_names.index("params")
    return out.set_column(index, "params", params)


#: Rows per Arrow batch handed to DuckDB: its Arrow scan parallelizes over batches.
BATCH_ROWS = 16_384


def in_batches(table: pa.Table) -> pa.Table:
    """The same rows cut into batches of :data:`BATCH_ROWS` (zero-copy) so DuckDB scans them in parallel."""
    return pa.Table.from_batches(table.to_batches(max_chunksize=BATCH_ROWS), table.schema)


def _canonical_ip(text: str | None) -> str | None:
    """Canonical text of an address (brackets, port, zone and v4-mapped prefix removed); None if invalid."""
    if text is None:
        return None
    value = text.strip()
    if value.startswith("[") and "]" in value:
        value = value[1 : value.index("]")]
    elif value.count(":") == 1 and "." in value:
        value = value.split(":", 1)[0]  # a.b.c.d:port
    value = value.split("%", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def _canonical_ip_udf(values: pa.Array) -> pa.Array:
    """Vectorized over one DuckDB vector; each distinct text is parsed once."""
    texts = values.to_pylist()
    cache: dict[str, str | None] = {}
    out: list[str | None] = []
    for text in texts:
        if text is None:
            out.append(None)
            continue
        if text not in cache:
            cache[text] = _canonical_ip(text)
        out.append(cache[text])
    return pa.array(out, pa.string())


#: Canonical dotted quad (no leading zeros): the fast path that needs no Python.
IPV4_RE = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}"


def ip_sql(expr: str) -> str:
    """SQL: canonical address text of ``expr`` or NULL when it is not an address.

    Dotted quads are checked by RE2 in SQL; anything else (IPv6, v4-mapped, ports)
    goes to the ``dt_canonical_ip`` function that :func:`connect` registers.
    """
    return (
        f"CASE WHEN ({expr}) IS NULL OR ({expr}) = '' THEN NULL "
        f"WHEN regexp_full_match({expr}, {sql_str(IPV4_RE)}) THEN ({expr}) "
        f"ELSE dt_canonical_ip({expr}) END"
    )


def connect() -> duckdb.DuckDBPyConnection:
    """The connection one parse call uses: UTC session zone, address helper registered."""
    con = duck.connect()
    # Rows come back in file order (events are emitted in the order of their lines).
    con.execute("SET preserve_insertion_order = true")
    con.create_function(  # type: ignore[call-overload]
        "dt_canonical_ip",
        _canonical_ip_udf,
        ["VARCHAR"],
        "VARCHAR",
        type="arrow",
        null_handling="special",
        side_effects=False,
    )
    return con


# --------------------------------------------------------------------------- header split


@dataclass(frozen=True)
class Clock:
    """How to read times without year or zone, fixed per file."""

    tz: str
    year: int
    infer: bool
    ref: datetime  # naive local: a 3164 time later than this belongs to the previous year

    @staticmethod
    def of(ctx: ParseContext) -> Clock:
        try:
            zone = ZoneInfo(ctx.tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"unknown time zone {ctx.tz!r}") from exc
        if ctx.year is not None:
            return Clock(ctx.tz, ctx.year, False, datetime(ctx.year, 12, 31))
        mtime = ctx.mtime or datetime.now(UTC)
        if mtime.tzinfo is None:
            mtime = mtime.replace(tzinfo=UTC)
        local = mtime.astimezone(zone).replace(tzinfo=None)
        return Clock(ctx.tz, local.year, True, local + timedelta(days=1))

    @property
    def utc(self) -> bool:
        return self.tz in ("UTC", "Etc/UTC", "Z", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu", "GMT")


def _local_to_utc(expr: str, clock: Clock) -> str:
    return f"CAST({expr} AS TIMESTAMPTZ)" if clock.utc else f"timezone($tz, {expr})"


def _time_sql(clock: Clock) -> tuple[str, str]:
    """SQL for the UTC time of header timestamp text ``ts`` (NULL when not a valid time), and for ``bsd_t``.

    ``bsd_t`` is an RFC 3164 time read in the candidate year, computed once in an earlier
    CTE so that the rollover test does not parse the text twice.
    """
    bsd = (
        "CASE WHEN contains(ts, '.') THEN try_strptime(CAST({y} AS VARCHAR) || ' ' || ts, '%Y %b %d %H:%M:%S.%f') "
        "ELSE try_strptime(CAST({y} AS VARCHAR) || ' ' || ts, '%Y %b %d %H:%M:%S') END"
    )
    this_year = bsd.format(y="$year")
    if clock.infer:
        prev_year = bsd.format(y="($year - 1)")
        local_bsd = f"(CASE WHEN bsd_t IS NULL OR bsd_t > $ref THEN {prev_year} ELSE bsd_t END)"
    else:
        local_bsd = "bsd_t"
    iso = "replace(ts, ',', '.')"
    return (
        f"""CASE
      WHEN ts[1] = '@' THEN CASE WHEN tai_s >= 0 THEN
          to_timestamp(tai_s) + to_microseconds(CAST((('0x' || substr(ts, 18, 8))::UBIGINT // 1000) AS BIGINT)) END
      WHEN ts[1] BETWEEN '0' AND '9' THEN CASE
          WHEN ends_with(ts, 'Z') OR contains(substr(ts, 20), '+') OR contains(substr(ts, 20), '-')
          THEN TRY_CAST({iso} AS TIMESTAMPTZ)
          ELSE {_local_to_utc(f"TRY_CAST({iso} AS TIMESTAMP)", clock)} END
      ELSE {_local_to_utc(local_bsd, clock)}
    END""",
        this_year,
    )


def _header_sql(clock: Clock, claim: str) -> str:
    time_expr, this_year = _time_sql(clock)
    names = "['head', 'ts', 'host', 'level', 'prog', 'pid', 'args']"
    names5424 = "['head', 'ts', 'host', 'app', 'procid']"
    return f"""
WITH h0 AS (
  SELECT source_line, line, regexp_matches(line, {sql_str(FAST_HEADER_RE)}) AS fast FROM lines
), h AS (
  SELECT source_line, line, fast,
    CASE WHEN NOT fast THEN regexp_extract(line, {sql_str(HEADER_RE)}, {names}) END AS b,
    CASE WHEN fast THEN substr(line, 17, {_FAST_HEAD_CHARS}) END AS rest
  FROM h0
), h1 AS (
  SELECT *, CASE WHEN fast THEN split_part(rest, ' ', 1) END AS fhost,
    CASE WHEN fast THEN position(':' IN rest) END AS fcolon
  FROM h
), h1b AS (
  SELECT *, CASE WHEN fast THEN substr(rest, length(fhost) + 2, fcolon - length(fhost) - 2) END AS ftag
  FROM h1
), h2 AS (
  SELECT source_line, line, fast, b, fhost, fcolon, ftag,
    CASE WHEN fast THEN split_part(ftag, '[', 1) END AS fprog,
    CASE WHEN NOT fast AND b.head = '' THEN regexp_extract(line, {sql_str(RFC5424_RE)}, {names5424}) END AS r
  FROM h1b
), f AS (
  SELECT source_line, line,
    fast OR b.head <> '' AS bsd, coalesce(r.head, '') <> '' AS ietf,
    CASE WHEN fast THEN left(line, 15) WHEN b.head <> '' THEN b.ts ELSE r.ts END AS ts,
    CASE WHEN fast THEN fhost WHEN b.head <> '' THEN nullif(b.host, '') ELSE nullif(r.host, '-') END AS observer,
    CASE WHEN fast THEN fprog WHEN b.head <> '' THEN b.prog ELSE nullif(r.app, '-') END AS program,
    CASE WHEN fast THEN CASE WHEN length(ftag) > length(fprog)
        THEN nullif(substr(ftag, length(fprog) + 2, length(ftag) - length(fprog) - 2), '') END
      WHEN b.head <> '' THEN nullif(b.pid, '') ELSE nullif(r.procid, '-') END AS pid,
    CASE WHEN fast THEN substr(line, fcolon + 18)
      WHEN b.head <> '' THEN
        CASE WHEN b.level <> '' THEN b.level || ': ' ELSE '' END || substr(line, length(b.head) + 1)
      ELSE substr(line, length(r.head) + 1) END AS message,
    CASE WHEN NOT fast THEN nullif(b.args, '') END AS program_args
  FROM h2
), t AS (
  SELECT *,
    CASE WHEN ts[1] = '@' THEN CAST(('0x' || substr(ts, 2, 16))::UBIGINT - {_TAI64_EPOCH} AS BIGINT) END AS tai_s,
    CASE WHEN ts[1] BETWEEN 'A' AND 'Z' THEN {this_year} END AS bsd_t
  FROM f
)
SELECT source_line, CAST(line AS VARCHAR) AS raw, {time_expr} AS time,
  observer, program, pid, message, program_args, ts,
  CASE WHEN NOT (bsd OR ietf) THEN -2 {claim} ELSE -1 END AS family
FROM t
"""


def _claim_cases(fams: Iterable[Family]) -> str:
    return " ".join(f"WHEN ({f.claim_sql}) THEN {i}" for i, f in enumerate(fams))


def _run_header(
    con: duckdb.DuckDBPyConnection, block: LineBlock, ctx: ParseContext, fams: list[Family]
) -> tuple[pa.Table, list[Rejected]]:
    clock = Clock.of(ctx)
    lines = pa.table({"source_line": block.line_numbers, "line": block.lines})
    con.register("lines", in_batches(lines))
    params: dict[str, object] = {}
    sql = _header_sql(clock, _claim_cases(fams))
    if "$year" in sql:
        params["year"] = clock.year
    if "$ref" in sql:
        params["ref"] = clock.ref
    if "$tz" in sql:
        params["tz"] = clock.tz
    table = con.sql(sql, params=params).to_arrow_table()
    con.unregister("lines")
    family = table.column("family")
    bad = pc.or_(pc.equal(family, -2), pc.is_null(table.column("time")))
    rejected: list[Rejected] = []
    if pc.any(bad).as_py():
        rows = table.filter(bad).select(["source_line", "raw", "family", "ts"]).to_pylist()
        for row in rows:
            reason = "no syslog header" if row["family"] == -2 else f"bad timestamp {row['ts']!r}"
            rejected.append(Rejected(row["source_line"], reason, _clip(row["raw"])))
        table = table.filter(pc.invert(bad))
    return table.drop_columns(["ts"]), rejected


def _clip(text: str) -> str:
    if len(text) <= QUARANTINE_RAW_BYTES:
        return text
    return text[:QUARANTINE_RAW_BYTES] + f"… [truncated, {len(text)} characters in all]"


def split_headers(block: LineBlock, ctx: ParseContext) -> tuple[pa.Table, list[Rejected]]:
    """Header-split rows (:data:`HEADER_COLUMNS`) of a block, and the lines without a valid header.

    The block's own rejections (bad UTF-8, over-long lines) are not repeated here.
    """
    con = connect()
    try:
        table, rejected = _run_header(con, block, ctx, [])
    finally:
        con.close()
    return table.drop_columns(["family"]), rejected


# --------------------------------------------------------------------------- parse


def _other_events(con: duckdb.DuckDBPyConnection, rows: pa.Table, ctx: ParseContext, source_id: str) -> pa.Table:
    con.register("other_rows", in_batches(rows))
    select = event_select(
        {
            "event_uid": uid_sql(NAMESPACE, "raw || chr(31) || CAST(source_line AS VARCHAR)"),
            "time": "time",
            "event_class": sql_str(EventClass.OTHER.value),
            "action": "'syslog'",
            "outcome": sql_str(Outcome.UNKNOWN.value),
            "operation": "program",
            "observer": "observer",
            "source_format": "$source_id",
            "source_file": "$source_file",
            "source_line": "source_line",
            "raw": "raw",
        }
    )
    params = {"source_id": source_id, "source_file": ctx.source_file}
    table = con.sql(f"SELECT {select} FROM other_rows", params=params).to_arrow_table()
    con.unregister("other_rows")
    return to_events(table)


def _block_bytes(ctx: ParseContext) -> int:
    # ~160 bytes per syslog line: blocks of about chunk_rows lines, 1-32 MiB.
    return max(1 << 20, min(32 << 20, ctx.chunk_rows * 160))


def parse_syslog(
    path: Path, ctx: ParseContext, *, only: str | None = None, source_id: str = SOURCE_ID
) -> Iterator[Chunk]:
    """Read a syslog file: split headers, let each family normalize its rows, keep the rest.

    ``only`` restricts normalization to one family id (the others' rows become
    ``other`` events): leave it None for mixed files such as ``/var/log/mail.log``.
    ``source_id`` is the ``source_format`` of rows no family claims.
    """
    fams = [f for f in families() if only is None or f.id == only]
    con = connect()
    try:
        runs = [f.start(con, ctx) for f in fams]
        first = fams[0].fast if fams else None
        fast = first(con, ctx) if first is not None else None
        for block in iter_line_blocks(path, _block_bytes(ctx)):
            rejected = list(block.rejected)
            parts: list[pa.Table] = []
            parsed = 0
            if fast is not None and len(block.lines):
                fast_events, taken = fast.split(block.lines, block.line_numbers)
                if fast_events.num_rows:
                    parts.append(fast_events)
                    parsed += fast_events.num_rows
                    rest = np.flatnonzero(~taken)
                    block = LineBlock(
                        take_lines(block.lines, rest), block.line_numbers.take(pa.array(rest)), block.rejected
                    )
            if len(block.lines):
                table, bad = _run_header(con, block, ctx, fams)
                rejected.extend(bad)
                family = table.column("family")
                for i, run in enumerate(runs):
                    mask = pc.equal(family, i)
                    if not pc.any(mask).as_py():
                        continue
                    rows = table.filter(mask).drop_columns(["family"])
                    events, fam_rejected, consumed = run.normalize(rows)
                    if consumed + len(fam_rejected) != rows.num_rows:
                        raise RuntimeError(
                            f"syslog family {fams[i].id!r} accounted for {consumed + len(fam_rejected)} "
                            f"of {rows.num_rows} rows"
                        )
                    parts.append(events)
                    rejected.extend(fam_rejected)
                    parsed += consumed
                other = pc.equal(family, -1)
                if pc.any(other).as_py():
                    rows = table.filter(other).drop_columns(["family"])
                    parts.append(_other_events(con, rows, ctx, source_id))
                    parsed += rows.num_rows
            rejected.sort(key=lambda r: r.line)
            events = _concat(parts)
            yield Chunk(events, rejected, parsed)
        for run in runs:
            tail = run.finish()
            if tail.num_rows:
                yield Chunk(_conform(tail), [], 0)
    finally:
        con.close()


def _conform(table: pa.Table) -> pa.Table:
    """A family's events in EVENT_SCHEMA column order (missing columns null)."""
    if table.schema.equals(EVENT_SCHEMA):
        return table
    cols = []
    for fld in EVENT_SCHEMA:
        if fld.name in table.column_names:
            cols.append(table.column(fld.name).cast(fld.type))
        else:
            cols.append(pa.nulls(table.num_rows, fld.type))
    return pa.Table.from_arrays(cols, schema=EVENT_SCHEMA)


def _concat(parts: list[pa.Table]) -> pa.Table:
    """One table of the families' events, back in file order (families are run one after another)."""
    if not parts:
        return EVENT_SCHEMA.empty_table()
    tables = [_conform(p) for p in parts]
    if len(tables) == 1:
        return tables[0]
    table = pa.concat_tables(tables)
    return table.take(pc.sort_indices(table.column("source_line")))


# --------------------------------------------------------------------------- generic source

_SNIFF_RE = re.compile(HEADER_RE.encode())
_SNIFF_5424 = re.compile(RFC5424_RE.encode())


def sniff_lines(head: bytes, limit: int = 200) -> list[bytes]:
    """The head's first non-blank lines, '#' comment lines left out (annotated samples and
    hand-trimmed excerpts carry them; they are quarantined at parse time, not sniffed)."""
    return [ln for ln in head.split(b"\n")[:limit] if ln.strip() and not ln.lstrip().startswith(b"#")]


def syslog_share(head: bytes, limit: int = 200) -> float:
    """Share of the head's first lines that carry a syslog header (0 when none)."""
    lines = sniff_lines(head, limit)
    if not lines:
        return 0.0
    hits = sum(1 for ln in lines if _SNIFF_RE.match(ln) or _SNIFF_5424.match(ln))
    return hits / len(lines)


def sniff(head: bytes, name: str) -> float:
    """Any syslog file, with low confidence so that a daemon family's source wins when it applies."""
    share = syslog_share(head)
    return 0.0 if share < 0.5 else 0.2


def parse(path: Path, ctx: ParseContext) -> Iterator[Chunk]:
    yield from parse_syslog(path, ctx)


SOURCE = Source(id=SOURCE_ID, title="Syslog (any daemon; mail daemons normalized)", sniff=sniff, parse=parse)
