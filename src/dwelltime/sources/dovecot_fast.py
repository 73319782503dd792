"""Dovecot's common line shapes, normalized in one vectorized pass before the careful path.

Why: nearly every line of a busy Dovecot log is one of four shapes (login, failed or
abandoned pre-login, ``Logged out`` with counters, a ``mail_log`` copy/expunge/...),
and the general path (header split, then a query that computes every field of every
kind of line for every row) cost ~20 µs a line.  Here each shape is *one* strict,
full-line regex over the raw line, header included, applied only to the lines that
carry the shape's literal marker; the regex's groups are the fields, and the few
derived columns are cheap vectorized expressions (polars; its regex engine, like
RE2, runs in linear time on any input).

The rule that keeps this correct: a shape's regex accepts only lines on which the
careful path (:mod:`dwelltime.sources.dovecot` over :mod:`dwelltime.sources.syslog`)
is unambiguous, and this module then produces exactly what that path produces for
them.  Every field is bounded to a character set that excludes the delimiters the
careful path splits on (``, `` ``: `` ``<`` ``>`` ``=`` ``(`` ``)``), user names are
ASCII (so lower-casing is the same in polars and DuckDB), addresses are canonical
dotted quads, numbers are short enough for BIGINT, and timestamps that would need the
careful path's fallbacks (fractions, Feb 29, impossible dates) are left to it.
Everything a regex refuses -- rare wordings, IPv6, hostile lines crafted against
parsers -- goes through the careful path untouched.  ``tests/sources/test_dovecot_fast.py``
checks the two paths agree on every accepted line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa

from dwelltime.schema import EVENT_SCHEMA, Action, EventClass, Outcome
from dwelltime.sources.base import ParseContext
from dwelltime.sources.lineuid import line_uid_sql
from dwelltime.sources.reader import take_lines
from dwelltime.sources.syslog import IPV4_RE, Clock, in_batches

#: Switched off by tests that compare this path against the careful one.
ENABLED = True

NAMESPACE = "dovecot"
SOURCE_ID = "dovecot"

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
#: ``Mmm dd hh:mm:ss host dovecot[pid]: `` -- a subset of syslog.FAST_HEADER_RE with program
#: ``dovecot`` (which Dovecot always claims) and a time that needs no fallback.
HEAD_RE = r"^[A-Z][a-z]{2} [ 0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-5][0-9] ([!-9;-~]+) dovecot(?:\[[0-9]+\])?: "
_HEAD_WIDTH = 15
_USER = r"[A-Za-z0-9._@+-]"
_SESSION = r"[A-Za-z0-9+/]+"
#: An address as digits and dots; that it is a canonical dotted quad is checked on the captured
#: text (:func:`_canonical_ip`), which keeps bounded repetitions (slow in the capture engine)
#: out of the line regex.
_IP = r"([0-9.]+)"
_BOX = r"[A-Za-z0-9._/&+-]+(?: [A-Za-z0-9._/&+-]+)*"
_MSGID = r"(<[A-Za-z0-9._@$%+=!#&*/?^{}|~-]+>)"
_MAIL_EVENTS = "copy|move|delete|undelete|expunge|autoexpunge|save|append|flag_change|fetch"

#: Pre-login lines: Login, failed login, disconnect without a try.  Groups: host, service,
#: reason, attempts, secs, user, method, rip, lip, mpid, tls, session.
LOGIN_RE = (
    HEAD_RE + r"(imap|pop3|submission|managesieve)-login: "
    r"(Login|(?:Disconnected|Aborted login) \((?:auth failed, ([0-9]+) attempts|no auth attempts) in ([0-9]+) secs\)): "
    rf"user=<({_USER}*)>(?:, method=([A-Z0-9-]+))?, rip={_IP}, lip={_IP}"
    rf"(?:, mpid=([0-9]+))?(?:, (TLS|secured))?(?:, session=<({_SESSION})>)?$"
)
#: Mail process prefix ``svc(user)<pid><session>: ``.  Groups: host, service, user, pid, session.
_PROCESS = HEAD_RE + rf"(imap|pop3|lmtp|submission|managesieve)\(({_USER}+)\)<([0-9]+)><({_SESSION})>: "
_N = "[0-9]+"
#: Counters of the default imap_logout_format, in the order Dovecot writes them.
_COUNTERS = ("deleted", "expunged", "trashed", "hdr_count", "hdr_bytes", "body_count", "body_bytes")
#: Session end with the default imap_logout_format (or its 2.2 ``in= out=`` head).  Groups:
#: (process), in, out, then each of :data:`_COUNTERS`.
LOGOUT_RE = (
    _PROCESS + rf"Logged out in=({_N}) out=({_N})(?:" + "".join(rf" {name}=({_N})" for name in _COUNTERS) + ")?$"
)
#: mail_log plugin event with box/uid/msgid/size fields.  Groups: (process), event, source box,
#: box, uid, msgid, size.
MAILLOG_RE = (
    _PROCESS + rf"({_MAIL_EVENTS})(?: from ({_BOX}))?: box=({_BOX})(?:, uid=([0-9]+))?"
    rf"(?:, msgid={_MSGID})?(?:, size=({_N}))?$"
)

_LOGIN_GROUPS = [
    "observer",
    "svc",
    "reason",
    "attempts",
    "secs",
    "usr",
    "method",
    "rip",
    "lip",
    "mpid",
    "tls",
    "session",
]
_PROCESS_GROUPS = ["observer", "svc", "usr", "mpid", "session"]
_LOGOUT_GROUPS = [*_PROCESS_GROUPS, "c_in", "c_out", *(f"c_{name}" for name in _COUNTERS)]
_MAILLOG_GROUPS = [*_PROCESS_GROUPS, "mevent", "msrc", "mbox", "uid", "msgid", "size"]

_STR = pl.String
_I64 = pl.Int64


def _login(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Pre-login lines -> auth / login (success, failure) or connect (no attempt)."""
    c = pl.col
    ok = c("reason") == "Login"
    failed = c("attempts").is_not_null()
    return frame.select(
        "i",
        "observer",
        pl.lit(EventClass.AUTH.value).alias("event_class"),
        pl.when(ok | failed).then(pl.lit(Action.LOGIN.value)).otherwise(pl.lit(Action.CONNECT.value)).alias("action"),
        pl.when(ok)
        .then(pl.lit(Outcome.SUCCESS.value))
        .when(failed)
        .then(pl.lit(Outcome.FAILURE.value))
        .otherwise(pl.lit(Outcome.UNKNOWN.value))
        .alias("outcome"),
        pl.when(c("usr") != "").then(c("usr").str.to_lowercase()).alias("user"),
        c("rip").alias("src_ip"),
        c("lip").alias("dst_ip"),
        c("svc").alias("protocol"),
        c("session").alias("session_id"),
        c("method").alias("auth_method"),
        pl.when(failed).then(pl.lit("auth_failed")).when(~ok).then(pl.lit("no_auth_attempts")).alias("error_code"),
        pl.when(~ok).then(c("reason")).alias("status_detail"),
        c("attempts").cast(_I64, strict=False).alias("item_count"),
        c("tls").alias("p__tls"),
        c("mpid").alias("p__mpid"),
        c("attempts").alias("p__attempts"),
        c("secs").alias("p__secs"),
    )


