"""The simulator's writers: every file they write parses with zero rejections, key fields
survive the round trip through dwelltime's own parsers, record references point at the
right lines, and output is byte-deterministic.

The writers never import the parsers; these tests do, on purpose: each side was written
from the vendor formats, and this is where they must agree.
"""

from __future__ import annotations

import hashlib
import importlib
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from dwelltime.simulate.activity import (
    Activity,
    AdminAction,
    Client,
    Connection,
    Consent,
    MailboxChange,
    MailboxRead,
    MailFlow,
    MailSend,
    MessageRef,
    Network,
    SignIn,
)
from dwelltime.simulate.model import MailHost, Org, Partner, User
from dwelltime.simulate.writers import RecordRef, WriterSet, route
from dwelltime.simulate.writers.dovecot import DovecotWriter
from dwelltime.sources.base import ParseContext
from dwelltime.sources.registry import detect

T0 = datetime(2024, 3, 4, 0, 15, 2, 123456, tzinfo=UTC)
OFFICE = Network("203.0.113.10", "JP", 2516, "KDDI", "office", "Chiyoda")
HOSTING = Network("45.76.100.7", "JP", 20473, "The Constant Company", "hosting", "Tokyo")
FOREIGN = Network("185.220.101.4", "DE", 208294, "Example Hosting", "hosting", "Frankfurt")
MOBILE = Network("106.130.1.2", "JP", 2516, "KDDI", "mobile", "Osaka")
PARTNER_MX = Network("198.51.100.7", "JP", 4713, "NTT", "isp", "")
LAN = Network("10.1.2.5", "", None, "", "private", "")
GATEWAY = Network("10.1.0.30", "", None, "", "private", "")

OUTLOOK = Client(
    "outlook",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)",
    "Client=MSExchangeRPC",
    "Mobile Apps and Desktop clients",
    "d3590ed6-52b3-4102-aeff-aad2292ab01c",
    "Microsoft Office",
    "mapi",
)
SCRIPT = Client(
    "script",
    "python-requests/2.31.0",
    "Client=REST;Client=RESTSystem;;",
    "Mobile Apps and Desktop clients",
    "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    "Mail Archiver Pro",
    "rest",
)
IMAP = Client("imap", "", "", "IMAP4", "", "", "imap")
POP = Client("imap", "", "", "POP3", "", "", "pop3")
SMTP = Client("imap", "", "", "Authenticated SMTP", "", "", "smtp")

ALICE = "alice@example.go.jp"
BOB = "bob@example.go.jp"
ADMIN = "admin@example.go.jp"
SESSION = "6c1e8f0a-1b2c-4d3e-8f40-5a6b7c8d9e0f"


def _user(upn: str, login: str) -> User:
    return User(
        upn,
        login,
        "山田 太郎",
        "Taro Yamada",
        "総務",
        "staff",
        OFFICE,
        (),
        None,
        (),
        (OUTLOOK,),
        None,
        False,
        False,
        False,
        date(2020, 1, 1),
        (9, 18),
    )


def make_org(kind: str = "hybrid") -> Org:
    return Org(
        kind=kind,
        name="Example Agency",
        domain="example.go.jp",
        tenant_id="9f1c3b2a-1d2e-4f3a-8b4c-5d6e7f8a9b0c",
        timezone="Asia/Tokyo",
        users=(_user(ALICE, "alice"), _user(BOB, "bob"), _user(ADMIN, "admin")),
        office=(OFFICE,),
        office_after_change=(),
        isp_change_day=None,
        partners=(Partner("Partner KK", "partner.co.jp", "JP", "ja", ("sato@partner.co.jp",)),),
        hosts=(
            MailHost("mail01", "10.1.0.25", "mailstore"),
            MailHost("mail01", "10.1.0.25", "mta"),
            MailHost("gw01", "10.1.0.30", "gateway"),
        ),
        admins=(ADMIN,),
    )


ORG = make_org()
MESSAGES = [
    MessageRef(f"<{i:04d}.6f2a@example.go.jp>", "Inbox" if i % 3 else "Archive/2023", 4_000 + 97 * i)
    for i in range(250)
]


