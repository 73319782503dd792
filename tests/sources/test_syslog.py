"""Syslog header splitting, time handling, dispatch to families, robustness."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from dwelltime.errors import ConfigError
from dwelltime.schema import EVENT_SCHEMA
from dwelltime.sources import syslog
from dwelltime.sources.base import ParseContext, Rejected
from dwelltime.sources.reader import iter_line_blocks
from dwelltime.sources.syslog import HEADER_COLUMNS, Family, parse_syslog, split_headers


def _split(tmp_path: Path, text: str | bytes, **ctx: Any) -> tuple[list[dict[str, Any]], list[Rejected]]:
    path = tmp_path / "x.log"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    rows: list[dict[str, Any]] = []
    rejected: list[Rejected] = []
    context = ParseContext(str(path), **ctx)
    for block in iter_line_blocks(path):
        rejected.extend(block.rejected)
        if len(block.lines):
            table, bad = split_headers(block, context)
            assert tuple(table.column_names) == HEADER_COLUMNS
            rows.extend(table.to_pylist())
            rejected.extend(bad)
    return rows, rejected


def _utc(text: str) -> datetime:
    return (
        datetime.fromisoformat(text).astimezone(UTC)
        if "+" in text
        else datetime.fromisoformat(text).replace(tzinfo=UTC)
    )


HEADER_CASES = [
    # line, time (UTC, year 2024, tz UTC), observer, program, pid, message, program_args
    ("Jun 13 16:30:54 host prog[123]: hello", "2024-06-13T16:30:54", "host", "prog", "123", "hello", None),
    (
        "Jun  3 06:25:43 srv postfix/smtpd[29306]: x: y",
        "2024-06-03T06:25:43",
        "srv",
        "postfix/smtpd",
        "29306",
        "x: y",
        None,
    ),
    (
        "Mar 7 02:09:33 server postfix/smtpd[27246]: m",
        "2024-03-07T02:09:33",
        "server",
        "postfix/smtpd",
        "27246",
        "m",
        None,
    ),
    (
        "<34>Oct 11 22:14:15 mymachine su: 'su root' failed",
        "2024-10-11T22:14:15",
        "mymachine",
        "su",
        None,
        "'su root' failed",
        None,
    ),
    (
        "Jan 29 09:33:58 pop3-login: Info: Aborted login",
        "2024-01-29T09:33:58",
        None,
        "pop3-login",
        None,
        "Info: Aborted login",
        None,
    ),
    (
        "Jun 12 11:48:12 auth-worker(80180): Info: conn",
        "2024-06-12T11:48:12",
        None,
        "auth-worker",
        None,
        "Info: conn",
        "(80180)",
    ),
    (
        "Aug 30 00:10:57 auth(u@example.com,192.0.2.110,sasl:login)<CvN+E95U>: Info: sql: x",
        "2024-08-30T00:10:57",
        None,
        "auth",
        None,
        "Info: sql: x",
        "(u@example.com,192.0.2.110,sasl:login)<CvN+E95U>",
    ),
    (
        "Jun 23 15:04:05 Info: imap-login: Login: user=<u>",
        "2024-06-23T15:04:05",
        None,
        "imap-login",
        None,
        "Info: Login: user=<u>",
        None,
    ),
    ("Jun 13 16:30:54.123456 host prog: frac", "2024-06-13T16:30:54.123456", "host", "prog", None, "frac", None),
    (
        "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed",
        "2003-10-11T22:14:15.003",
        "mymachine.example.com",
        "su",
        None,
        "'su root' failed",
        None,
    ),
    (
        '<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - [ex@32473 iut="3" n="a\\]b"] msg here',
        "2003-08-24T12:14:15.000003",
        "192.0.2.1",
        "myproc",
        "8710",
        "msg here",
        None,
    ),
    (
        "2003-10-11T22:14:15.003Z host app 12 ID47 - no pri",
        "2003-10-11T22:14:15.003",
        "host",
        "app",
        "12",
        "no pri",
        None,
    ),
    (
        "2024-03-01T10:00:00.123+09:00 host prog[12]: rsyslog",
        "2024-03-01T01:00:00.123",
        "host",
        "prog",
        "12",
        "rsyslog",
        None,
    ),
    ("2024-03-01T10:00:00+0900 host prog[7]: journald", "2024-03-01T01:00:00", "host", "prog", "7", "journald", None),
    (
        "2013-08-11 03:56:40 auth-worker(default): Info: x",
        "2013-08-11T03:56:40",
        None,
        "auth-worker",
        None,
        "Info: x",
        "(default)",
    ),
    (
        "@400000004c91b044077a9e94 imap-login: Info: tai",
        "2010-09-16T05:51:00.125476",
        None,
        "imap-login",
        None,
        "Info: tai",
        None,
    ),
    ("Jun 13 16:30:54 host prog:", "2024-06-13T16:30:54", "host", "prog", None, "", None),
]


def test_header_variants(tmp_path: Path) -> None:
    rows, rejected = _split(tmp_path, "\n".join(c[0] for c in HEADER_CASES) + "\n", year=2024)
    assert not rejected
    assert len(rows) == len(HEADER_CASES)
    for row, (line, when, observer, program, pid, message, args) in zip(rows, HEADER_CASES, strict=True):
        assert row["raw"] == line
        got = (row["time"], row["observer"], row["program"], row["pid"], row["message"], row["program_args"])
        assert got == (_utc(when), observer, program, pid, message, args), line


def test_rejections_have_reasons(tmp_path: Path) -> None:
    text = (
        "just some text\n"
        "Feb 29 10:00:00 host prog: not in 2023\n"
        "Foo 12 10:00:00 host prog: no such month\n"
        "2013-01-04 17:03:46 login authenticator failed for x\n"
        "Jun 13 16:30:54 host no tag at all\n"
        "Jun 13 16:30:54 host ok: fine\n"
    )
    rows, rejected = _split(tmp_path, text, year=2023)
    assert [r["source_line"] for r in rows] == [6]
    reasons = {r.line: r.reason for r in rejected}
    assert reasons[1] == "no syslog header"
    assert reasons[2].startswith("bad timestamp") and "Feb 29" in reasons[2]
    assert reasons[3].startswith("bad timestamp")
    assert reasons[4] == reasons[5] == "no syslog header"


def test_year_inferred_from_mtime_with_rollover(tmp_path: Path) -> None:
    text = "Dec 31 23:59:00 h p: a\nJan  2 08:00:00 h p: b\nJan  3 00:00:00 h p: c\nJan  4 00:00:00 h p: d\n"
    rows, _ = _split(tmp_path, text, mtime=datetime(2024, 1, 2, 9, 0, tzinfo=UTC))
    years = [r["time"].year for r in rows]
    # Dec 31 is last year; Jan 3 is within a day of slack after mtime; Jan 4 cannot be in the future
    assert years == [2023, 2024, 2024, 2023]


def test_explicit_year_wins_over_mtime(tmp_path: Path) -> None:
    rows, _ = _split(tmp_path, "Dec 31 23:59:00 h p: a\n", year=2019, mtime=datetime(2024, 1, 2, tzinfo=UTC))
    assert rows[0]["time"] == datetime(2019, 12, 31, 23, 59, tzinfo=UTC)


def test_local_zone_conversion_tokyo(tmp_path: Path) -> None:
    text = "Mar  1 09:00:00 h p: a\n2024-03-01 09:00:00 h p: b\n2024-03-01T09:00:00Z h p: c\n"
    rows, _ = _split(tmp_path, text, year=2024, tz="Asia/Tokyo")
    assert [r["time"] for r in rows] == [
        datetime(2024, 3, 1, 0, 0, tzinfo=UTC),
        datetime(2024, 3, 1, 0, 0, tzinfo=UTC),
        datetime(2024, 3, 1, 9, 0, tzinfo=UTC),  # an explicit offset is not re-zoned
    ]


def test_dst_edges_are_sane(tmp_path: Path) -> None:
    text = (
        "Mar 10 01:59:59 h p: before the gap\n"
        "Mar 10 02:30:00 h p: in the skipped hour\n"
        "Mar 10 03:00:00 h p: after the gap\n"
        "Nov  3 01:30:00 h p: in the repeated hour\n"
        "Nov  3 02:00:00 h p: after\n"
    )
    rows, _ = _split(tmp_path, text, year=2024, tz="America/New_York")
    times = [r["time"] for r in rows]
    assert times[0] == datetime(2024, 3, 10, 6, 59, 59, tzinfo=UTC)
    assert times[1] == datetime(2024, 3, 10, 7, 30, tzinfo=UTC)  # read with the offset before the change
    assert times[2] == datetime(2024, 3, 10, 7, 0, tzinfo=UTC)
    assert times[3] == datetime(2024, 11, 3, 6, 30, tzinfo=UTC)  # the later (standard time) instant
    assert times[4] == datetime(2024, 11, 3, 7, 0, tzinfo=UTC)


def test_unknown_zone_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        _split(tmp_path, "Jun 13 16:30:54 host prog: x\n", year=2024, tz="Mars/Olympus")


def test_invalid_utf8_and_huge_lines(tmp_path: Path) -> None:
    huge = b"Mar  1 10:00:00 h prog: " + b"x" * (1 << 20)
    huge_no_header = b"<" * (1 << 20)
    data = (
        b"Mar  1 10:00:00 h prog: ok\n"
        b"Mar  1 10:00:01 h prog: bad \xff\xfe byte\n" + huge + b"\n" + huge_no_header + b"\n"
        b"Mar  1 10:00:02 h prog: ok again\n"
    )
    path = tmp_path / "bad.log.gz"
    path.write_bytes(gzip.compress(data))
    chunks = list(parse_syslog(path, ParseContext(str(path), year=2024)))
    events = [e for c in chunks for e in c.events.to_pylist()]
    rejected = [r for c in chunks for r in c.rejected]
    assert sum(c.read for c in chunks) == 5
    assert [e["source_line"] for e in events] == [1, 3, 5]
    assert len(events[1]["raw"]) == len(huge)
    reasons = {r.line: r.reason for r in rejected}
    assert reasons[2].startswith("invalid UTF-8")
    assert reasons[4] == "no syslog header"
    assert len(next(r for r in rejected if r.line == 4).raw) < len(huge_no_header)


def test_unclaimed_rows_are_kept_as_other_events(tmp_path: Path) -> None:
    path = tmp_path / "x.log"
    path.write_text("Mar  1 10:00:00 h kernel: eth0 up\n")
    chunks = list(parse_syslog(path, ParseContext(str(path), year=2024), only="none"))
    (event,) = [e for c in chunks for e in c.events.to_pylist()]
    assert chunks[0].events.schema.equals(EVENT_SCHEMA)
    assert (event["event_class"], event["action"], event["outcome"]) == ("other", "syslog", "unknown")
    assert (event["operation"], event["observer"], event["source_format"]) == ("kernel", "h", "syslog")
    assert event["raw"] == "Mar  1 10:00:00 h kernel: eth0 up"


class _Holder:
    """A family that holds every row back until the end of the file, like a message-folding parser."""

    def __init__(self, con: duckdb.DuckDBPyConnection, ctx: ParseContext) -> None:
        self.held: list[dict[str, Any]] = []
        self.ctx = ctx

    def normalize(self, rows: pa.Table) -> tuple[pa.Table, list[Rejected], int]:
        good = [r for r in rows.to_pylist() if "bad" not in r["message"]]
        bad = [Rejected(r["source_line"], "test family rejects", r["raw"]) for r in rows.to_pylist() if r not in good]
        self.held.extend(good)
        return EVENT_SCHEMA.empty_table(), bad, len(good)

    def finish(self) -> pa.Table:
        rows = [{"source_line": r["source_line"], "raw": r["raw"], "source_format": "held"} for r in self.held]
        return pa.Table.from_pylist(rows)


def test_registered_family_hook_and_accounting(tmp_path: Path) -> None:
    syslog.register_family(Family(id="holder", claim_sql="program = 'holdme'", start=_Holder))
    try:
        path = tmp_path / "x.log"
        path.write_text("Mar  1 10:00:00 h holdme: a\nMar  1 10:00:01 h holdme: bad\nMar  1 10:00:02 h other: c\n")
        chunks = list(parse_syslog(path, ParseContext(str(path), year=2024, chunk_rows=1)))
    finally:
        syslog._REGISTERED.clear()
    assert sum(c.read for c in chunks) == 3
    events = [e for c in chunks for e in c.events.to_pylist()]
    assert sorted((e["source_line"], e["source_format"]) for e in events) == [(1, "held"), (3, "syslog")]
    assert [r.reason for c in chunks for r in c.rejected] == ["test family rejects"]
    assert all(c.events.schema.equals(EVENT_SCHEMA) for c in chunks)


def test_generic_sniff() -> None:
    assert syslog.sniff(b"Mar  1 10:00:00 h kernel: x\nMar  1 10:00:01 h cron[1]: y\n", "messages") == 0.2
    assert syslog.sniff(b"a,b,c\n1,2,3\n", "x.csv") == 0.0


def test_ip_canonicalization() -> None:
    assert syslog._canonical_ip("::ffff:192.0.2.1") == "192.0.2.1"
    assert syslog._canonical_ip("[2001:DB8:0::1]") == "2001:db8::1"
    assert syslog._canonical_ip("192.0.2.1:25") == "192.0.2.1"
    assert syslog._canonical_ip("fe80::1%eth0") == "fe80::1"
    assert syslog._canonical_ip("01.2.3.4") is None
    assert syslog._canonical_ip("not-an-ip") is None


_FAST_PATH_LINES = [
    "Mar  1 00:00:00 mail dovecot: imap-login: Login: user=<a>",
    "Jun 13 16:30:54 host postfix/smtpd[123]: connect from x[192.0.2.1]",
    "Jun 13 16:30:54 host prog[]: empty pid",
    "Jun 13 16:30:54 h.example.jp sshd[9]:",
    "Jun 13 16:30:54 host Info: not a fast program",  # upper case: regex path
    "Jun 13 16:30:54 host imap(u)<1><s>: args: regex path",
    "Jun 13 16:30:54 a[1] b(: not a header",
    "Jun 13 16:30:54 a:b c: host with a colon",
    "Jun 13 16:30:54 host p.x-y_z[77]: Warn: level stays in the message",
]


def test_fast_header_path_matches_the_header_regex(tmp_path: Path) -> None:
    """Lines the cheap test accepts are cut by position; that must equal what HEADER_RE captures."""
    import re

    header = re.compile(syslog.HEADER_RE)
    fast = re.compile(syslog.FAST_HEADER_RE)
    assert sum(1 for ln in _FAST_PATH_LINES if fast.match(ln)) == 4
    rows, rejected = _split(tmp_path, "\n".join(_FAST_PATH_LINES) + "\n", year=2024)
    by_line = {r["source_line"]: r for r in rows}
    for number, line in enumerate(_FAST_PATH_LINES, 1):
        m = header.match(line)
        if m is None:
            assert number not in by_line
            assert any(r.line == number for r in rejected)
            continue
        row = by_line[number]
        level = m.group(4) + ": " if m.group(4) else ""
        assert (row["observer"], row["program"], row["pid"], row["message"], row["program_args"]) == (
            m.group(3) or None,
            m.group(5),
            m.group(6) or None,
            level + line[len(m.group(1)) :],
            m.group(7) or None,
        ), line