def _logout(frame: pl.LazyFrame) -> pl.LazyFrame:
    """``Logged out`` lines of mail processes -> auth / session_end with bytes and counters."""
    c = pl.col
    return frame.select(
        "i",
        "observer",
        pl.lit(EventClass.AUTH.value).alias("event_class"),
        pl.lit(Action.SESSION_END.value).alias("action"),
        pl.lit(Outcome.SUCCESS.value).alias("outcome"),
        c("usr").str.to_lowercase().alias("user"),
        c("svc").alias("protocol"),
        c("session").alias("session_id"),
        pl.lit("Logged out").alias("status_detail"),
        c("c_body_count").cast(_I64, strict=False).alias("item_count"),
        c("c_in").cast(_I64, strict=False).alias("bytes_in"),
        c("c_out").cast(_I64, strict=False).alias("bytes_out"),
        c("mpid").alias("p__mpid"),
        c("c_in").alias("p__in"),
        c("c_out").alias("p__out"),
        *(c(f"c_{name}").alias(f"p__{name}") for name in _COUNTERS),
    )


def _maillog(frame: pl.LazyFrame) -> pl.LazyFrame:
    """mail_log plugin events -> mailbox_access (fetch) / mailbox_change."""
    c = pl.col
    ev = c("mevent")
    action = (
        pl.when(ev == "fetch")
        .then(pl.lit(Action.MAIL_READ.value))
        .when(ev == "delete")
        .then(pl.lit(Action.SOFT_DELETE.value))
        .when((ev == "expunge") | (ev == "autoexpunge"))
        .then(pl.lit(Action.HARD_DELETE.value))
        .otherwise(ev)
    )
    return frame.select(
        "i",
        "observer",
        pl.when(ev == "fetch")
        .then(pl.lit(EventClass.MAILBOX_ACCESS.value))
        .otherwise(pl.lit(EventClass.MAILBOX_CHANGE.value))
        .alias("event_class"),
        action.alias("action"),
        pl.lit(Outcome.SUCCESS.value).alias("outcome"),
        ev.alias("operation"),
        c("usr").str.to_lowercase().alias("user"),
        c("svc").alias("protocol"),
        c("session").alias("session_id"),
        c("mbox").alias("folder"),
        pl.when(c("msrc").is_not_null())
        .then(pl.concat_list(c("msrc"), c("mbox")))
        .otherwise(pl.concat_list(c("mbox")))
        .alias("folders"),
        pl.when(c("msgid").is_not_null()).then(pl.concat_list(c("msgid"))).alias("message_ids"),
        pl.lit(1, _I64).alias("item_count"),
        c("size").cast(_I64, strict=False).alias("bytes_out"),
        c("mpid").alias("p__mpid"),
        c("uid").alias("p__uid"),
        c("msrc").alias("p__source_folder"),
    )