def activities() -> list[Activity]:
    """One or more activities of every kind, cloud and on-prem, benign and malicious."""

    def at(seconds: float) -> datetime:
        return T0 + timedelta(seconds=seconds)

    m = MESSAGES
    return [
        SignIn(at(0), ALICE, OFFICE, client=OUTLOOK, session_id=SESSION, mfa="Microsoft Authenticator app"),
        SignIn(at(5), ALICE, FOREIGN, scenario="spray", client=SCRIPT, success=False, error_code=50126),
        SignIn(at(7), "nobody@example.go.jp", FOREIGN, scenario="spray", client=SCRIPT, success=False),
        SignIn(at(9), ALICE, MOBILE, client=OUTLOOK, interactive=False, confounder="mobile-polling"),
        MailboxRead(
            at(20), ALICE, HOSTING, scenario="apt-cloud", client=SCRIPT, session_id="s-apt", messages=m, duration_s=300
        ),
        MailboxRead(at(30), ALICE, OFFICE, client=OUTLOOK, access_type="Sync", folders=["Inbox", "Sent Items"]),
        MailSend(
            at(40),
            ALICE,
            OFFICE,
            client=OUTLOOK,
            message_id="<send1@example.go.jp>",
            subject="見積書",
            sender=ALICE,
            recipients=["sato@partner.co.jp"],
            size=23_000,
        ),
        MailSend(
            at(41),
            ALICE,
            OFFICE,
            client=OUTLOOK,
            message_id="<send2@example.go.jp>",
            subject="FYI",
            sender=BOB,
            recipients=["x@partner.co.jp"],
            size=2_300,
            operation="SendAs",
        ),
        MailboxChange(
            at(50),
            ALICE,
            FOREIGN,
            scenario="bec",
            operation="New-InboxRule",
            parameters={
                "Mailbox": ALICE,
                "Name": "..",
                "SubjectContainsWords": "invoice;payment",
                "MoveToFolder": "RSS Subscriptions",
                "StopProcessingRules": "True",
            },
        ),
        MailboxChange(
            at(51),
            ALICE,
            FOREIGN,
            scenario="bec",
            operation="Set-Mailbox",
            parameters={
                "Identity": ALICE,
                "ForwardingSmtpAddress": "smtp:drop@mail.example.net",
                "DeliverToMailboxAndForward": "True",
            },
        ),
        MailboxChange(
            at(52),
            ADMIN,
            OFFICE,
            operation="Add-MailboxPermission",
            target_mailbox=BOB,
            parameters={"Identity": BOB, "User": ALICE, "AccessRights": "FullAccess"},
        ),
        MailboxChange(
            at(53),
            ALICE,
            OFFICE,
            operation="Add-MailboxFolderPermission",
            parameters={"Identity": f"{ALICE}:\\Calendar", "User": BOB, "AccessRights": "Reviewer"},
        ),
        MailboxChange(at(54), ALICE, OFFICE, client=OUTLOOK, operation="SoftDelete", messages=m[:3]),
        MailboxChange(at(55), ALICE, OFFICE, client=OUTLOOK, operation="HardDelete", messages=m[3:5]),
        MailboxChange(at(56), ALICE, OFFICE, client=OUTLOOK, operation="MoveToDeletedItems", messages=m[5:7]),
        Consent(
            at(60),
            ALICE,
            FOREIGN,
            scenario="oauth-consent",
            app_id=SCRIPT.app_id,
            app_name=SCRIPT.app_name,
            scopes=["Mail.Read", "offline_access", "User.Read"],
        ),
        AdminAction(
            at(70),
            ADMIN,
            OFFICE,
            confounder="admin-search",
            operation="New-ComplianceSearch",
            parameters={"Name": "Case 42", "ExchangeLocation": "All", "ContentMatchQuery": 'subject:"契約"'},
        ),
        AdminAction(at(71), ADMIN, OFFICE, operation="SearchExported", parameters={"Name": "Case 42"}),
        AdminAction(
            at(72),
            ADMIN,
            OFFICE,
            scenario="insider-export",
            operation="New-MailboxExportRequest",
            parameters={"Mailbox": BOB, "FilePath": "\\\\fs01\\pst\\bob.pst"},
        ),
        # on-prem
        SignIn(at(100), ALICE, HOSTING, client=IMAP),
        SignIn(at(101), BOB, FOREIGN, client=IMAP, success=False, confounder="password-guessing"),
        SignIn(at(102), "root", FOREIGN, client=IMAP, success=False, confounder="password-guessing"),
        SignIn(at(103), ALICE, FOREIGN, client=SMTP, success=False),
        SignIn(at(104), ALICE, OFFICE, client=SMTP),
        SignIn(at(105), BOB, OFFICE, client=POP),
        MailboxRead(at(110), ALICE, HOSTING, scenario="apt-imap", client=IMAP, messages=m[:40], duration_s=120),
        MailboxRead(at(111), BOB, OFFICE, client=POP, messages=m[:3], duration_s=5),
        MailboxChange(at(130), ALICE, OFFICE, client=IMAP, operation="MoveToDeletedItems", messages=m[:2]),
        MailboxChange(at(131), ALICE, OFFICE, client=IMAP, operation="HardDelete", messages=m[2:4]),
        MailFlow(
            at(140),
            ALICE,
            PARTNER_MX,
            message_id="<in1@partner.co.jp>",
            sender="sato@partner.co.jp",
            recipients=[ALICE, BOB],
            size=52_000,
        ),
        MailFlow(
            at(141),
            ALICE,
            LAN,
            message_id="<out1@example.go.jp>",
            sender=ALICE,
            recipients=["sato@partner.co.jp"],
            size=8_000,
            sasl_user="alice",
        ),
        MailFlow(at(142), ALICE, LAN, message_id="<cron1@example.go.jp>", sender=ALICE, recipients=[BOB], size=800),
        MailSend(
            at(150),
            ALICE,
            HOSTING,
            scenario="apt-imap",
            client=SMTP,
            message_id="<sub1@example.go.jp>",
            recipients=["x@partner.co.jp", BOB],
            size=12_345,
        ),
        Connection(
            at(160),
            "gw01",
            GATEWAY,
            scenario="gateway-implant",
            dst_ip="45.32.10.9",
            dst_port=443,
            duration_s=2.5,
            bytes_orig=1_800,
            bytes_resp=5_200,
            server_name="update.example-cdn.net",
        ),
        Connection(
            at(161),
            "gw01",
            GATEWAY,
            dst_ip="8.8.8.8",
            dst_port=53,
            proto="udp",
            service="dns",
            duration_s=0.02,
            bytes_orig=40,
            bytes_resp=120,
        ),
        Connection(
            at(162),
            "gw01",
            GATEWAY,
            dst_ip="203.0.113.50",
            dst_port=25,
            service="smtp",
            duration_s=1.2,
            bytes_orig=30_000,
            bytes_resp=900,
        ),
    ]


