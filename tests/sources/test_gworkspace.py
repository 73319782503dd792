"""Google Workspace Reports API: golden sample, malformed input, third-party conformance."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dwelltime.schema import EVENT_SCHEMA
from dwelltime.sources import gworkspace
from dwelltime.sources.base import Chunk, ParseContext, Rejected

DATA = Path(__file__).resolve().parent.parent / "data" / "gworkspace"
ELASTIC_LOGIN = Path(
    "elastic-integrations/packages/google_workspace/data_stream/login/_dev/test/pipeline/test-login.log"
)


def _parse(path: Path, **ctx: Any) -> tuple[list[dict[str, Any]], list[Rejected], list[Chunk]]:
    chunks = list(gworkspace.parse(path, ParseContext(source_file=str(path), **ctx)))
    rows = [row for chunk in chunks for row in chunk.events.to_pylist()]
    rejected = [r for chunk in chunks for r in chunk.rejected]
    return rows, rejected, chunks


def test_activities_golden() -> None:
    rows, rejected, chunks = _parse(DATA / "activities.json")
    assert rejected == []
    assert all(chunk.events.schema == EVENT_SCHEMA for chunk in chunks)
    assert sum(chunk.records_parsed for chunk in chunks) == 7  # activities
    assert len(rows) == 9  # events: two activities hold two each
    challenge, failure, success, grant, gmail_read, monitor, password, twosv, drive = rows

    assert challenge["source_line"] == failure["source_line"] == 1  # one activity, two rows
    assert challenge["raw"] == failure["raw"]
    assert challenge["event_uid"] != failure["event_uid"]
    assert challenge["time"] == datetime(2024, 2, 1, 10, 0, 0, 250000, tzinfo=UTC)
    assert challenge["event_class"] == "auth"
    assert challenge["action"] == "login_challenge"
    assert challenge["outcome"] == "failure"  # "Challenge Failed."
    assert challenge["auth_method"] == "password+totp"
    assert challenge["user"] == "mika.sato@example.jp"
    assert challenge["user_type"] == "USER"
    assert challenge["src_ip"] == "198.51.100.20"
    assert challenge["tenant"] == "C0abcde12"
    assert challenge["source_format"] == "gws-reports"

    assert failure["action"] == "login"
    assert failure["outcome"] == "failure"
    assert failure["operation"] == "login_failure"
    assert failure["error_code"] == "login_failure_invalid_second_factor"
    assert failure["auth_method"] == "google_password"
    params = dict(failure["params"])
    assert params["is_suspicious"] == "true"
    assert params["applicationName"] == "login"
    assert params["event_type"] == "login"
    assert params["uniqueQualifier"] == "-100200300"
    assert params["actor.profileId"] == "111"

    assert success["action"] == "login" and success["outcome"] == "success"
    assert success["src_ip"] == "2001:db8::20"
    assert success["auth_method"] == "saml"

    assert grant["event_class"] == "app_consent"
    assert grant["action"] == "consent"
    assert grant["outcome"] == "success"
    assert grant["app_id"] == "424242.apps.googleusercontent.com"
    assert grant["app_name"] == "Mail Helper Pro"
    assert grant["scopes"] == ["https://mail.google.com/"]  # from scope_data when no scope list
    assert grant["source_line"] == 3

    assert gmail_read["event_class"] == "mailbox_access"
    assert gmail_read["action"] == "mail_read"
    assert gmail_read["bytes_out"] == 48213  # intValue arrives as a string
    assert gmail_read["app_id"] == "424242.apps.googleusercontent.com"
    assert gmail_read["src_ip"] is None

    assert monitor["event_class"] == "mailbox_change"
    assert monitor["action"] == "forwarding"
    assert monitor["mailbox"] == "ceo@example.jp"
    assert monitor["target"] == "archive-box@example.jp"
    assert monitor["user"] == "it-admin@example.jp"
    assert dict(monitor["params"])["END_DATE_TIME"] == "2025-02-01T11:00:00Z"

    assert password["event_class"] == "admin"
    assert password["action"] == "admin_change"
    assert password["operation"] == "CHANGE_PASSWORD"
    assert password["target"] == "ceo@example.jp"

    assert twosv["event_class"] == "admin"
    assert twosv["operation"] == "2sv_disable"
    assert dict(twosv["params"])["event_type"] == "2sv_change"

    assert drive["event_class"] == "other"
    assert drive["action"] == "download"
    assert drive["outcome"] == "unknown"
    assert dict(drive["params"])["doc_title"] == "Q1 payroll"

    assert len({row["event_uid"] for row in rows}) == len(rows)


def test_uid_is_stable_across_shapes(tmp_path: Path) -> None:
    """The same activity from an API page and from an NDJSON line gets the same uids."""
    page = json.loads((DATA / "activities.json").read_text())
    ndjson = tmp_path / "activities.ndjson"
    ndjson.write_text("".join(json.dumps(item) + "\n" for item in page["items"]))
    a, _, _ = _parse(DATA / "activities.json")
    b, _, _ = _parse(ndjson)
    assert [row["event_uid"] for row in a] == [row["event_uid"] for row in b]


def test_malformed() -> None:
    rows, rejected, chunks = _parse(DATA / "malformed.ndjson")
    assert [(r.line, r.reason) for r in rejected] == [
        (2, "not a Workspace activity (no id object)"),
        (3, "Workspace activity without a valid id.time ('not a time')"),
        (4, "Workspace event is a str, not an object"),
        (5, "JSON: expected object, got number"),
        (6, rejected[-1].reason),
    ]
    assert rejected[-1].reason.startswith("JSON: ")
    assert sum(chunk.read for chunk in chunks) == 6
    (logout,) = rows  # events as a single object, as some collectors write it
    assert logout["action"] == "logout"
    assert logout["outcome"] == "success"


def test_activity_without_events_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text(
        '{"kind":"admin#reports#activity","id":{"time":"2024-01-01T00:00:00Z","applicationName":"login"}}\n'
    )
    (row,), rejected, chunks = _parse(path)
    assert rejected == [] and chunks[0].records_parsed == 1
    assert row["event_class"] == "auth" and row["operation"] is None


def test_chunk_parsed_counts_activities(tmp_path: Path) -> None:
    page = json.loads((DATA / "activities.json").read_text())
    path = tmp_path / "a.ndjson"
    path.write_text("".join(json.dumps(item) + "\n" for item in page["items"]))
    _, _, chunks = _parse(path, chunk_rows=3)
    assert sum(chunk.records_parsed for chunk in chunks) == 7
    assert sum(chunk.events.num_rows for chunk in chunks) == 9
    assert all(chunk.events.num_rows <= 4 for chunk in chunks)


def test_sniff() -> None:
    assert gworkspace.sniff((DATA / "activities.json").read_bytes(), "a.json") >= 0.9
    entra = Path(__file__).resolve().parent.parent / "data" / "entra" / "graph_signins.json"
    assert gworkspace.sniff(entra.read_bytes(), "a.json") == 0.0
    assert gworkspace.sniff(b'{"ts":1,"uid":"C1","id.orig_h":"10.0.0.1"}\n', "a.json") == 0.0


def test_conformance_sentinel_flattened(shared_fixtures: Path) -> None:
    folder = shared_fixtures / "gws-reports-samples"
    files = sorted(folder.glob("*.json"))
    assert files
    for path in files:
        assert gworkspace.sniff(path.read_bytes()[:65536], path.name) >= 0.9, path.name
        rows, rejected, chunks = _parse(path)
        assert rejected == [], path.name
        activities = json.loads(path.read_text())
        assert sum(chunk.records_parsed for chunk in chunks) == len(activities)
        assert len(rows) == sum(len(a["events"]) for a in activities)
        for row in rows:
            assert row["time"] is not None and row["tenant"] == "C015t6bdl"
    login, _, _ = _parse(folder / "GWorkspace_ReportsAPI_login_CL.json")
    assert [(r["action"], r["outcome"], r["user"], r["src_ip"]) for r in login] == [
        ("login", "success", "user7@company.com", "52.52.52.52"),
        ("login_verification", "success", "user7@company.com", "52.52.52.52"),
        ("login", "success", "user7@company.com", "52.52.52.52"),
    ]
    token, _, _ = _parse(folder / "GWorkspace_ReportsAPI_token_CL.json")
    assert token[0]["app_name"] == "Notion"
    assert token[0]["scopes"] == [
        "https://www.googleapis.com/auth/userinfo.profile",
        "https://www.googleapis.com/auth/userinfo.email",
        "openid",
    ]


def test_conformance_elastic_login(shared_fixtures: Path) -> None:
    path = shared_fixtures / ELASTIC_LOGIN
    rows, rejected, _ = _parse(path)
    assert rejected == []
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    assert len(rows) == len(records)
    for row, record in zip(rows, records, strict=True):
        assert row["operation"] == record["events"]["name"]
        assert row["user"] == record["actor"]["email"].lower()
        assert row["src_ip"] == record["ipAddress"]
        assert row["event_class"] == "auth"
    by_name = {row["operation"]: row for row in rows}
    assert by_name["login_failure"]["outcome"] == "failure"
    assert by_name["login_failure"]["error_code"] == "login_failure_access_code_disallowed"
    assert by_name["logout"]["action"] == "logout"
    assert by_name["suspicious_login"]["target"] == "foo@elastic.co"
    assert dict(by_name["suspicious_login"]["params"])["login_timestamp"] == "1593695305123456"