#: Event fields the shapes fill.
_FILLED = (
    "event_class",
    "action",
    "outcome",
    "operation",
    "user",
    "src_ip",
    "dst_ip",
    "observer",
    "protocol",
    "session_id",
    "auth_method",
    "error_code",
    "status_detail",
    "folder",
    "folders",
    "message_ids",
    "item_count",
    "bytes_in",
    "bytes_out",
)
#: ``params`` keys in the careful path's order (named columns, then logout counter tokens).
_PARAM_KEYS = ("tls", "mpid", "attempts", "secs", "uid", "source_folder", "in", "out", *_COUNTERS)


@dataclass(frozen=True)
class _Pattern:
    """One full-line regex of a shape; ``marker`` is a literal every line it matches contains."""

    marker: str
    regex: str
    groups: tuple[str, ...]
    #: A literal no line of the pattern contains (spares the regex lines of a sibling form).
    unless: str | None = None


@dataclass(frozen=True)
class _Shape:
    """A common line shape: its general regex, the exact forms tried before it, and its columns.

    Why exact forms: polars' capture engine slows down several-fold on optional groups and
    alternations, so the forms Dovecot writes by default (every element present) each get
    a regex without them, and the general regex (optional elements) only sees the lines
    no exact form took.  ``derive`` turns the captured groups into event columns.
    """

    derive: Callable[[pl.LazyFrame], pl.LazyFrame]
    groups: tuple[str, ...]
    exact: tuple[_Pattern, ...]
    general: _Pattern