def render(out: Path, seed: int = 0, timestamps: str = "iso") -> list[tuple[Activity, list[RecordRef]]]:
    written = []
    with WriterSet(out, ORG, seed=seed, timestamps=timestamps) as writers:
        for activity in activities():
            written.append((activity, writers.write(activity)))
    return written


def parse_all(path: Path, ctx: ParseContext) -> tuple[str, list[dict[str, Any]], int, list[str]]:
    """(source id, event rows, records parsed, rejection reasons) for one file."""
    source = detect(path)
    rows: list[dict[str, Any]] = []
    parsed = 0
    rejected: list[str] = []
    for chunk in source.parse(path, ctx):
        rows.extend(chunk.events.to_pylist())
        parsed += chunk.records_parsed
        rejected.extend(f"{r.line}: {r.reason}: {r.raw[:120]}" for r in chunk.rejected)
    return source.id, rows, parsed, rejected


def lines_of(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[Activity, list[RecordRef]]]]:
    out = tmp_path_factory.mktemp("sim")
    return out, render(out)


def _need_syslog_parsers() -> None:
    for name in ("dwelltime.sources.syslog", "dwelltime.sources.dovecot"):
        try:
            importlib.import_module(name)
        except ModuleNotFoundError:
            pytest.skip(f"{name} is not there yet (being written); mail.log round trip runs once it is")


# --------------------------------------------------------------------------- routing


