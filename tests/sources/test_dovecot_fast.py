"""The Dovecot fast path must give exactly what the careful path gives, on every line it takes.

The careful path (header split + the Dovecot query) is the reference: it is pinned by
the golden sample and the third-party fixtures.  Here each corpus is parsed twice, with
the fast path off and on, and the results must be identical row for row (ids, times,
every field, params in order) with identical rejections.  Separate checks pin which
lines the fast path takes and which it must leave alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from dwelltime.simulate.bulk import dovecot_lines
from dwelltime.sources import dovecot, dovecot_fast, syslog
from dwelltime.sources.base import ParseContext
from dwelltime.sources.lineuid import line_uid

DATA = Path(__file__).resolve().parent.parent / "data" / "dovecot"
FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures"

H = "Mar  1 10:00:00 mx1 dovecot: "
#: Lines of the common shapes, in forms the fast path should take.
TAKEN = [
    H + "imap-login: Login: user=<Alice@Example.com>, method=PLAIN, rip=203.0.113.10, lip=192.0.2.1, "
    "mpid=4242, TLS, session=<Q1w2e3r4t5y6>",
    H + "pop3-login: Login: user=<bob>, method=LOGIN, rip=198.51.100.7, lip=192.0.2.1, mpid=1, secured, "
    "session=<Zx9/Yw8+Vu7>",
    H + "imap-login: Login: user=<bob>, method=PLAIN, rip=198.51.100.7, lip=192.0.2.1, mpid=2, session=<a>",
    H + "imap-login: Login: user=<bob>, rip=198.51.100.7, lip=192.0.2.1",
    H + "submission-login: Login: user=<c.d+e@x-y.example>, method=XOAUTH2, rip=0.0.0.0, lip=255.255.255.255, TLS",
    H + "imap-login: Disconnected (auth failed, 3 attempts in 12 secs): user=<carol@example.com>, method=PLAIN, "
    "rip=198.51.100.23, lip=192.0.2.1, TLS, session=<Aa1Bb2Cc3Dd4>",
    H + "managesieve-login: Aborted login (auth failed, 1 attempts in 0 secs): user=<x>, method=PLAIN, "
    "rip=198.51.100.23, lip=192.0.2.1",
    H + "pop3-login: Disconnected (no auth attempts in 0 secs): user=<>, rip=198.51.100.50, lip=192.0.2.1",
    H + "imap-login: Aborted login (no auth attempts in 7 secs): user=<>, rip=198.51.100.50, lip=192.0.2.1, "
    "TLS, session=<Mm3Nn4Oo5Pp6>",
    H + "imap-login: Disconnected (auth failed, 99999999999999999999 attempts in 2 secs): user=<u>, "
    "method=PLAIN, rip=1.2.3.4, lip=5.6.7.8",
    H + "imap(Alice@Example.com)<4242><Q1w2e3r4t5y6>: Logged out in=1234 out=56789 deleted=1 expunged=1 "
    "trashed=0 hdr_count=10 hdr_bytes=2048 body_count=3 body_bytes=40960",
    H + "imap(alice)<4242><Q1w2e3r4t5y6>: Logged out in=1 out=2",
    H + "lmtp(alice)<1><s>: Logged out in=99999999999999999999 out=0",
    H + "imap(alice)<4242><Q1w2e3r4t5y6>: copy from INBOX: box=Archive/2024, uid=77, "
    "msgid=<20240301.1@example.org>, size=5120",
    H + "imap(alice)<4242><Q1w2e3r4t5y6>: move from Sent Items: box=Deleted Messages, uid=1, msgid=<a@b>, size=0",
    H + "imap(alice)<4242><Q1w2e3r4t5y6>: delete: box=INBOX, uid=78, msgid=<x2@example.org>, size=300",
    H + "imap(alice)<4242><Q1w2e3r4t5y6>: expunge: box=INBOX, uid=78",
    H + "imap(alice)<4242><Q1w2e3r4t5y6>: autoexpunge: box=Trash",
    H + "imap(alice)<4242><Q1w2e3r4t5y6>: fetch: box=INBOX, uid=80, msgid=<x5@example.org>, size=7000",
    H + "imap(alice)<4242><Q1w2e3r4t5y6>: save: box=&MEMwqzC8MMk-, msgid=<x6@example.org>",
    "Mar  1 10:00:00 mx1 dovecot[812]: imap-login: Login: user=<bob>, method=PLAIN, rip=1.2.3.4, lip=5.6.7.8",
    "Feb 28 23:59:59 a.b-c_d dovecot: imap-login: Login: user=<bob>, method=PLAIN, rip=1.2.3.4, lip=5.6.7.8",
    "Dec 31 23:59:59 h dovecot: imap-login: Login: user=<bob>, method=PLAIN, rip=1.2.3.4, lip=5.6.7.8",
    "Jan 01 00:00:00 h dovecot: imap-login: Login: user=<bob>, method=PLAIN, rip=1.2.3.4, lip=5.6.7.8",
    "Mar 10 02:30:00 h dovecot: imap-login: Login: user=<bob>, method=PLAIN, rip=1.2.3.4, lip=5.6.7.8",
    "Nov  3 01:30:00 h dovecot: imap-login: Login: user=<bob>, method=PLAIN, rip=1.2.3.4, lip=5.6.7.8",
]
#: Lines the fast path must leave to the careful path (rare wordings, hostile text, odd times).
REFUSED = [
    # an address typed into the user name must not stand in for rip
    H + "imap-login: Login: user=<m>, rip=6.6.6.6, lip=1.1.1.1>, method=PLAIN, rip=203.0.113.19, lip=192.0.2.1, "
    "mpid=78, TLS, session=<Oo5Pp6Qq7Rr8>",
    H + "imap-login: Login: user=<a b>, method=PLAIN, rip=1.2.3.4, lip=5.6.7.8",
    H + "imap-login: Login: user=<Ünïcode>, method=PLAIN, rip=1.2.3.4, lip=5.6.7.8",
    H + "imap-login: Login: user=<bob>, method=PLAIN, rip=999.1.2.3, lip=192.0.2.1, mpid=77, session=<K>",
    H + "imap-login: Login: user=<bob>, method=PLAIN, rip=01.2.3.4, lip=192.0.2.1",
    H + "imap-login: Login: user=<bob>, method=PLAIN, rip=::ffff:198.51.100.7, lip=192.0.2.1",
    H + "imap-login: Login: user=<bob>, method=PLAIN, rip=2001:db8::1, lip=2001:db8::25",
    H + "pop3-login: Login: user=<bob>, method=LOGIN, rip=198.51.100.7, lip=192.0.2.1, rport=51234, lport=995",
    H + "imap-login: Disconnected (no auth attempts in 0 secs): user=<>, rip=198.51.100.51, lip=192.0.2.1, "
    "TLS handshaking: SSL_accept() failed: error:0A00010B:SSL routines::wrong version number, session=<x>",
    H + "imap-login: Disconnected: a: a: a: a: a: (tried to use disallowed test auth): user=<x>, rip=203.0.113.18",
    H + "pop3-login: Aborted login (tried to use disallowed plaintext auth): user=<erin>, rip=198.51.100.40, "
    "lip=192.0.2.1, session=<Ii9Jj0Kk1Ll2>",
    H + "imap-login: Info: Login: user=<bob>, method=PLAIN, rip=1.2.3.4, lip=5.6.7.8",
    H + "imap(alice)<4242><Q1w2e3r4t5y6>: Error: Logged out in=1 out=2",
    H + "imap(alice)<4242><Q1w2e3r4t5y6>: Logged out in=1 out=2 deleted=0",
    H + "imap(alice)<Q1w2e3r4t5y6>: Logged out in=1 out=2",
    H + "pop3(bob)<4243><Zx9Yw8Vu7Ts6>: Disconnected: Logged out top=0/0, retr=2/8192, del=1/5, size=20480",
    H + "imap(alice)<4242><Q1w2e3r4t5y6>: copy from INBOX: box=Archive, uid=77, msgid=<x@y>, size=5120, "
    "from=Partner Desk <Desk@Partner.example>, subject=Invoice",
    H + "imap(alice)<4242><Q1w2e3r4t5y6>: flag_change: box=INBOX, uid=79, msgid=<x3@example.org>, flags=(\\Seen)",
    H + "imap(alice)<4242><Q1w2e3r4t5y6>: copy: box=A, B, uid=1",
    H + "imap(alice)<4242><Q1w2e3r4t5y6>: Mailbox renamed: Projects -> Projects/Old",
    H + "imap(alice)(x)<4242><Q1w2e3r4t5y6>: Logged out in=1 out=2",
    "Feb 29 10:00:00 h dovecot: imap-login: Login: user=<bob>, method=PLAIN, rip=1.2.3.4, lip=5.6.7.8",
    "Feb 30 10:00:00 h dovecot: imap-login: Login: user=<bob>, method=PLAIN, rip=1.2.3.4, lip=5.6.7.8",
    "Mar 00 10:00:00 h dovecot: imap-login: Login: user=<bob>, method=PLAIN, rip=1.2.3.4, lip=5.6.7.8",
    "Mar  1 24:00:00 h dovecot: imap-login: Login: user=<bob>, method=PLAIN, rip=1.2.3.4, lip=5.6.7.8",
    "Mar  1 10:00:00.123 h dovecot: imap-login: Login: user=<bob>, method=PLAIN, rip=1.2.3.4, lip=5.6.7.8",
    "MAR  1 10:00:00 h dovecot: imap-login: Login: user=<bob>, method=PLAIN, rip=1.2.3.4, lip=5.6.7.8",
    "Mrz  1 10:00:00 h dovecot: imap-login: Login: user=<bob>, method=PLAIN, rip=1.2.3.4, lip=5.6.7.8",
    "Mar  1 10:00:00 hö dovecot: imap-login: Login: user=<bob>, method=PLAIN, rip=1.2.3.4, lip=5.6.7.8",
    "Mar  1 10:00:00 imap-login: Login: user=<bob>, method=PLAIN, rip=1.2.3.4, lip=5.6.7.8",
    "<30>Mar  1 10:00:00 h dovecot: imap-login: Login: user=<bob>, method=PLAIN, rip=1.2.3.4, lip=5.6.7.8",
    "Mar  1 10:00:00 h dovecot: imap-login: Login: user=<bob>, method=PLAIN, rip=1.2.3.4, lip=5.6.7.8 ",
]


def _chunks(path: Path, enabled: bool, monkeypatch: pytest.MonkeyPatch, **ctx: Any) -> tuple[pa.Table, list[Any]]:
    monkeypatch.setattr(dovecot_fast, "ENABLED", enabled)
    tables = []
    rejected = []
    for chunk in dovecot.parse(path, ParseContext(str(path), **ctx)):
        tables.append(chunk.events)
        rejected.extend((r.line, r.reason, r.raw) for r in chunk.rejected)
    return pa.concat_tables(tables), rejected


def _assert_same(path: Path, monkeypatch: pytest.MonkeyPatch, **ctx: Any) -> None:
    careful, careful_rejected = _chunks(path, False, monkeypatch, **ctx)
    fast, fast_rejected = _chunks(path, True, monkeypatch, **ctx)
    assert fast_rejected == careful_rejected
    assert fast.schema.equals(careful.schema)
    assert fast.num_rows == careful.num_rows
    for a, b in zip(careful.to_pylist(), fast.to_pylist(), strict=True):
        assert a == b, {k: (a[k], b[k]) for k in a if a[k] != b[k]}


def _write(tmp_path: Path, lines: list[str], name: str = "x.log") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def _taken(lines: list[str], **ctx: Any) -> np.ndarray:
    arr = pa.array(lines, pa.string()).cast(pa.string_view())
    numbers = pa.array(np.arange(1, len(lines) + 1, dtype=np.int64))
    con = syslog.connect()
    try:
        _, taken = dovecot_fast.FastSplit(con, ParseContext("x", **ctx)).split(arr, numbers)
    finally:
        con.close()
    return taken


CONTEXTS: list[dict[str, Any]] = [{"year": 2024}, {"year": 2023, "tz": "America/New_York"}, {"tz": "Asia/Tokyo"}, {}]


@pytest.mark.parametrize("ctx", CONTEXTS)
def test_variants_agree_with_the_careful_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ctx: dict[str, Any]
) -> None:
    _assert_same(_write(tmp_path, TAKEN + REFUSED), monkeypatch, **ctx)


def test_fast_path_takes_the_common_shapes_and_refuses_the_rest() -> None:
    taken = _taken(TAKEN + REFUSED, year=2023)
    assert taken[: len(TAKEN)].all(), [ln for ln, t in zip(TAKEN, taken, strict=False) if not t]
    assert not taken[len(TAKEN) :].any(), [ln for ln, t in zip(REFUSED, taken[len(TAKEN) :], strict=True) if t]


def test_generated_log_is_all_fast_and_agrees(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = list(dovecot_lines(6_000, seed=11))
    assert _taken(lines, year=2024).all()
    path = _write(tmp_path, lines)
    _assert_same(path, monkeypatch, year=2024)
    _assert_same(path, monkeypatch)  # year inferred from the file's mtime


def test_interleaved_lines_keep_file_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fast and careful rows of one block come back merged in line order."""
    lines = []
    for i, line in enumerate(dovecot_lines(3_000, seed=4)):
        lines.append(line)
        if i % 7 == 0:
            lines.append(REFUSED[i % len(REFUSED)])
    path = _write(tmp_path, lines)
    _assert_same(path, monkeypatch, year=2024)
    events, _ = _chunks(path, True, monkeypatch, year=2024)
    numbers = events.column("source_line").to_pylist()
    assert numbers == sorted(numbers)