_LOGIN_HEAD = HEAD_RE + r"(imap|pop3|submission|managesieve)-login: "
_SHAPES = (
    _Shape(
        _login,
        tuple(_LOGIN_GROUPS),
        (
            _Pattern(
                ": Login: user=<",
                _LOGIN_HEAD + rf"(Login): user=<({_USER}*)>, method=([A-Z0-9-]+), rip={_IP}, lip={_IP}, "
                rf"mpid=([0-9]+), (TLS|secured), session=<({_SESSION})>$",
                ("observer", "svc", "reason", "usr", "method", "rip", "lip", "mpid", "tls", "session"),
            ),
            _Pattern(
                "(auth failed, ",
                _LOGIN_HEAD + r"((?:Disconnected|Aborted login) \(auth failed, ([0-9]+) attempts in ([0-9]+) secs\)): "
                rf"user=<({_USER}*)>, method=([A-Z0-9-]+), rip={_IP}, lip={_IP}, (TLS|secured), "
                rf"session=<({_SESSION})>$",
                ("observer", "svc", "reason", "attempts", "secs", "usr", "method", "rip", "lip", "tls", "session"),
            ),
            _Pattern(
                "(no auth attempts in ",
                _LOGIN_HEAD + r"((?:Disconnected|Aborted login) \(no auth attempts in ([0-9]+) secs\)): "
                rf"user=<({_USER}*)>, rip={_IP}, lip={_IP}$",
                ("observer", "svc", "reason", "secs", "usr", "rip", "lip"),
            ),
        ),
        _Pattern("-login: ", LOGIN_RE, tuple(_LOGIN_GROUPS)),
    ),
    _Shape(
        _logout,
        tuple(_LOGOUT_GROUPS),
        (
            _Pattern(
                ": Logged out in=",
                _PROCESS
                + rf"Logged out in=({_N}) out=({_N})"
                + "".join(rf" {name}=({_N})" for name in _COUNTERS)
                + "$",
                tuple(_LOGOUT_GROUPS),
            ),
        ),
        _Pattern(": Logged out in=", LOGOUT_RE, tuple(_LOGOUT_GROUPS)),
    ),
    _Shape(
        _maillog,
        tuple(_MAILLOG_GROUPS),
        (
            _Pattern(
                " from ",
                _PROCESS + rf"({_MAIL_EVENTS}) from ({_BOX}): box=({_BOX}), uid=([0-9]+), msgid={_MSGID}, size=({_N})$",
                tuple(_MAILLOG_GROUPS),
            ),
            _Pattern(
                ": box=",
                _PROCESS + rf"({_MAIL_EVENTS}): box=({_BOX}), uid=([0-9]+), msgid={_MSGID}, size=({_N})$",
                tuple(n for n in _MAILLOG_GROUPS if n != "msrc"),
                unless=" from ",
            ),
        ),
        _Pattern(">: ", MAILLOG_RE, tuple(_MAILLOG_GROUPS)),
    ),
)


def _matches(frame: pl.LazyFrame, pattern: _Pattern, shape: _Shape) -> pl.LazyFrame:
    """Event columns of the lines of ``frame`` that ``pattern`` matches (``i`` kept)."""
    names = list(pattern.groups)
    line = pl.col("line")
    candidate = line.str.contains(pattern.marker, literal=True)
    if pattern.unless is not None:
        candidate = candidate & ~line.str.contains(pattern.unless, literal=True)
    return (
        frame.filter(candidate)
        .select("i", line.str.extract_groups(pattern.regex).struct.rename_fields(names).alias("g"))
        .unnest("g")
        .filter(pl.col(names[0]).is_not_null())
        .with_columns(pl.lit(None, pl.String).alias(n) for n in shape.groups if n not in names)
        .pipe(shape.derive)
    )