def test_route_sends_each_activity_kind_to_its_formats() -> None:
    acts = {
        type(a).__name__ + ":" + (getattr(a, "client", None) or Client("", "", "", "", "", "", "-")).protocol: a
        for a in activities()
    }
    assert route(acts["SignIn:mapi"], ORG) == ("entra", "m365")
    assert route(acts["SignIn:imap"], ORG) == ("dovecot",)
    assert route(acts["SignIn:pop3"], ORG) == ("dovecot",)
    assert route(acts["SignIn:smtp"], ORG) == ("postfix",)
    assert route(acts["MailboxRead:rest"], ORG) == ("m365",)
    assert route(acts["MailboxRead:imap"], ORG) == ("dovecot",)
    assert route(acts["MailSend:smtp"], ORG) == ("postfix",)
    assert route(acts["MailSend:mapi"], ORG) == ("m365",)
    assert route(acts["MailFlow:-"], ORG) == ("postfix",)
    assert route(acts["MailFlow:-"], make_org("cloud")) == ()
    assert route(acts["Connection:-"], ORG) == ("zeek",)
    assert route(acts["Consent:-"], ORG) == ("m365",)
    assert route(acts["AdminAction:-"], ORG) == ("m365",)
    bare = SignIn(T0, ALICE, FOREIGN, success=False)
    assert route(bare, make_org("onprem")) == ("dovecot",)
    assert route(bare, make_org("cloud")) == ("entra", "m365")


# --------------------------------------------------------------------------- everything parses


def test_every_file_parses_with_zero_rejections_and_expected_counts(rendered: Any) -> None:
    out, written = rendered
    _need_syslog_parsers()
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == [
        "entra/signins-2024-03-04.json",
        "m365/audit-2024-03-04.json",
        "onprem/mail.log",
        "zeek/conn.log",
        "zeek/ssl.log",
    ]
    refs = [r for _, rs in written for r in rs]
    per_file = Counter(r.file for r in refs)
    # m365: 3 interactive sign-ins (the non-interactive one is Entra only) + 3 Bind records (250 items,
    # at most 100 per record) + 1 Sync + 2 sends + 4 cmdlets + 6 item groups (one per source folder of
    # 3 deletes over Inbox and Archive/2023) + 1 consent + 3 admin.
    assert per_file["m365/audit-2024-03-04.json"] == 3 + 3 + 1 + 2 + 4 + (2 + 2 + 2) + 1 + 3
    assert per_file["entra/signins-2024-03-04.json"] == 4
    assert per_file["zeek/conn.log"] == 3
    assert per_file["zeek/ssl.log"] == 1
    for rel in files:
        path = out / rel
        source_id, _, parsed, rejected = parse_all(path, ParseContext(source_file=rel))
        assert rejected == [], f"{rel} ({source_id}): {rejected[:5]}"
        records = [ln for ln in lines_of(path) if not ln.startswith("#")]
        assert parsed == len(records), rel
        assert per_file[rel] == len(records), f"every record of {rel} has exactly one ref"
    assert detect(out / "m365/audit-2024-03-04.json").id == "m365-audit"
    assert detect(out / "entra/signins-2024-03-04.json").id == "entra-signin"
    assert detect(out / "zeek/conn.log").id == "zeek"


def test_record_refs_point_at_the_right_lines(rendered: Any) -> None:
    out, written = rendered
    seen: set[tuple[str, int]] = set()
    for _, refs in written:
        for ref in refs:
            assert (ref.file, ref.line) not in seen, f"two refs for {ref.file}:{ref.line}"
            seen.add((ref.file, ref.line))
            line = lines_of(out / ref.file)[ref.line - 1]
            if ref.format == "m365":
                assert orjson.loads(line)["Id"] == ref.record_id
            elif ref.format == "entra":
                assert orjson.loads(line)["id"] == ref.record_id
            elif ref.format == "zeek":
                assert line.split("\t")[1] == ref.record_id
            elif (
                (ref.format == "postfix" and ": connect from " in line)
                or "TLS connection" in line
                or "disconnect" in line
            ):
                # SMTP session lines come before or after the queue id exists; they carry the message's.
                assert ref.record_id, ref
            else:
                assert ref.record_id and ref.record_id in line, (ref, line)


