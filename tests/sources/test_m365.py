"""Microsoft 365 unified audit log parser: golden records, key styles, shapes, malformed input, conformance."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dwelltime.schema import EVENT_SCHEMA
from dwelltime.sources import m365
from dwelltime.sources.base import ParseContext, Rejected, uid_of
from dwelltime.sources.m365_sql import styled_key

DATA = Path(__file__).resolve().parent.parent / "data" / "m365"
O365 = "elastic-integrations/packages/o365/data_stream/audit/_dev/test/pipeline"


def run(path: Path) -> tuple[list[dict[str, Any]], list[Rejected]]:
    rows: list[dict[str, Any]] = []
    rejected: list[Rejected] = []
    for chunk in m365.parse(path, ParseContext(str(path))):
        assert chunk.events.schema.equals(EVENT_SCHEMA)
        rows.extend(chunk.events.to_pylist())
        rejected.extend(chunk.rejected)
    rows.sort(key=lambda r: r["source_line"])
    return rows, rejected


def by_op(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f"{r['operation']}#{r['source_line']}": r for r in rows}


@pytest.fixture(scope="module", params=["api_pascal", "api_camel", "api_lower"])
def api(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    rows, rejected = run(DATA / f"{request.param}.ndjson")
    assert rejected == []
    assert len(rows) == 21
    return rows


def uid(n: int, time: str, op: str) -> str:
    return uid_of("m365-audit", f"00000000-0000-4000-8000-{n:012d}|{time}|{op}")


def test_styled_key_spellings() -> None:
    assert styled_key("ClientIPAddress", "camel") == "clientIPAddress"
    assert styled_key("MailboxOwnerUPN", "camel") == "mailboxOwnerUPN"
    assert styled_key("ID", "camel") == "id"
    assert styled_key("ClientIP", "camel") == "clientIP"
    assert styled_key("ClientIPAddress", "lower") == "clientipaddress"


def test_common_fields_and_mail_items_accessed_bind(api: list[dict[str, Any]]) -> None:
    r = api[0]
    assert r["event_uid"] == uid(1, "2024-05-02T10:00:01", "MailItemsAccessed")
    assert r["time"] == datetime(2024, 5, 2, 10, 0, 1, tzinfo=UTC)
    assert (r["event_class"], r["action"], r["outcome"]) == ("mailbox_access", "mail_read", "success")
    assert r["operation"] == "MailItemsAccessed"
    assert r["user"] == "alice@contoso.com"  # lower-cased from Alice@Contoso.com
    assert r["user_type"] == "Regular"
    assert (r["src_ip"], r["src_port"]) == ("203.0.113.7", 51234)
    assert r["tenant"] == "4a1b2c3d-0000-4000-8000-00000000c0de"
    assert r["protocol"] == "owa"
    assert r["user_agent"] == r["client_app"] == "Client=OWA;Action=ViaProxy"
    assert r["session_id"] == "s-1111"
    assert r["mailbox"] == "alice@contoso.com"
    assert r["app_id"] == "00000002-0000-0ff1-ce00-000000000000"
    assert r["folder"] == "\\Inbox"
    assert r["folders"] == ["\\Inbox", "\\Finance"]
    assert r["message_ids"] == ["<m1@contoso.com>", "<m2@contoso.com>", "<m3@contoso.com>"]
    assert (r["item_count"], r["bytes_out"]) == (3, 4000)
    params = dict(r["params"])
    assert params["MailAccessType"] == "Bind"
    assert params["IsThrottled"] == "False"
    assert params["OperationCount"] == "3"
    assert params["MailboxGuid"] == "7f0c1d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f"
    assert params["RecordType"] == "50"
    assert params["Workload"] == "Exchange"
    assert "ClientAppId" not in params  # empty in the record
    assert r["source_format"] == "m365-audit"
    assert r["source_line"] == 1
    assert r["src_country"] is None


def test_mail_items_accessed_sync(api: list[dict[str, Any]]) -> None:
    r = api[1]
    assert r["action"] == "mail_sync"
    assert r["time"] == datetime(2024, 5, 2, 10, 5, 0, 123456, tzinfo=UTC)
    assert (r["src_ip"], r["src_port"]) == ("2001:db8::1", 443)
    assert r["item_count"] == 42  # OperationCount: a sync lists no items
    assert r["bytes_out"] is None
    assert r["message_ids"] == []
    assert r["protocol"] == "mapi"
    assert r["app_id"] == "d3590ed6-52b3-4102-aeff-aad2292ab01c"  # ClientAppId when AppId is empty
    assert dict(r["params"])["IsThrottled"] == "True"


def test_logins(api: list[dict[str, Any]]) -> None:
    ok, failed = api[2], api[3]
    assert (ok["event_class"], ok["action"], ok["outcome"]) == ("auth", "login", "success")
    assert ok["src_ip"] == "198.51.100.20"  # ::ffff: mapped address
    assert ok["user_agent"] == "Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0"
    assert ok["app_id"] == "4765445b-32c6-49b0-83e6-1d93765276ca"
    assert ok["device_id"] == "dev-42"
    assert ok["session_id"] == "sess-aad-1"
    assert ok["correlation_id"] == "c0ffee00-1111-2222-3333-444444444444"
    assert dict(ok["params"])["RequestType"] == "OAuth2:Authorize"
    assert dict(ok["params"])["DeviceProperties.OS"] == "Linux"
    # UserLoginFailed is a failure whatever ResultStatus says.
    assert (failed["action"], failed["outcome"]) == ("login", "failure")
    assert failed["error_code"] == "50126"
    assert failed["status_detail"] == "InvalidUserNameOrPassword"
    assert failed["user"] == "bob@contoso.com"
    assert dict(failed["params"])["ResultStatusDetail"] == "Redirect"


def test_send(api: list[dict[str, Any]]) -> None:
    send, send_as = api[4], api[5]
    assert (send["event_class"], send["action"]) == ("mail_send", "send")
    assert send["subject"] == 'Invoice, "urgent"'
    assert send["message_ids"] == ["<sent1@contoso.com>"]
    assert send["folder"] == "\\Sent Items"
    assert send["protocol"] == "rest"
    assert send["target"] is None
    assert (send_as["action"], send_as["target"], send_as["protocol"]) == ("send_as", "ceo@contoso.com", "activesync")


def test_inbox_rules(api: list[dict[str, Any]]) -> None:
    new, update = api[6], api[7]
    assert (new["event_class"], new["action"], new["target"]) == ("mailbox_change", "inbox_rule", ".")
    params = dict(new["params"])
    assert params["MoveToFolder"] == "RSS Feeds"
    assert params["SubjectContainsWords"] == "invoice;payment"
    assert params["MarkAsRead"] == "True"
    assert new["mailbox"] == "alice@contoso.com"
    assert (update["action"], update["target"]) == ("inbox_rule", "hide-it")
    params = dict(update["params"])
    assert params["RuleCondition"] == "Subject contains 'security'"
    assert params["RuleActions"] == '[{"ActionType":"MoveToFolder"}]'


def test_set_mailbox(api: list[dict[str, Any]]) -> None:
    forwarding, other = api[8], api[9]
    assert (forwarding["event_class"], forwarding["action"]) == ("mailbox_change", "forwarding")
    assert forwarding["target"] == "drop@evil.example"
    assert forwarding["mailbox"] == "alice@contoso.com"
    assert dict(forwarding["params"])["DeliverToMailboxAndForward"] == "True"
    assert (other["event_class"], other["action"], other["mailbox"]) == (
        "mailbox_change",
        "admin_change",
        "bob@contoso.com",
    )
    assert other["src_ip"] is None


def test_permissions(api: list[dict[str, Any]]) -> None:
    mailbox, recipient, folder = api[10], api[11], api[12]
    assert (mailbox["action"], mailbox["target"], mailbox["mailbox"]) == (
        "mailbox_permission",
        "alice@contoso.com",
        "ceo@contoso.com",
    )
    assert dict(mailbox["params"])["AccessRights"] == "FullAccess"
    assert (recipient["action"], recipient["target"]) == ("recipient_permission", "alice@contoso.com")
    assert (folder["action"], folder["target"], folder["mailbox"]) == (
        "folder_permission",
        "alice@contoso.com",
        "ceo@contoso.com",
    )
    assert all(r["event_class"] == "mailbox_change" for r in (mailbox, recipient, folder))


def test_consent(api: list[dict[str, Any]]) -> None:
    consent, grant = api[13], api[14]
    assert (consent["event_class"], consent["action"]) == ("app_consent", "consent")
    assert sorted(consent["scopes"]) == ["Mail.Read", "Mail.Send", "offline_access"]
    assert consent["app_id"] == "0f1e2d3c-aaaa-4bbb-8ccc-ddddeeeeffff"
    assert consent["app_name"] == consent["target"] == "Mail Reader Pro"
    assert consent["src_ip"] == "203.0.113.9"  # ActorIpAddress
    assert sorted(grant["scopes"]) == ["Mail.ReadWrite", "User.Read"]
    assert grant["app_name"] == "Microsoft Graph"


def test_admin_operations(api: list[dict[str, Any]]) -> None:
    search, exported, export, transport = api[15], api[16], api[17], api[18]
    assert (search["event_class"], search["action"], search["target"]) == (
        "admin",
        "compliance_search",
        "find-passwords",
    )
    params = dict(search["params"])
    assert params["ContentMatchQuery"] == "password OR credentials"
    assert params["ExchangeLocation"] == "All"
    assert (exported["action"], exported["target"]) == ("compliance_search", "find-passwords")
    assert dict(exported["params"])["Query"] == "password OR credentials"
    assert (export["action"], export["target"], export["mailbox"]) == (
        "mailbox_export",
        "CEO@contoso.com",
        "ceo@contoso.com",
    )
    assert dict(export["params"])["FilePath"] == "\\\\srv\\share\\ceo.pst"
    assert (transport["action"], transport["target"]) == ("transport_rule", "bcc-all")
    assert dict(transport["params"])["BlindCopyTo"] == "drop@evil.example"


def test_delete_and_other(api: list[dict[str, Any]]) -> None:
    delete, other = api[19], api[20]
    assert (delete["event_class"], delete["action"]) == ("mailbox_change", "hard_delete")
    assert delete["folder"] == "\\Deleted Items"
    assert delete["message_ids"] == ["<d1@contoso.com>", "<d2@contoso.com>"]
    assert (delete["subject"], delete["item_count"]) == ("Security alert", 2)
    assert (other["event_class"], other["action"], other["outcome"]) == ("other", "FileAccessed", "failure")
    assert other["target"] == "https://contoso.sharepoint.com/sites/fin/q2.xlsx"
    assert other["user_agent"] == "OneDriveMpc-Transform_Thumbnail/1.0"


def test_raw_is_the_line_verbatim() -> None:
    rows, _ = run(DATA / "api_camel.ndjson")
    lines = (DATA / "api_camel.ndjson").read_text().splitlines()
    assert [r["raw"] for r in rows] == lines


def test_key_styles_normalize_identically() -> None:
    def strip(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in r.items() if k not in ("raw", "source_file")} for r in rows]

    pascal = strip(run(DATA / "api_pascal.ndjson")[0])
    assert strip(run(DATA / "api_camel.ndjson")[0]) == pascal
    assert strip(run(DATA / "api_lower.ndjson")[0]) == pascal


def test_purview_csv() -> None:
    rows, rejected = run(DATA / "purview_export.csv")
    assert rejected == []
    assert [r["operation"] for r in rows] == ["MailItemsAccessed", "Send", "UserLoggedIn"]
    # Line of the CSV record's start: the pretty-printed AuditData spans many lines.
    assert rows[0]["source_line"] == 2
    assert rows[1]["source_line"] == 3
    assert rows[2]["source_line"] > 10
    assert rows[1]["subject"] == 'Invoice, "urgent"'
    assert "\n" in rows[1]["raw"] and json.loads(rows[1]["raw"])["Operation"] == "Send"
    # The same records from the API and from Purview get the same uid (stored once).
    api = by_op(run(DATA / "api_pascal.ndjson")[0])
    assert rows[0]["event_uid"] == api["MailItemsAccessed#1"]["event_uid"]
    assert rows[1]["event_uid"] == api["Send#5"]["event_uid"]
    assert rows[0]["message_ids"] == api["MailItemsAccessed#1"]["message_ids"]


def test_json_array_document() -> None:
    rows, rejected = run(DATA / "array.json")
    assert [r["source_line"] for r in rows] == [1, 3]  # record ordinals
    assert [r["operation"] for r in rows] == ["MailItemsAccessed", "UserLoggedIn"]
    assert rows[1]["user_agent"] == "Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0"  # camelCase member
    assert len(rejected) == 1
    assert rejected[0].line == 2
    assert "expected object" in rejected[0].reason


def test_malformed_lines(tmp_path: Path) -> None:
    good = json.loads((DATA / "api_pascal.ndjson").read_text().splitlines()[0])
    folders_text = dict(good, Id="f-1", Folders="x")
    huge = dict(good, Id="huge-1", ClientInfoString="Client=OWA;" + "A" * 1_000_000)
    no_time = {k: v for k, v in good.items() if k != "CreationTime"}
    no_op = {k: v for k, v in good.items() if k != "Operation"}
    bad_time = dict(good, CreationTime="yesterday")
    lines = [
        json.dumps(good),
        '{"CreationTime": "2024-05-02T10:00:01", "Operation": ',  # cut off
        "42",
        "[1, 2]",
        json.dumps(folders_text),
        "",
        json.dumps(huge),
        json.dumps(no_time),
        json.dumps(no_op),
        json.dumps(bad_time),
    ]
    path = tmp_path / "malformed.ndjson"
    path.write_text("\n".join(lines) + "\n")
    rows, rejected = run(path)
    assert [r["source_line"] for r in rows] == [1, 5, 7]
    assert rows[1]["folders"] is None and rows[1]["event_class"] == "mailbox_access"
    assert len(rows[2]["user_agent"]) == len(huge["ClientInfoString"])
    reasons = {r.line: r.reason for r in rejected}
    assert set(reasons) == {2, 3, 4, 8, 9, 10}
    assert reasons[2].startswith("JSON:")
    assert reasons[3] == "JSON: expected object, got int"
    assert reasons[4] == "JSON: expected object, got list"
    assert reasons[8] == "no CreationTime"
    assert reasons[9] == "no Operation"
    assert reasons[10].startswith("unparseable CreationTime")


def test_duplicate_parameter_names_and_bad_ip(tmp_path: Path) -> None:
    record = {
        "CreationTime": "2024-05-02T11:00:00",
        "Id": "dup-1",
        "Operation": "New-InboxRule",
        "RecordType": 1,
        "Workload": "Exchange",
        "UserId": "eve@contoso.com",
        "ClientIP": "not-an-ip",
        "Parameters": [{"Name": "Name", "Value": "first"}, {"Name": "Name", "Value": "second"}],
    }
    path = tmp_path / "dup.ndjson"
    path.write_text(json.dumps(record) + "\n")
    rows, rejected = run(path)
    assert rejected == []
    params = rows[0]["params"]
    assert [k for k, _ in params].count("Name") == 1
    assert dict(params)["Name"] == "first"
    assert dict(params)["src_ip_raw"] == "not-an-ip"
    assert rows[0]["src_ip"] is None
    assert rows[0]["target"] == "first"


def test_split_ip() -> None:
    assert m365.split_ip("1.2.3.4:5678") == ("1.2.3.4", 5678)
    assert m365.split_ip("[2001:0db8::0001]:443") == ("2001:db8::1", 443)
    assert m365.split_ip("::ffff:10.0.0.1") == ("10.0.0.1", None)
    assert m365.split_ip("garbage") == (None, None)


def test_sniff() -> None:
    assert m365.sniff((DATA / "api_pascal.ndjson").read_bytes()[:65536], "x.json") >= 0.9
    assert m365.sniff((DATA / "api_lower.ndjson").read_bytes()[:65536], "x.json") >= 0.9
    assert m365.sniff((DATA / "purview_export.csv").read_bytes()[:65536], "x.csv") >= 0.9
    assert m365.sniff(b'{"createdDateTime": "2024-01-01T00:00:00Z", "userPrincipalName": "a"}\n', "x") == 0.0
    assert m365.sniff(b"May  2 10:00:00 host postfix/smtpd[1]: connect\n", "maillog") == 0.0


def test_conformance_elastic_exchange_item_edge_cases(shared_fixtures: Path) -> None:
    raw_path = shared_fixtures / O365 / "test-exchange-item-edge-cases.raw.ndjson"
    expected = json.loads((shared_fixtures / O365 / "test-exchange-item-edge-cases.json-expected.json").read_text())[
        "expected"
    ]
    rows, rejected = run(raw_path)
    assert rejected == []
    assert len(rows) == len(expected) == len(raw_path.read_text().splitlines())
    for row, doc in zip(rows, expected, strict=True):
        stamp = datetime.fromisoformat(doc["@timestamp"].replace("Z", "+00:00"))
        assert row["time"] == stamp
        user = doc.get("user", {}).get("id") or doc["o365"]["audit"]["UserId"]
        assert row["user"] == user.lower()
        assert row["src_ip"] == (doc.get("client", {}).get("ip") or doc["source"]["ip"])
        assert row["action"] == row["operation"] == doc["event"]["action"]
        assert row["outcome"] == doc["event"]["outcome"]
        original = json.loads(doc["event"]["original"])
        assert row["raw"] == doc["event"]["original"]
        key = f"{doc['event']['id']}|{original['CreationTime']}|{original['Operation']}"
        assert row["event_uid"] == uid_of("m365-audit", key)