class FastSplit:
    """One file's fast pass: ``split(lines, numbers)`` -> events of the lines it took, and which."""

    def __init__(self, con: duckdb.DuckDBPyConnection, ctx: ParseContext) -> None:
        self.con = con
        self.ctx = ctx
        self.clock = Clock.of(ctx)

    def split(self, lines: pa.Array, numbers: pa.Array) -> tuple[pa.Table, np.ndarray]:
        """Events (EVENT_SCHEMA, file order) for the lines of a common shape, and a mask of those lines."""
        taken = np.zeros(len(lines), dtype=bool)
        if not ENABLED or len(lines) == 0:
            return EVENT_SCHEMA.empty_table(), taken
        frame = pl.DataFrame({"line": pl.from_arrow(lines)}).with_row_index("i").lazy()
        # Exact forms first, all in parallel on polars' threads; they exclude each other (each
        # fixes the service and the words after the prefix), so no line is found twice.
        shapes = pl.collect_all([_matches(frame, p, shape) for shape in _SHAPES for p in shape.exact])
        first = np.zeros(len(lines), dtype=bool)
        for part in shapes:
            first[part.get_column("i").to_numpy()] = True
        rest = np.flatnonzero(~first)
        if len(rest):
            left = pl.DataFrame(
                {"i": pl.Series(rest, dtype=pl.UInt32), "line": pl.from_arrow(take_lines(lines, rest))}
            ).lazy()
            shapes += pl.collect_all([_matches(left, shape.general, shape) for shape in _SHAPES])
        tables: list[pa.Table] = []
        found: list[np.ndarray] = []
        for part in shapes:
            for name in ("src_ip", "dst_ip"):
                if name in part.columns:
                    part = part.filter(_canonical_ip(name))
            if part.height:
                table = part.to_arrow()
                found.append(table.column("i").to_numpy().astype(np.int64))
                tables.append(_unified(table))
        if not tables:
            return EVENT_SCHEMA.empty_table(), taken
        rows = np.concatenate(found)
        unified = pa.concat_tables(tables)
        if len(tables) > 1:
            order = np.argsort(rows, kind="stable")
            rows = rows[order]
            unified = unified.take(pa.array(order))
        events = _shape_events(unified)
        raw = take_lines(lines, rows)
        local, valid = self._local_times(raw)
        if not valid.all():  # impossible dates: leave them to the careful path (it rejects them)
            keep = np.flatnonzero(valid)
            events, rows, raw, local = events.take(pa.array(keep)), rows[keep], take_lines(raw, keep), local[keep]
        taken[rows] = True
        count = len(rows)
        line_numbers = numbers.take(pa.array(rows))
        raw_text = raw.cast(pa.string())
        extra = self._uid_and_time(raw_text, line_numbers, local)
        replace = {
            "event_uid": extra.column("event_uid"),
            "time": extra.column("time"),
            "source_format": _constant(SOURCE_ID, count),
            "source_file": _constant(self.ctx.source_file, count),
            "source_line": line_numbers,
            "raw": raw_text,
        }
        for name, column in replace.items():
            events = events.set_column(EVENT_SCHEMA.get_field_index(name), EVENT_SCHEMA.field(name), column)
        return events, taken

    def _uid_and_time(self, raw: pa.Array, line_numbers: pa.Array, local: np.ndarray) -> pa.Table:
        """Event ids (MD5, see :mod:`dwelltime.sources.lineuid`) and UTC times.

        The ids come from DuckDB (over batches, so both cores hash); local times become
        UTC there too unless the zone is UTC, where they already are.
        """
        keyed = pa.table({"raw": raw, "source_line": line_numbers, "local": pa.array(local, pa.timestamp("us"))})
        uid = line_uid_sql(NAMESPACE)
        self.con.register("dv_fast", in_batches(keyed))
        try:
            if self.clock.utc:
                ids = self.con.sql(f"SELECT {uid} AS event_uid FROM dv_fast").to_arrow_table()
                return ids.append_column("time", pa.array(local, pa.timestamp("us", tz="UTC")))
            return self.con.sql(
                f"SELECT {uid} AS event_uid, timezone($tz, local) AS time FROM dv_fast", params={"tz": self.clock.tz}
            ).to_arrow_table()
        finally:
            self.con.unregister("dv_fast")

    def _local_times(self, raw: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        """Local wall times (µs since the epoch, naive) of ``Mmm dd hh:mm:ss`` heads, and which are valid.

        Same reading as the careful path: the year is ``ctx.year``, or inferred (a time
        later than the file's mtime plus a day belongs to the previous year).  Unknown
        month names, day 0, Feb 29, days past a month's end and hours past 23 are marked
        invalid so the careful path handles them.
        """
        head = _head_bytes(raw, _HEAD_WIDTH).astype(np.int64)
        code = (head[:, 0] << 16) | (head[:, 1] << 8) | head[:, 2]
        at = np.minimum(np.searchsorted(_MONTH_CODES[_MONTH_ORDER], code), 11)
        month = _MONTH_ORDER[at]
        tens = np.where(head[:, 4] == 32, 0, head[:, 4] - 48)
        day = tens * 10 + head[:, 5] - 48
        hour = (head[:, 7] - 48) * 10 + head[:, 8] - 48
        seconds = hour * 3600 + ((head[:, 10] - 48) * 10 + head[:, 11] - 48) * 60
        seconds += (head[:, 13] - 48) * 10 + head[:, 14] - 48
        valid = (_MONTH_CODES[month] == code) & (day >= 1) & (day <= _MONTH_DAYS[month]) & (hour <= 23)
        clock = self.clock
        local = _epoch_us(clock.year, month, day, seconds)
        if clock.infer:
            ref = int((np.datetime64(clock.ref, "us") - np.datetime64(0, "us")).astype(np.int64))
            late = local > ref
            if late.any():
                local = np.where(late, _epoch_us(clock.year - 1, month, day, seconds), local)
        return local, valid


def _canonical_ip(name: str) -> pl.Expr:
    """True where the column is null or a canonical dotted quad (others take the careful path)."""
    return pl.col(name).is_null() | pl.col(name).str.contains(f"^{IPV4_RE}$")


def _params(table: pa.Table) -> pa.Array:
    """The ``params`` map of a shape's rows from its ``p__`` columns, entries in column order.

    Entry order is row-major over the (rows x columns) validity matrix, which is the order
    the careful path's :func:`dwelltime.sources.syslog.with_params` gives; a row without
    entries gets a null map.
    """
    names = [n for n in table.column_names if n.startswith("p__")]
    n = table.num_rows
    if not names:
        return pa.nulls(n, _MAP)
    columns = [table.column(name).combine_chunks().cast(pa.string()) for name in names]
    valid = np.stack([np.asarray(c.is_valid()) for c in columns], axis=1)
    flat = np.flatnonzero(valid.ravel())
    row, col = np.divmod(flat, len(names))
    counts = valid.sum(axis=1)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    keys = pa.array([name[3:] for name in names]).take(pa.array(col))
    values = pa.concat_arrays(columns).take(pa.array(col * n + row))
    return pa.MapArray.from_arrays(pa.array(offsets), keys, values, type=_MAP, mask=pa.array(counts == 0))


_MAP = pa.map_(pa.string(), pa.string())


#: Every column a shape may produce, with its Arrow type: the event fields it fills, then
#: the params in the careful path's order (a row has the params of one shape only).
_UNIFIED = pa.schema(
    [
        *(EVENT_SCHEMA.field(n) for n in _FILLED),
        *(pa.field(f"p__{k}", pa.string()) for k in _PARAM_KEYS),
    ]
)


def _unified(table: pa.Table) -> pa.Table:
    """A shape's Arrow result with all :data:`_UNIFIED` columns (absent ones null), so shapes concatenate."""
    count = table.num_rows
    cols = []
    for fld in _UNIFIED:
        if fld.name in table.column_names:
            col = table.column(fld.name)
            cols.append(col if col.type == fld.type else col.cast(fld.type))
        else:
            cols.append(pa.nulls(count, fld.type))
    return pa.Table.from_arrays(cols, schema=_UNIFIED)


def _shape_events(table: pa.Table) -> pa.Table:
    """Unified rows as EVENT_SCHEMA (provenance, uid and time are filled in by the caller)."""
    count = table.num_rows
    cols = []
    for fld in EVENT_SCHEMA:
        if fld.name == "params":
            cols.append(_params(table))
        elif fld.name in table.column_names:
            cols.append(table.column(fld.name))
        else:
            cols.append(pa.nulls(count, fld.type))
    return pa.Table.from_arrays(cols, schema=EVENT_SCHEMA)


_MONTH_CODES = np.array([(ord(m[0]) << 16) | (ord(m[1]) << 8) | ord(m[2]) for m in _MONTHS], dtype=np.int64)
_MONTH_ORDER = np.argsort(_MONTH_CODES)
#: Feb has 28: a Feb 29 line goes the careful way (its year may be the previous one).
_MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def _epoch_us(year: int, month: np.ndarray, day: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    firsts = np.array([datetime(year, m + 1, 1).toordinal() - 719163 for m in range(12)], dtype=np.int64)
    days = firsts[month] + day - 1
    return np.asarray((days * 86400 + seconds) * 1_000_000, dtype=np.int64)


def _head_bytes(arr: pa.Array, width: int) -> np.ndarray:
    """The first ``width`` bytes of each string (each at least that long) as an (n, width) array."""
    n = len(arr)
    span = np.arange(width)
    if pa.types.is_string_view(arr.type):
        views = np.frombuffer(arr.buffers()[1], dtype=np.int32).reshape(-1, 4)[arr.offset : arr.offset + n]
        which = views[:, 2]
        starts = views[:, 3].astype(np.int64)
        out = np.empty((n, width), dtype=np.uint8)
        data_buffers = arr.buffers()[2:]
        for index in np.unique(which):
            rows = np.flatnonzero(which == index)
            data = np.frombuffer(data_buffers[int(index)], dtype=np.uint8)
            out[rows] = data[starts[rows, None] + span]
        return out
    if pa.types.is_large_string(arr.type):
        offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + n]
    else:
        offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset : arr.offset + n].astype(np.int64)
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)
    return np.asarray(data[offsets[:, None] + span], dtype=np.uint8)


def _constant(value: str, count: int) -> pa.Array:
    """A string column of one value, as a dictionary (the store writes it as plain strings)."""
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(count, dtype=np.int32)), pa.array([value])).cast(
        pa.string()
    )