def test_sample_and_fixtures_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    _assert_same(DATA / "mixed.log", monkeypatch, year=2024, tz="Asia/Tokyo")
    fixture = FIXTURES / "fail2ban-logs" / "dovecot"
    if not fixture.exists():
        pytest.skip(f"{fixture} absent (../shared not checked out)")
    _assert_same(fixture, monkeypatch, year=2024)


def test_event_uid_is_md5_of_line_and_number(tmp_path: Path) -> None:
    path = _write(tmp_path, TAKEN[:3] + REFUSED[:3])
    for chunk in dovecot.parse(path, ParseContext(str(path), year=2024)):
        for row in chunk.events.select(["event_uid", "raw", "source_line"]).to_pylist():
            assert row["event_uid"] == line_uid("dovecot", row["raw"], row["source_line"])


def test_exact_forms_exclude_each_other() -> None:
    """No line may match two exact forms (the fast path does not de-duplicate)."""
    import polars as pl

    lines = [*TAKEN, *dovecot_lines(2_000, seed=2)]
    frame = pl.DataFrame({"line": lines})
    hits = np.zeros(len(lines), dtype=np.int64)
    for shape in dovecot_fast._SHAPES:
        for pattern in shape.exact:
            hits += frame.select(pl.col("line").str.contains(pattern.regex)).to_series().to_numpy()
    assert hits.max() == 1