def test_refs_of_an_activity_are_its_own_records(rendered: Any) -> None:
    out, written = rendered
    by_kind = {(type(a).__name__, a.scenario): refs for a, refs in written if a.scenario}
    apt_cloud = by_kind[("MailboxRead", "apt-cloud")]
    ids = set()
    for ref in apt_cloud:
        record = orjson.loads(lines_of(out / ref.file)[ref.line - 1])
        assert record["Operation"] == "MailItemsAccessed"
        assert record["ClientIPAddress"] == HOSTING.ip
        items = [i for f in record["Folders"] for i in f["FolderItems"]]
        assert len(items) <= 100
        ids |= {i["InternetMessageId"] for i in items}
    assert len(apt_cloud) == 3
    assert ids == {m.message_id for m in MESSAGES}
    apt_imap = by_kind[("MailboxRead", "apt-imap")]
    text = [lines_of(out / r.file)[r.line - 1] for r in apt_imap]
    assert "imap-login: Login: user=<alice>" in text[0] and f"rip={HOSTING.ip}" in text[0]
    assert sum(": fetch: " in t for t in text) == 40
    assert "body_count=40" in text[-1]
    implant = by_kind[("Connection", "gateway-implant")]
    assert [r.file for r in implant] == ["zeek/conn.log", "zeek/ssl.log"]
    assert implant[0].record_id == implant[1].record_id


# --------------------------------------------------------------------------- round trips


def _events(out: Path, rel: str, **ctx: Any) -> list[dict[str, Any]]:
    _, rows, _, rejected = parse_all(out / rel, ParseContext(source_file=rel, **ctx))
    assert rejected == []
    return rows


def test_m365_round_trip(rendered: Any) -> None:
    out, written = rendered
    rows = {r["source_line"]: r for r in _events(out, "m365/audit-2024-03-04.json")}
    for activity, refs in written:
        for ref in refs:
            if ref.format != "m365":
                continue
            row = rows[ref.line]
            assert row["user"] == activity.user
            assert row["src_ip"] == activity.network.ip
            # Bind records are spread over the access; the first is at the activity's time.
            assert activity.time.replace(microsecond=0) <= row["time"] <= activity.time + timedelta(seconds=300)
    by_op = {orjson.loads(r["raw"])["Operation"]: r for r in rows.values()}
    assert by_op["UserLoginFailed"]["outcome"] == "failure"
    assert by_op["UserLoggedIn"]["session_id"] == SESSION
    assert by_op["Send"]["message_ids"] == ["<send1@example.go.jp>"]
    assert set(by_op["Consent to application."]["scopes"]) == {"Mail.Read", "offline_access", "User.Read"}
    assert by_op["Consent to application."]["app_id"] == SCRIPT.app_id
    bind_ids = {mid for r in rows.values() if r["action"] == "mail_read" for mid in (r["message_ids"] or [])}
    assert bind_ids == {m.message_id for m in MESSAGES}


def test_entra_round_trip(rendered: Any) -> None:
    out, written = rendered
    rows = {r["source_line"]: r for r in _events(out, "entra/signins-2024-03-04.json")}
    sign_ins = [(a, ref) for a, refs in written for ref in refs if ref.format == "entra"]
    assert len(sign_ins) == 4
    for activity, ref in sign_ins:
        assert isinstance(activity, SignIn)
        row = rows[ref.line]
        assert row["user"] == activity.user
        assert row["src_ip"] == activity.network.ip
        assert row["time"] == activity.time.replace(microsecond=0)
        assert row["outcome"] == ("success" if activity.success else "failure")
    record = orjson.loads((out / "entra/signins-2024-03-04.json").read_text().splitlines()[3])
    assert record["isInteractive"] is False
    assert record["signInEventTypes"] == ["nonInteractiveUser"]
    assert record["location"]["countryOrRegion"] == "JP"


