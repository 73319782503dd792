"""Zeek conn / ssl / smtp: TSV and JSON golden samples, malformed input, third-party conformance."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dwelltime.schema import EVENT_SCHEMA
from dwelltime.sources import zeek
from dwelltime.sources.base import Chunk, ParseContext, Rejected

DATA = Path(__file__).resolve().parent.parent / "data" / "zeek"
ELASTIC_SMTP = Path("elastic-integrations/packages/zeek/data_stream/smtp/_dev/test/pipeline/test-smtp.log")


def _parse(path: Path, **ctx: Any) -> tuple[list[dict[str, Any]], list[Rejected], list[Chunk]]:
    chunks = list(zeek.parse(path, ParseContext(source_file=str(path), **ctx)))
    rows = [row for chunk in chunks for row in chunk.events.to_pylist()]
    rejected = [r for chunk in chunks for r in chunk.rejected]
    return rows, rejected, chunks


def test_conn_tsv_golden() -> None:
    rows, rejected, chunks = _parse(DATA / "conn.log")
    assert all(chunk.events.schema == EVENT_SCHEMA for chunk in chunks)
    assert [(r.line, r.reason) for r in rejected] == [(12, "Zeek TSV line has 1 fields, #fields declares 21")]
    established, refused, escaped = rows

    assert established["time"] == datetime(2024, 3, 1, 0, 0, 0, 1, tzinfo=UTC)  # last microsecond kept
    assert established["event_class"] == "network"
    assert established["action"] == "connect"
    assert established["outcome"] == "success"
    assert established["operation"] == "conn"
    assert established["src_ip"] == "10.0.0.5"
    assert established["src_port"] == 51514
    assert established["dst_ip"] == "192.0.2.10"
    assert established["dst_port"] == 993
    assert established["protocol"] == "ssl"
    assert established["bytes_in"] == 2048  # orig (client) -> resp
    assert established["bytes_out"] == 5242880  # resp -> orig: what the client downloaded
    assert established["session_id"] == "Ca1b2c3d4e5f6g7h8"
    assert established["error_code"] == "SF"
    assert established["source_line"] == 9
    assert established["source_format"] == "zeek"
    params = dict(established["params"])
    assert params["proto"] == "tcp"
    assert params["duration"] == "12.5"
    assert params["history"] == "ShADadfF"
    assert params["local_orig"] == "true"
    assert "tunnel_parents" not in params  # (empty) set
    assert established["raw"].startswith("1709251200.000001\tCa1b2c3d4e5f6g7h8\t")

    assert refused["outcome"] == "failure"
    assert refused["protocol"] is None and refused["bytes_in"] is None  # unset fields "-"

    assert escaped["protocol"] == "smtp"  # first of "smtp,ssl"
    assert dict(escaped["params"])["history"] == "Sh\tad"  # \x09 undone
    assert dict(escaped["params"])["tunnel_parents"] == '["C1,x","C2"]'  # escaped set separator


def test_ssl_json_golden_and_rejections() -> None:
    rows, rejected, _ = _parse(DATA / "ssl.ndjson")
    assert [(r.line, r.reason) for r in rejected] == [
        (3, "Zeek dns log is not read (only conn, ssl, smtp)"),
        (4, "Zeek ssl record without a valid ts ('soon')"),
    ]
    ok, failed = rows
    assert ok["time"] == datetime(2024, 3, 1, 0, 0, 0, 123456, tzinfo=UTC)
    assert ok["event_class"] == "network"
    assert ok["action"] == "tls"
    assert ok["outcome"] == "success"
    assert ok["dst_host"] == "imap.mail.example"
    assert ok["session_id"] == "Ca1b2c3d4e5f6g7h8"  # joins the conn row of the same connection
    params = dict(ok["params"])
    assert params["version"] == "TLSv13"
    assert params["cipher"] == "TLS_AES_256_GCM_SHA384"
    assert params["ja3"] == "773906b0efdefa24a7f2b8eb6985bf37"
    assert params["ja3s"] == "15af977ce25de452b96affa2addb1036"
    assert params["validation_status"] == "ok"

    assert failed["time"] == datetime(2024, 3, 1, 0, 1, tzinfo=UTC)  # ISO ts
    assert failed["src_ip"] == "10.0.0.8"  # nested id object
    assert failed["dst_port"] == 443
    assert failed["outcome"] == "failure"
    assert failed["status_detail"] == "handshake_failure"


def test_smtp_tsv_golden() -> None:
    rows, rejected, _ = _parse(DATA / "smtp.log")
    assert rejected == []
    sent, refused = rows
    assert sent["event_class"] == "mail_flow"
    assert sent["action"] == "deliver"
    assert sent["outcome"] == "success"
    assert sent["time"] == datetime(2024, 3, 1, 1, 0, 0, 654321, tzinfo=UTC)
    assert sent["sender"] == "finance@example.jp"
    assert sent["recipients"] == ["partner@vendor.example", "ops@vendor.example"]
    assert sent["message_ids"] == ["<20240301.abc@example.jp>"]
    assert sent["subject"] == "Invoice\tMarch 日本"  # \x escapes of UTF-8 bytes decoded
    assert sent["user_agent"] == "Thunderbird 115"
    assert sent["error_code"] == "250"
    assert sent["status_detail"] == "250 2.0.0 Ok: queued"
    params = dict(sent["params"])
    assert params["helo"] == "mail.example.jp"
    assert params["from"] == "Finance <finance@example.jp>"
    assert params["smtp_path"] == '["203.0.113.25","10.1.1.20"]'
    assert params["tls"] == "false"

    assert refused["action"] == "reject"
    assert refused["outcome"] == "failure"
    assert refused["error_code"] == "550"
    assert refused["subject"] is None


def test_same_record_tsv_and_json_dedupes(tmp_path: Path) -> None:
    rows, _, _ = _parse(DATA / "smtp.log")
    record = {
        "ts": 1709254800.654321,
        "uid": "Csmtp000000000001",
        "id.orig_h": "10.1.1.20",
        "id.orig_p": 52000,
        "id.resp_h": "203.0.113.25",
        "id.resp_p": 25,
        "trans_depth": 1,
        "mailfrom": "<Finance@Example.JP>",
    }
    path = tmp_path / "smtp.json"
    path.write_text(json.dumps(record) + "\n")
    (again,), _, _ = _parse(path)
    assert again["event_uid"] == rows[0]["event_uid"]


def test_other_zeek_logs_are_rejected_not_read() -> None:
    rows, rejected, _ = _parse(DATA / "dns.log")
    assert rows == []
    assert [(r.line, r.reason) for r in rejected] == [(4, "Zeek dns log is not read (only conn, ssl, smtp)")]
    assert zeek.sniff((DATA / "dns.log").read_bytes(), "dns.log") == 0.0


def test_lines_before_fields_header(tmp_path: Path) -> None:
    path = tmp_path / "conn.log"
    path.write_text("1709251200.0\tC1\t10.0.0.1\t1\t10.0.0.2\t2\n")
    rows, rejected, _ = _parse(path)
    assert rows == []
    assert [(r.line, r.reason) for r in rejected] == [(1, "Zeek TSV line before any #fields header")]


def test_json_by_file_name_hint(tmp_path: Path) -> None:
    path = tmp_path / "conn.2024-03-01.json"
    path.write_text('{"ts":1,"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":1,"id.resp_h":"10.0.0.2","id.resp_p":2}\n')
    (row,), rejected, _ = _parse(path)
    assert rejected == [] and row["operation"] == "conn"
    assert zeek.sniff(path.read_bytes(), path.name) >= 0.9
    assert zeek.sniff(path.read_bytes(), "unnamed.json") == 0.0  # no field or name says which log


def test_sniff() -> None:
    assert zeek.sniff((DATA / "conn.log").read_bytes(), "conn.log") >= 0.9
    assert zeek.sniff((DATA / "smtp.log").read_bytes(), "x") >= 0.9
    assert zeek.sniff((DATA / "ssl.ndjson").read_bytes(), "x.json") >= 0.9
    entra = Path(__file__).resolve().parent.parent / "data" / "entra" / "diagnostic.ndjson"
    assert zeek.sniff(entra.read_bytes(), "x.json") == 0.0
    assert zeek.sniff(b"Mar  1 00:00:00 mail postfix/smtpd[1]: connect from x[1.2.3.4]\n", "maillog") == 0.0


def test_conformance_zeek_baseline(shared_fixtures: Path) -> None:
    path = shared_fixtures / "zeek-baseline/smtp.log"
    assert zeek.sniff(path.read_bytes()[:65536], path.name) >= 0.9
    rows, rejected, _ = _parse(path)
    assert rejected == []
    assert len(rows) == 2
    first, second = rows
    assert first["time"] == datetime(2009, 10, 5, 6, 6, 8, 219663, tzinfo=UTC)
    assert (first["src_ip"], first["src_port"], first["dst_ip"], first["dst_port"]) == (
        "10.10.1.4",
        1470,
        "74.53.140.153",
        25,
    )
    assert first["sender"] == "gurpartap@patriots.in"
    assert first["recipients"] == ["raj_deol2002in@yahoo.co.in"]
    assert first["message_ids"] == ["<000301ca4581$ef9e57f0$cedb07d0$@in>"]
    assert first["subject"] == "SMTP"
    assert first["user_agent"] == "Microsoft Office Outlook 12.0"
    assert second["recipients"] == ["felica4uu@hotmail.com", "ericlim220@yahoo.com", "davis_mark1@outlook.com"]
    assert second["subject"] == "Re: Bro SMTP CC Header"
    assert dict(second["params"])["cc"] == '["felica4uu@hotmail.com","davis_mark1@outlook.com"]'


def test_conformance_elastic_smtp(shared_fixtures: Path) -> None:
    path = shared_fixtures / ELASTIC_SMTP
    expected = json.loads(path.with_name(path.name + "-expected.json").read_text())["expected"]
    rows, rejected, _ = _parse(path)
    assert rejected == []
    assert len(rows) == len(expected)
    for row, doc in zip(rows, expected, strict=True):
        assert row["src_ip"] == doc["source"]["ip"]
        assert row["src_port"] == doc["source"]["port"]
        assert row["dst_ip"] == doc["destination"]["ip"]
        assert row["dst_port"] == doc["destination"]["port"]
        assert row["session_id"] == doc["zeek"]["session_id"]
        assert row["time"].isoformat().startswith(doc["@timestamp"].removesuffix("Z"))
        assert (dict(row["params"])["tls"] == "true") is doc["tls"]["established"]
        assert row["sender"] is None and row["subject"] is None  # neither side saw an envelope
    # The plain line and its Splunk-export copy are the same Zeek record: one uid.
    assert rows[0]["event_uid"] == rows[1]["event_uid"]
    assert rows[1]["raw"].startswith('{"preview":false')
