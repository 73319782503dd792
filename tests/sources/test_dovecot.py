"""Dovecot normalization: a golden sample written for this project, then third-party conformance."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from dwelltime.sources import dovecot
from dwelltime.sources.base import ParseContext, uid_of
from dwelltime.sources.lineuid import line_uid
from dwelltime.sources.syslog import parse_syslog

DATA = Path(__file__).resolve().parent.parent / "data" / "dovecot"
SAMPLE = DATA / "mixed.log"


def _parse(path: Path, **ctx: Any) -> tuple[list[dict[str, Any]], list[Any], int]:
    events: list[dict[str, Any]] = []
    rejected = []
    read = 0
    for chunk in dovecot.parse(path, ParseContext(str(path), **ctx)):
        events.extend(chunk.events.to_pylist())
        rejected.extend(chunk.rejected)
        read += chunk.read
    return events, rejected, read


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# Expected values, field by field, per line of tests/data/dovecot/mixed.log (year 2024, Asia/Tokyo).
GOLDEN: dict[int, dict[str, Any]] = {
    1: {
        "time": _utc("2024-03-01T01:00:00"),
        "event_class": "auth",
        "action": "login",
        "outcome": "success",
        "user": "alice@example.com",
        "src_ip": "203.0.113.10",
        "dst_ip": "192.0.2.1",
        "observer": "mx1",
        "protocol": "imap",
        "session_id": "Q1w2e3r4t5y6",
        "auth_method": "PLAIN",
        "params": [("tls", "TLS"), ("mpid", "4242")],
    },
    2: {
        "user": "bob",
        "src_ip": "198.51.100.7",
        "src_port": 51234,
        "dst_port": 995,
        "protocol": "pop3",
        "auth_method": "LOGIN",
        "outcome": "success",
        "params": [("tls", "TLS"), ("mpid", "4243"), ("rport", "51234"), ("lport", "995")],
    },
    3: {
        "event_class": "auth",
        "action": "login",
        "outcome": "failure",
        "user": "carol@example.com",
        "src_ip": "198.51.100.23",
        "error_code": "auth_failed",
        "status_detail": "Disconnected (auth failed, 3 attempts in 12 secs)",
        "item_count": 3,
        "session_id": "Aa1Bb2Cc3Dd4",
    },
    4: {
        "time": _utc("2024-03-01T01:01:10"),
        "observer": None,
        "outcome": "failure",
        "user": "dave",
        "src_ip": "2001:db8::1:5",
        "dst_ip": "2001:db8::25",
        "error_code": "auth_failed",
        "item_count": 2,
        "protocol": "imap",
    },
    5: {
        "outcome": "failure",
        "user": "erin",
        "error_code": "plaintext_auth_disallowed",
        "src_ip": "198.51.100.40",
        "protocol": "pop3",
    },
    6: {
        "outcome": "failure",
        "error_code": "proxy_dest_auth_failed",
        "protocol": "submission",
        "user": "frank@example.com",
    },
    8: {
        "event_class": "auth",
        "action": "connect",
        "outcome": "unknown",
        "user": None,
        "src_ip": "198.51.100.50",
        "error_code": "no_auth_attempts",
        "params": [("tls", "TLS"), ("secs", "3")],
    },
    9: {
        "event_class": "network",
        "action": "tls",
        "outcome": "failure",
        "src_ip": "198.51.100.51",
        "error_code": "tls_handshake_failed",
        "status_detail": "SSL_accept() failed: error:0A00010B:SSL routines::wrong version number",
    },
    10: {
        "outcome": "failure",
        "user": "grace@example.com",
        "src_ip": "198.51.100.60",
        "session_id": "Uu1Vv2Ww3Xx4",
        "error_code": "password_mismatch",
        "params": [("passdb", "pam")],
    },
    11: {
        "outcome": "failure",
        "user": "heidi",
        "src_ip": "198.51.100.61",
        "error_code": "unknown_user",
        "status_detail": "unknown user",
    },
    12: {
        "outcome": "failure",
        "user": "ivan@example.com",
        "src_ip": "198.51.100.62",
        "session_id": "Yy5Zz6Aa7Bb8",
        "auth_method": "PLAIN",
        "error_code": "password_mismatch",
        "status_detail": "Password mismatch",
        "observer": None,
    },
    13: {
        "outcome": "failure",
        "user": "judy",
        "src_ip": "198.51.100.63",
        "observer": "mx1",
        "params": [("ruser", "rhost=203.0.113.99"), ("tty", "dovecot")],
    },
    14: {
        "event_class": "auth",
        "action": "session_end",
        "outcome": "success",
        "user": "alice@example.com",
        "session_id": "Q1w2e3r4t5y6",
        "bytes_in": 1234,
        "bytes_out": 56789,
        "item_count": 3,
        "params": [
            ("mpid", "4242"),
            ("in", "1234"),
            ("out", "56789"),
            ("deleted", "1"),
            ("expunged", "1"),
            ("trashed", "0"),
            ("hdr_count", "10"),
            ("hdr_bytes", "2048"),
            ("body_count", "3"),
            ("body_bytes", "40960"),
        ],
    },
    15: {
        "action": "session_end",
        "user": "bob",
        "protocol": "pop3",
        "bytes_in": None,
        "bytes_out": 8192,
        "item_count": 2,
        "params": [("mpid", "4243"), ("top", "0/0"), ("retr", "2/8192"), ("del", "1/5"), ("size", "20480")],
    },
    16: {"action": "session_end", "outcome": "unknown", "bytes_in": 77, "bytes_out": 991, "item_count": 0},
    17: {
        "event_class": "mailbox_change",
        "action": "copy",
        "operation": "copy",
        "folder": "Archive/2024",
        "folders": ["INBOX", "Archive/2024"],
        "message_ids": ["<20240301.1@example.org>"],
        "bytes_out": 5120,
        "sender": "desk@partner.example",
        "subject": "Invoice, March (final)",
        "user": "alice@example.com",
    },
    18: {
        "event_class": "mailbox_change",
        "action": "soft_delete",
        "operation": "delete",
        "folder": "INBOX",
        "message_ids": ["<x2@example.org>"],
        "bytes_out": 300,
    },
    19: {"action": "hard_delete", "operation": "expunge"},
    20: {"action": "flag_change", "params": [("mpid", "4242"), ("uid", "79"), ("flags", "\\Seen \\Flagged")]},
    21: {"action": "save", "folder": "Sent", "sender": "alice@example.com", "subject": "Re: hello"},
    22: {"event_class": "mailbox_access", "action": "mail_read", "operation": "fetch", "bytes_out": 7000},
    23: {"event_class": "mailbox_change", "action": "mailbox_create", "folder": "Projects", "message_ids": None},
    24: {"action": "mailbox_rename", "folder": "Projects", "target": "Projects/Old"},
    25: {"event_class": "other", "action": "dovecot", "outcome": "unknown", "user": None},
    26: {"event_class": "other", "action": "dovecot", "user": "kim", "protocol": "lmtp", "session_id": "abc123"},
    27: {
        "time": _utc("2024-03-01T01:06:00.250"),
        "outcome": "success",
        "user": "leo@example.com",
        "observer": "mx2",
        "auth_method": "XOAUTH2",
    },
    28: {"time": _utc("2024-03-01T01:06:10.123456"), "user": "mia", "observer": "mx2"},
    29: {"time": _utc("2024-03-01T01:06:20"), "outcome": "failure", "user": "ned", "protocol": "pop3"},
    30: {
        "time": _utc("2024-03-01T01:06:30"),
        "outcome": "failure",
        "user": "olga",
        "src_ip": "203.0.113.14",
        "status_detail": "invalid credentials",
        "params": [("passdb", "ldap")],
    },
    31: {"time": _utc("2024-03-01T10:06:40"), "outcome": "failure", "user": "pat", "src_ip": "203.0.113.15"},
    32: {
        "time": _utc("2024-03-01T01:07:00"),
        "outcome": "success",
        "user": "quinn",
        "protocol": "pop3",
        "observer": None,
    },
    33: {"user": "rob", "src_ip": None, "params": [("mpid", "77"), ("src_ip_raw", "999.1.2.3")]},
    34: {"event_class": "network", "action": "connect", "source_format": "postfix", "src_ip": "203.0.113.77"},
    35: {"event_class": "other", "action": "syslog", "operation": "kernel", "source_format": "syslog"},
    37: {"outcome": "failure", "error_code": "auth_mech_disallowed", "src_ip": "203.0.113.18"},
    # the user name carries a fake rip=: the server's own rip (the last one) wins
    38: {
        "outcome": "success",
        "user": "m>, rip=6.6.6.6, lip=1.1.1.1",
        "src_ip": "203.0.113.19",
        "auth_method": "PLAIN",
    },
}


def test_golden_sample_field_by_field() -> None:
    events, rejected, read = _parse(SAMPLE, year=2024, tz="Asia/Tokyo")
    lines = SAMPLE.read_text().splitlines()
    assert read == sum(1 for ln in lines if ln.strip())
    assert [(r.line, r.reason) for r in rejected] == [(36, "no syslog header")]
    by_line = {e["source_line"]: e for e in events}
    assert len(by_line) == len(events) == read - 1
    assert [e["source_line"] for e in events] == sorted(by_line), "events come back in file order"
    for number, expected in GOLDEN.items():
        event = by_line[number]
        for field, value in expected.items():
            assert event[field] == value, f"line {number} {field}: {event[field]!r} != {value!r}"
    for event in events:
        raw = lines[event["source_line"] - 1]
        assert event["raw"] == raw
        assert event["source_file"] == str(SAMPLE)
        if event["source_format"] == "postfix":
            continue  # Postfix rows have their own uid rules, pinned in test_postfix
        if event["source_format"] == "dovecot":  # MD5 of line and number (sources/lineuid.py)
            assert event["event_uid"] == line_uid("dovecot", raw, event["source_line"])
        else:
            assert event["event_uid"] == uid_of("syslog", f"{raw}\x1f{event['source_line']}")
        assert event["time"].tzinfo is not None


def test_logged_password_is_not_copied_out_of_raw() -> None:
    events, _, _ = _parse(SAMPLE, year=2024, tz="UTC")
    line12 = next(e for e in events if e["source_line"] == 12)
    assert "hunter2" in line12["raw"]
    assert all("hunter2" not in str(v) for k, v in line12.items() if k != "raw")


def test_sniff_prefers_dovecot_files() -> None:
    head = SAMPLE.read_bytes()
    assert dovecot.sniff(head, "mail.log") >= 0.8
    assert dovecot.sniff(b"Mar  1 10:00:00 host sshd[1]: Accepted password for x\n", "auth.log") == 0.0
    assert dovecot.sniff(b'{"a": 1}\n', "x.json") == 0.0


def test_pathological_lines_stay_fast(tmp_path: Path) -> None:
    """Lines built against backtracking engines (and a megabyte of them) parse in linear time."""
    big = "a: " * 350_000
    lines = [
        f"Mar  1 10:00:00 mx1 dovecot: imap-login: Disconnected: {big}(auth failed, 1 attempts): rip=192.0.2.9",
        f"Mar  1 10:00:01 mx1 dovecot: imap-login: Disconnected: {big}test no match",
        "Mar  1 10:00:02 mx1 dovecot: imap-login: Login: user=<" + "<(" * 400_000 + ">, rip=192.0.2.10",
        "Mar  1 10:00:03 mx1 dovecot: auth: " + "pam(" * 250_000 + "x,192.0.2.11): unknown user",
    ]
    path = tmp_path / "evil.log"
    path.write_text("\n".join(lines) + "\n")
    start = time.perf_counter()
    events, rejected, read = _parse(path, year=2024)
    assert time.perf_counter() - start < 20
    assert read == 4 and not rejected
    by_line = {e["source_line"]: e for e in events}
    assert by_line[1]["outcome"] == "failure" and by_line[1]["src_ip"] == "192.0.2.9"
    assert by_line[2]["outcome"] == "unknown"
    assert by_line[3]["src_ip"] == "192.0.2.10"


# --------------------------------------------------------------------------- conformance

_FAIL_JSON = re.compile(r"^#\s*failJSON:\s*(\{.*\})\s*$")


def _fail2ban_cases(path: Path) -> list[tuple[int, dict[str, Any], str]]:
    """(line number, failJSON, log line) for every log line that has a failJSON comment right above it."""
    cases = []
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        if not line.strip() or line.startswith("#"):
            continue
        above = _FAIL_JSON.match(lines[i - 1]) if i else None
        if above:
            cases.append((i + 1, json.loads(above.group(1)), line))
    return cases


def test_fail2ban_dovecot_conformance(shared_fixtures: Path, tmp_path: Path) -> None:
    """Every log line parses; src_ip and time agree with fail2ban's expectations.

    fail2ban's suite runs in Europe/Zurich, so its expected times are Zurich wall time;
    TAI64N lines carry absolute times, so we parse in that zone and compare wall times.
    Each line is parsed with the year of its expected time (RFC 3164 has none).
    """
    source = shared_fixtures / "fail2ban-logs" / "dovecot"
    all_lines = source.read_text().splitlines()
    log_lines = [(i + 1, ln) for i, ln in enumerate(all_lines) if ln.strip() and not ln.startswith("#")]
    events, rejected, _read = _parse(source, year=2005, tz="Europe/Zurich")
    comment_lines = {i + 1 for i, ln in enumerate(all_lines) if ln.startswith("#")}
    assert {r.line for r in rejected} == comment_lines, "only comment lines are rejected"
    assert {e["source_line"] for e in events} == {n for n, _ in log_lines}

    zurich = ZoneInfo("Europe/Zurich")
    cases = _fail2ban_cases(source)
    by_year: dict[int, dict[int, dict[str, Any]]] = {}
    ip_hits, ip_total, misses = 0, 0, []
    for number, spec, line in cases:
        if "time" in spec:
            year = int(spec["time"][:4])
            if year not in by_year:
                evs, _, _ = _parse(source, year=year, tz="Europe/Zurich")
                by_year[year] = {e["source_line"]: e for e in evs}
            event = by_year[year][number]
            wall = event["time"].astimezone(zurich).replace(tzinfo=None, microsecond=0)
            assert wall == datetime.fromisoformat(spec["time"]), f"line {number}: {line}"
        if spec.get("match") and spec.get("host"):
            ip_total += 1
            got = next(e for e in events if e["source_line"] == number)["src_ip"]
            if got == spec["host"]:
                ip_hits += 1
            else:
                misses.append((number, got, spec["host"]))
    assert ip_total >= 50
    assert ip_hits / ip_total >= 0.95, misses
    assert not misses, misses


def test_fail2ban_failures_are_failures(shared_fixtures: Path) -> None:
    """Lines fail2ban bans on in normal mode are auth failures for us; its non-matches are not."""
    source = shared_fixtures / "fail2ban-logs" / "dovecot"
    events, _, _ = _parse(source, year=2005, tz="UTC")
    by_line = {e["source_line"]: e for e in events}
    text = source.read_text()
    normal = text.split("# filterOptions")[0]
    for number, spec, line in _fail2ban_cases(source):
        if number > normal.count("\n") + 1:
            continue
        event = by_line[number]
        if spec.get("match"):
            assert event["outcome"] == "failure", f"line {number}: {line}"
        else:
            assert event["action"] != "login" or event["outcome"] != "failure", f"line {number}: {line}"


def test_wazuh_dovecot_lines_parse(shared_fixtures: Path, tmp_path: Path) -> None:
    ini = (shared_fixtures / "wazuh-tests" / "dovecot.ini").read_text().splitlines()
    logs = [m.group(2) for ln in ini if (m := re.match(r"^log \d+ (pass|fail) = (.*)$", ln))]
    passing = [m.group(1) for ln in ini if (m := re.match(r"^log \d+ pass = (.*)$", ln))]
    assert len(passing) >= 10
    path = tmp_path / "wazuh.log"
    path.write_text("\n".join(logs) + "\n")
    events, rejected, read = _parse(path, year=2024)
    assert not rejected, rejected
    assert read == len(logs) == len(events)
    assert all(e["source_format"] == "dovecot" for e in events)
    outcomes = {e["raw"]: e for e in events}
    unknown_user = next(e for raw, e in outcomes.items() if "passwd-file(user@example.com,::ffff:1.2.3.4)" in raw)
    assert unknown_user["src_ip"] == "1.2.3.4" and unknown_user["outcome"] == "failure"
    logged_out = next(e for raw, e in outcomes.items() if "bytes=59/566" in raw)
    assert (logged_out["action"], logged_out["bytes_in"], logged_out["bytes_out"]) == ("session_end", 59, 566)


def test_mixed_mail_log_dispatch(tmp_path: Path) -> None:
    """A mail.log with several daemons: dovecot rows normalized, the rest kept as other/syslog events."""
    path = tmp_path / "mail.log"
    path.write_text(
        "Mar  1 10:00:00 mx dovecot: imap-login: Login: user=<a>, method=PLAIN, rip=192.0.2.1, lip=192.0.2.2\n"
        "Mar  1 10:00:01 mx opendkim[99]: 4Q1: DKIM verification successful\n"
        "Mar  1 10:00:02 mx dovecot: imap(a)<7><s1>: Logged out in=1 out=2\n"
    )
    chunks = list(parse_syslog(path, ParseContext(str(path), year=2024)))
    events = [e for c in chunks for e in c.events.to_pylist()]
    assert [(e["source_line"], e["source_format"], e["event_class"]) for e in events] == [
        (1, "dovecot", "auth"),
        (2, "syslog", "other"),
        (3, "dovecot", "auth"),
    ]
    assert sum(c.read for c in chunks) == 3


def test_events_keep_file_order_across_batches(tmp_path: Path) -> None:
    """A block spans several Arrow batches scanned in parallel; events must still come out in line order."""
    from dwelltime.simulate.bulk import dovecot_lines

    path = tmp_path / "many.log"
    path.write_text("\n".join(dovecot_lines(40_000, seed=3)) + "\n")
    lines = [e["source_line"] for e in _parse(path, year=2024)[0]]
    assert len(lines) == 40_000
    assert lines == sorted(lines)


def test_fast_prefix_agrees_with_prefix_regex() -> None:
    """Where FAST_PREFIX_RE matches (text not starting 'dovecot: '), PREFIX_RE captures the same groups."""
    texts = [
        "imap(u)<1><s>: Error: Logged out in=1",
        "imap-login: Login: user=<a>",
        "auth-worker(80180): Warning: pam(u,1.2.3.4): x",
        "pop3(a(b)): Info: Disconnected",
        "lmtp<x>: Warning: y",
        "imap(u)(v): not fast",
        "imap[12]: not fast",
    ]
    fast, full = re.compile(dovecot.FAST_PREFIX_RE), re.compile(dovecot.PREFIX_RE)
    hits = 0
    for text in texts:
        m = fast.match(text)
        if m:
            hits += 1
            f = full.match(text)
            assert f is not None
            assert [g or "" for g in m.groups()] == [g or "" for g in f.groups()], text
    assert hits == 4
