"""Entra ID sign-in logs: golden samples in both shapes, malformed input, third-party conformance."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dwelltime.schema import EVENT_SCHEMA
from dwelltime.sources import entra
from dwelltime.sources.base import Chunk, ParseContext, Rejected, uid_of

DATA = Path(__file__).resolve().parent.parent / "data" / "entra"
SIGNINLOGS = Path("elastic-integrations/packages/azure/data_stream/signinlogs")


def _parse(path: Path, **ctx: Any) -> tuple[list[dict[str, Any]], list[Rejected], list[Chunk]]:
    chunks = list(entra.parse(path, ParseContext(source_file=str(path), **ctx)))
    rows = [row for chunk in chunks for row in chunk.events.to_pylist()]
    rejected = [r for chunk in chunks for r in chunk.rejected]
    return rows, rejected, chunks


def test_graph_shape_golden() -> None:
    rows, rejected, chunks = _parse(DATA / "graph_signins.json")
    assert rejected == []
    assert all(chunk.events.schema == EVENT_SCHEMA for chunk in chunks)
    assert len(rows) == 3
    first, imap, noninteractive = rows

    assert first["time"] == datetime(2024, 3, 4, 8, 15, 42, 123456, tzinfo=UTC)
    assert first["event_class"] == "auth"
    assert first["action"] == "login"
    assert first["outcome"] == "success"
    assert first["operation"] == "SignInLogs"
    assert first["user"] == "aiko.tanaka@contoso.example"
    assert first["user_type"] == "member"
    assert first["src_ip"] == "203.0.113.24"
    assert first["user_agent"] == "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Edge/122.0"
    assert first["client_app"] == "Browser"
    assert first["protocol"] == "browser"
    assert first["session_id"] == "8a8b8c8d-0000-4000-8000-000000000001"
    assert first["correlation_id"] == "c0ffee00-1111-2222-3333-444455556666"
    assert first["device_id"] == "dev-42"
    assert first["auth_method"] == "Password+Mobile app notification"
    assert first["error_code"] == "0"
    assert first["status_detail"] is None
    assert first["app_id"] == "00000002-0000-0ff1-ce00-000000000000"
    assert first["app_name"] == "Office 365 Exchange Online"
    assert first["target"] == "Office 365 Exchange Online"
    assert first["source_format"] == "entra-signin"
    assert first["source_line"] == 1
    params = dict(first["params"])
    assert params["conditionalAccessStatus"] == "success"
    assert params["authenticationRequirement"] == "multiFactorAuthentication"
    assert params["isInteractive"] == "true"
    assert params["riskLevelDuringSignIn"] == "none"
    assert params["signInEventTypes"] == '["interactiveUser"]'
    assert params["uniqueTokenIdentifier"] == "tokAAAA1111"
    assert params["location.city"] == "Osaka"
    assert params["location.countryOrRegion"] == "JP"
    assert params["location.latitude"] == "34.69"
    assert params["deviceDetail.trustType"] == "Azure AD joined"
    assert params["status.additionalDetails"] == "MFA completed in Azure AD"
    assert params["appliedConditionalAccessPolicies"] == '["Require MFA=success"]'
    # Entra's own geolocation never reaches the enrichment columns.
    assert first["src_country"] is None and first["src_city"] is None
    assert json.loads(first["raw"])["id"] == "5d2c1a4e-0b7f-4a61-9d0e-3f1a2b3c4d01"
    assert first["event_uid"] == uid_of(
        "entra", "5d2c1a4e-0b7f-4a61-9d0e-3f1a2b3c4d01|2024-03-04T08:15:42+00:00|SignInLogs"
    )

    assert imap["outcome"] == "failure"
    assert imap["error_code"] == "50126"
    assert imap["status_detail"] == "Error validating credentials due to invalid username or password."
    assert imap["src_ip"] == "198.51.100.7"  # v4-mapped IPv6 reduced to IPv4
    assert imap["protocol"] == "imap"
    assert imap["auth_method"] == "singleFactorAuthentication"
    assert imap["device_id"] is None  # "" is no device id
    assert imap["source_line"] == 2

    assert noninteractive["operation"] == "NonInteractiveUserSignInLogs"
    assert noninteractive["protocol"] == "modern"
    assert noninteractive["auth_method"] == "Previously satisfied"
    assert noninteractive["src_ip"] is None
    assert dict(noninteractive["params"])["src_ip_raw"] == "not-an-ip"
    assert noninteractive["time"] == datetime(2024, 3, 4, 9, 30, 5, 500000, tzinfo=UTC)


def test_diagnostic_shape_golden_and_malformed() -> None:
    rows, rejected, chunks = _parse(DATA / "diagnostic.ndjson")
    assert sum(chunk.read for chunk in chunks) == 7  # 7 non-empty lines, each accounted for
    assert [(r.line, r.reason) for r in rejected] == [
        (4, "not a sign-in record (category 'AuditLogs')"),
        (5, "JSON: expected object, got list"),
        (7, rejected[2].reason),
        (8, "sign-in without a valid time (createdDateTime 'last tuesday')"),
    ]
    assert rejected[2].reason.startswith("JSON: ")
    service, locked, fallback_time = rows

    assert service["operation"] == "ServicePrincipalSignInLogs"
    assert service["user_type"] == "ServicePrincipal"
    assert service["user"] == "ab12cd34-0000-0000-0000-000000000001"
    assert service["src_ip"] == "2001:db8::42"
    assert service["outcome"] == "success"
    assert service["tenant"] == "11111111-2222-3333-4444-555555555555"
    assert service["correlation_id"] == "aaaa0000-bbbb-cccc-dddd-eeeeffff0001"
    assert dict(service["params"])["servicePrincipalName"] == "Backup Daemon"
    assert service["source_line"] == 1
    assert service["raw"].startswith('{"time":"2024-05-06T22:10:01')

    assert locked["user"] == "bob@fabrikam.example"
    assert locked["time"] == datetime(2024, 5, 6, 22, 12, tzinfo=UTC)  # -05:00 offset applied
    assert locked["outcome"] == "failure"
    assert locked["error_code"] == "50053"
    assert locked["status_detail"] == "Account is locked"  # resultDescription when no failureReason
    assert locked["protocol"] == "smtp"
    assert dict(locked["params"])["riskEventTypes_v2"] == '["unfamiliarFeatures"]'

    # An unreadable createdDateTime falls back to the envelope's time.
    assert fallback_time["time"] == datetime(2024, 5, 6, 22, 14, tzinfo=UTC)
    assert fallback_time["outcome"] == "unknown"


def test_same_signin_in_both_shapes_has_one_uid(tmp_path: Path) -> None:
    props = {
        "id": "abc",
        "createdDateTime": "2024-01-01T00:00:00.1234567Z",
        "userPrincipalName": "u@x.example",
        "status": {"errorCode": 0},
        "isInteractive": True,
    }
    graph = tmp_path / "graph.json"
    graph.write_text(json.dumps({"value": [props]}))
    diag = tmp_path / "diag.json"
    diag.write_text(json.dumps({"time": "2024-01-01T00:00:00Z", "category": "SignInLogs", "properties": props}) + "\n")
    (a,), _, _ = _parse(graph)
    (b,), _, _ = _parse(diag)
    assert a["event_uid"] == b["event_uid"]


def test_chunks_are_bounded(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": str(i), "createdDateTime": "2024-01-01T00:00:00Z", "userPrincipalName": "u@x", "status": {}})
        for i in range(25)
    ]
    path = tmp_path / "many.json"
    path.write_text("\n".join(lines) + "\n")
    _, _, chunks = _parse(path, chunk_rows=10)
    assert [chunk.read for chunk in chunks] == [10, 10, 5]


def test_sniff() -> None:
    assert entra.sniff((DATA / "graph_signins.json").read_bytes(), "x.json") >= 0.9
    assert entra.sniff((DATA / "diagnostic.ndjson").read_bytes(), "x.json") >= 0.9
    gws = Path(__file__).resolve().parent.parent / "data" / "gworkspace" / "activities.json"
    assert entra.sniff(gws.read_bytes(), "x.json") == 0.0
    assert entra.sniff(b'{"CreationTime":"2024-01-01T00:00:00","Operation":"MailItemsAccessed"}\n', "a.json") == 0.0
    assert entra.sniff(b"#separator \\x09\n#fields\tts\n", "conn.log") == 0.0


def test_conformance_elastic_signinlogs(shared_fixtures: Path) -> None:
    folder = shared_fixtures / SIGNINLOGS
    source = folder / "_dev/test/pipeline/test-signinlogs-raw.log"
    assert entra.sniff(source.read_bytes()[:65536], source.name) >= 0.9
    rows, rejected, _ = _parse(source)
    assert rejected == []
    raw_lines = [json.loads(line) for line in source.read_text().splitlines() if line.strip()]
    assert len(rows) == len(raw_lines)
    for row, record in zip(rows, raw_lines, strict=True):
        assert row["operation"] == record["category"]
        assert row["src_ip"] == record["callerIpAddress"]
        assert row["user"] == record["properties"]["userPrincipalName"].lower()
        assert row["outcome"] == "failure"  # every sample has errorCode 50140
        assert row["time"] == datetime(2019, 10, 18, 9, 45, 48, 72989, tzinfo=UTC)


def test_conformance_elastic_sample_event(shared_fixtures: Path, tmp_path: Path) -> None:
    expected = json.loads((shared_fixtures / SIGNINLOGS / "sample_event.json").read_text())
    original = tmp_path / "original.json"
    original.write_text(expected["event"]["original"] + "\n")
    (row,), rejected, _ = _parse(original)
    assert rejected == []
    assert row["src_ip"] == expected["source"]["ip"]
    assert row["user"] == f"{expected['user']['name']}@{expected['user']['domain']}"
    assert row["outcome"] == expected["event"]["outcome"]
    assert row["time"].isoformat().startswith(expected["@timestamp"].removesuffix("Z"))
    assert row["tenant"] == expected["azure"]["tenant_id"]
    assert row["error_code"] == expected["azure"]["signinlogs"]["result_type"]


@pytest.mark.parametrize(
    ("client_app", "protocol"),
    [
        ("Exchange ActiveSync", "activesync"),
        ("POP3", "pop3"),
        ("Exchange Web Services", "ews"),
        ("MAPI Over HTTP", "mapi"),
        ("Other clients", "legacy"),
        ("Something New", None),
    ],
)
def test_client_app_protocol(tmp_path: Path, client_app: str, protocol: str | None) -> None:
    record = {
        "id": "1",
        "createdDateTime": "2024-01-01T00:00:00Z",
        "userPrincipalName": "u@x",
        "clientAppUsed": client_app,
    }
    path = tmp_path / "one.json"
    path.write_text(json.dumps(record) + "\n")
    (row,), _, _ = _parse(path)
    assert row["client_app"] == client_app
    assert row["protocol"] == protocol