def test_dovecot_round_trip(rendered: Any) -> None:
    out, written = rendered
    _need_syslog_parsers()
    rows = {r["source_line"]: r for r in _events(out, "onprem/mail.log")}
    read = next(refs for a, refs in written if a.scenario == "apt-imap" and isinstance(a, MailboxRead))
    events = [rows[r.line] for r in read]
    login, fetches, logout = events[0], events[1:-1], events[-1]
    assert (login["action"], login["outcome"], login["user"], login["src_ip"]) == (
        "login",
        "success",
        "alice",
        HOSTING.ip,
    )
    assert login["time"] == T0 + timedelta(seconds=110)
    assert [mid for f in fetches for mid in f["message_ids"]] == [m.message_id for m in MESSAGES[:40]]
    assert {f["session_id"] for f in fetches} == {login["session_id"]}
    assert logout["action"] == "session_end" and logout["item_count"] == 40
    assert logout["bytes_out"] >= sum(m.size for m in MESSAGES[:40])
    failed = next(refs for a, refs in written if isinstance(a, SignIn) and a.user == BOB and not a.success)
    assert [rows[r.line]["outcome"] for r in failed] == ["failure", "failure"]
    assert {rows[r.line]["src_ip"] for r in failed} == {FOREIGN.ip}


def test_postfix_round_trip(rendered: Any) -> None:
    out, _ = rendered
    _need_syslog_parsers()
    postfix = importlib.import_module("dwelltime.sources.postfix")
    if getattr(postfix, "SYSLOG_FAMILY", None) is None:
        pytest.skip("the Postfix parser is not yet a syslog family, so mixed mail.log lines stay 'other'")
    rows = _events(out, "onprem/mail.log")
    flows = [r for r in rows if r["event_class"] in ("mail_flow", "mail_send")]
    ids = {mid for r in flows for mid in (r["message_ids"] or [])}
    assert {"<in1@partner.co.jp>", "<out1@example.go.jp>", "<cron1@example.go.jp>", "<sub1@example.go.jp>"} <= ids


def test_zeek_round_trip(rendered: Any) -> None:
    out, written = rendered
    conns = {r["source_line"]: r for r in _events(out, "zeek/conn.log")}
    for activity, refs in written:
        if not isinstance(activity, Connection):
            continue
        row = conns[refs[0].line]
        assert (row["src_ip"], row["dst_ip"], row["dst_port"]) == (GATEWAY.ip, activity.dst_ip, activity.dst_port)
        assert row["time"] == activity.time
        assert row["session_id"] == refs[0].record_id
    ssl = _events(out, "zeek/ssl.log")
    assert [r["dst_host"] for r in ssl] == ["update.example-cdn.net"]
    assert lines_of(out / "zeek/conn.log")[-1].startswith("#close\t")


def test_rfc3164_timestamps_in_local_time_round_trip(tmp_path: Path) -> None:
    _need_syslog_parsers()
    written = render(tmp_path, timestamps="rfc3164")
    text = lines_of(tmp_path / "onprem/mail.log")
    assert text[0].startswith("Mar  4 09:16:42 mail01 dovecot: imap-login: Login: ")  # 00:16:42 UTC in Tokyo
    rows = {r["source_line"]: r for r in _events(tmp_path, "onprem/mail.log", year=2024, tz="Asia/Tokyo")}
    login = next(refs for a, refs in written if a.scenario == "apt-imap" and isinstance(a, MailboxRead))[0]
    assert rows[login.line]["time"] == T0.replace(microsecond=0) + timedelta(seconds=110)


# --------------------------------------------------------------------------- determinism and options


def _digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_inputs_give_the_same_bytes(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    refs_a = render(a)
    refs_b = render(b)
    render(c, seed=1)
    assert _digest(a) == _digest(b)
    assert [r for _, rs in refs_a for r in rs] == [r for _, rs in refs_b for r in rs]
    assert _digest(a)["m365/audit-2024-03-04.json"] != _digest(c)["m365/audit-2024-03-04.json"]


def test_fetch_lines_can_be_left_out_like_stock_dovecot(tmp_path: Path) -> None:
    writer = DovecotWriter(tmp_path, ORG, fetch_log=False)
    read = MailboxRead(T0, ALICE, HOSTING, client=IMAP, messages=MESSAGES[:5], duration_s=30)
    refs = writer.write(read)
    writer.close()
    text = lines_of(tmp_path / "onprem/mail.log")
    assert len(refs) == len(text) == 2
    assert ": fetch: " not in "\n".join(text)
    assert "body_count=5" in text[1]


def test_rewriting_a_directory_starts_files_afresh(tmp_path: Path) -> None:
    render(tmp_path)
    first = _digest(tmp_path)
    render(tmp_path)
    assert _digest(tmp_path) == first
