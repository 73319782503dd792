"""Scoping's parts on small inputs written here: folder keys, the mailbox index, sessions, exposure rules, report."""

from __future__ import annotations

import json
import mailbox as stdlib_mailbox
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pyarrow as pa

from dwelltime.scope.contract import PII_CATEGORIES
from dwelltime.scope.folders import decode_mutf7, folder_key
from dwelltime.scope.mailbox import INDEX_SCHEMA, index_path, load_index
from dwelltime.scope.messages import SYNC_CONFIDENCE, UNCERTAIN_FACTOR, MailboxView, exposed_messages
from dwelltime.scope.report import render_html, write_report
from dwelltime.scope.sessions import Event, Judgement, ScopedSession, group_sessions, judge
from dwelltime.workspace import Workspace

T0 = datetime(2024, 4, 1, 3, 0, tzinfo=UTC)


def _message(mid: str, subject: str, sender: str, to: str, when: datetime, body: str = "hello") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = when.strftime("%a, %d %b %Y %H:%M:%S +0000")
    msg["Message-ID"] = mid
    msg.set_content(body)
    return msg


def test_folder_keys_join_cloud_dovecot_and_disk_spellings() -> None:
    assert decode_mutf7("&Toh7lw-") == "予算"
    assert decode_mutf7("a&-b") == "a&b"
    assert decode_mutf7("&bad") == "&bad"
    assert folder_key("\\Inbox") == folder_key("INBOX") == folder_key("受信トレイ") == "inbox"
    assert folder_key("\\Archive\\2023") == folder_key("Archive/2023") == "archive/2023"
    assert folder_key("Sent") == folder_key("\\Sent Items") == "sent items"
    assert folder_key("&Toh7lw-") == folder_key("\\予算")
    assert folder_key(None) == folder_key("") == ""


def _write_mailboxes(root: Path) -> None:
    owner = root / "s.ito"
    owner.mkdir(parents=True)
    box = stdlib_mailbox.mbox(str(owner / "Inbox.mbox"))
    box.add(
        _message("<m1@partner.co.jp>", "見積書", "a@mail.partner.co.jp", "s.ito@agency.go.jp", T0 - timedelta(days=3))
    )
    box.add(
        _message(
            "<m2@partner.co.jp>",
            "From the desk",
            "b@partner.co.jp",
            "s.ito@agency.go.jp",
            T0 - timedelta(days=2),
            body="From here on\nbody line",
        )
    )
    box.flush()
    budget = stdlib_mailbox.mbox(str(owner / "&Toh7lw-.mbox"))
    budget.add(_message("<m3@agency.go.jp>", "予算案", "k@agency.go.jp", "s.ito@agency.go.jp", T0 - timedelta(days=1)))
    budget.flush()
    maildir = stdlib_mailbox.Maildir(str(root / "k.sato"), create=True)
    maildir.add(_message("<m4@x.example>", "hi", "z@x.example", "k.sato@agency.go.jp", T0))
    sent = maildir.add_folder("Sent")
    sent.add(_message("<m5@agency.go.jp>", "re", "k.sato@agency.go.jp", "z@x.example", T0))
    eml_dir = root / "t.kato" / "Archive"
    eml_dir.mkdir(parents=True)
    (eml_dir / "one.eml").write_bytes(
        _message("<m6@y.example>", "<script>alert(1)</script>", "y@y.example", "t.kato@agency.go.jp", T0).as_bytes()
    )


def test_mailbox_index_reads_mbox_maildir_and_eml_folders(tmp_path: Path) -> None:
    _write_mailboxes(tmp_path / "boxes")
    ws = Workspace.open(tmp_path / "ws")
    summary = index_path(ws, tmp_path / "boxes", workers=1)
    assert summary.messages == 6
    assert summary.owners == {"s.ito", "k.sato", "t.kato"}
    rows = {r["message_id"]: r for r in load_index(ws).to_pylist()}
    assert rows["<m1@partner.co.jp>"]["folder"] == "Inbox"
    assert rows["<m1@partner.co.jp>"]["subject"] == "見積書"
    assert rows["<m1@partner.co.jp>"]["sender"] == "a@mail.partner.co.jp"
    assert rows["<m1@partner.co.jp>"]["date"] == T0 - timedelta(days=3)
    assert rows["<m2@partner.co.jp>"]["body_text"].startswith("From here on")  # mbox escaping undone
    assert rows["<m3@agency.go.jp>"]["folder"] == "予算"  # modified UTF-7 on disk
    assert rows["<m4@x.example>"]["folder"] == "Inbox" and rows["<m4@x.example>"]["owner"] == "k.sato"
    assert rows["<m5@agency.go.jp>"]["folder"] == "Sent"
    assert rows["<m5@agency.go.jp>"]["folder_key"] == "sent items"
    assert rows["<m6@y.example>"]["folder"] == "Archive"
    assert rows["<m6@y.example>"]["language"] == "en"
    # Indexing the same root again replaces its rows instead of adding duplicates.
    index_path(ws, tmp_path / "boxes", workers=2)
    assert load_index(ws).num_rows == 6


def _event(uid: str, when: datetime, action: str, **kw: object) -> Event:
    base: dict[str, object] = {
        "uid": uid,
        "time": when,
        "event_class": "mailbox_access" if action.startswith("mail_") else "auth",
        "action": action,
        "outcome": "success",
        "user": "s.ito@agency.go.jp",
        "src_ip": None,
        "asn": None,
        "country": None,
        "net_class": None,
        "user_agent": None,
        "protocol": None,
        "session_id": None,
        "app_id": None,
        "folder": None,
        "folders": [],
        "message_ids": [],
        "item_count": None,
        "recipients": [],
        "target": None,
        "params": {},
        "source_format": "m365-audit",
    }
    base.update(kw)
    return Event(**base)  # type: ignore[arg-type]


def test_sessions_are_judged_from_incident_history_and_token_replay() -> None:
    events = [
        _event("e1", T0, "login", src_ip="198.51.100.7", asn="EvilHost", session_id="S-bad"),
        _event("e2", T0, "login", src_ip="203.0.113.10", asn="Office ISP", session_id="S-own"),
        # the attacker's session token replayed from a second address
        _event("e3", T0 + timedelta(hours=1), "mail_read", src_ip="192.0.2.99", asn="Other", session_id="S-bad"),
        _event("e4", T0, "login", src_ip="192.0.2.50", asn="New ISP", session_id="S-new"),
        _event("e5", T0, "login", src_ip="203.0.113.99", asn="Office ISP", session_id="S-near"),
    ]
    sessions = group_sessions(events)
    judge(
        sessions,
        # the incident names both the attacker's and the victim's own address ("one session from two networks")
        Judgement(incident_ips=frozenset({"198.51.100.7", "203.0.113.10"})),
        known_ips={"203.0.113.10"},
        known_asns={"Office ISP"},
    )
    verdicts = {s.id: s.verdict for s in sessions}
    assert verdicts == {
        "m365:S-bad": "attacker",
        "m365:S-own": "legitimate",
        "m365:S-new": "uncertain",
        "m365:S-near": "legitimate",
    }
    own = next(s for s in sessions if s.id == "m365:S-own")
    assert any("used by the account on earlier days" in e for e in own.evidence)


def test_analyst_overrides_win() -> None:
    sessions = group_sessions([_event("e1", T0, "login", src_ip="192.0.2.50", session_id="X")])
    judge(sessions, Judgement(legit_ips=frozenset({"192.0.2.50"})), set(), set())
    assert sessions[0].verdict == "legitimate"
    judge(sessions, Judgement(attacker_sessions=frozenset({"X"}), legit_ips=frozenset({"192.0.2.50"})), set(), set())
    assert sessions[0].verdict == "attacker"


def _index(rows: list[dict[str, object]]) -> pa.Table:
    full = []
    for r in rows:
        base = dict.fromkeys(INDEX_SCHEMA.names)
        base.update({"to": [], "cc": [], "bcc": [], "attachments": []})
        base.update(r)
        full.append(base)
    return pa.Table.from_pylist(full, schema=INDEX_SCHEMA)


def _mailbox() -> MailboxView:
    return MailboxView(
        _index(
            [
                {
                    "uid": "1",
                    "owner": "s.ito",
                    "folder": "Inbox",
                    "folder_key": "inbox",
                    "message_id": "<a>",
                    "date": T0,
                },
                {
                    "uid": "2",
                    "owner": "s.ito",
                    "folder": "Archive/2023",
                    "folder_key": "archive/2023",
                    "message_id": "<b>",
                    "date": T0 - timedelta(days=300),
                },
                {
                    "uid": "3",
                    "owner": "s.ito",
                    "folder": "Archive/2023",
                    "folder_key": "archive/2023",
                    "message_id": "<c>",
                    "date": T0 + timedelta(days=5),
                },
                {
                    "uid": "4",
                    "owner": "k.sato",
                    "folder": "Archive/2023",
                    "folder_key": "archive/2023",
                    "message_id": "<d>",
                    "date": T0 - timedelta(days=1),
                },
            ]
        ),
        {"s.ito", "s.ito@agency.go.jp"},
    )


def test_bind_and_sync_rules() -> None:
    session = ScopedSession("m365:S", "m365", verdict="attacker")
    session.events = [
        _event("bind", T0 + timedelta(hours=1), "mail_read", message_ids=["<a>", "<not-indexed>"], folder="\\Inbox"),
        _event("sync", T0 + timedelta(hours=2), "mail_sync", folders=["\\Archive\\2023"]),
    ]
    result = exposed_messages([session], _mailbox())
    got = {m: (round(e.confidence, 3), sorted(e.access)) for m, e in result.messages.items()}
    # <c> arrived after the Sync; <d> is another person's mailbox.
    assert got == {"<a>": (1.0, ["bind"]), "<not-indexed>": (1.0, ["bind"]), "<b>": (SYNC_CONFIDENCE, ["sync"])}
    assert result.messages["<a>"].evidence == {"bind"}


def test_uncertain_sessions_count_less_and_legitimate_ones_not_at_all() -> None:
    uncertain = ScopedSession("m365:U", "m365", verdict="uncertain")
    uncertain.events = [_event("u", T0 + timedelta(hours=1), "mail_read", message_ids=["<a>"])]
    legit = ScopedSession("m365:L", "m365", verdict="legitimate")
    legit.events = [_event("l", T0 + timedelta(hours=1), "mail_read", message_ids=["<b>"])]
    result = exposed_messages([uncertain, legit], _mailbox())
    assert set(result.messages) == {"<a>"}
    assert result.messages["<a>"].confidence == UNCERTAIN_FACTOR


def test_stock_dovecot_counters_spread_probability_over_candidates() -> None:
    session = ScopedSession("dovecot:D", "dovecot", verdict="attacker")
    session.events = [
        _event("login", T0, "login", source_format="dovecot", session_id="D", src_ip="198.51.100.7"),
        _event(
            "end",
            T0 + timedelta(hours=3),
            "session_end",
            source_format="dovecot",
            session_id="D",
            params={"body_count": "1"},
        ),
    ]
    result = exposed_messages([session], _mailbox())
    # two of s.ito's messages existed by the session's end; one body was fetched
    assert {m: e.confidence for m, e in result.messages.items()} == {"<a>": 0.5, "<b>": 0.5}
    assert any("no message named in the log" in n for n in result.uncertainty)


def test_report_escapes_attacker_strings_everywhere(tmp_path: Path) -> None:
    evil = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    exposure = {
        "version": 1,
        "generated_at": "2024-04-10T00:00:00Z",
        "account": "s.ito@agency.go.jp",
        "aliases": [],
        "incident_id": "INC-1",
        "discovered_at": None,
        "window": {"since": "2024-04-01T00:00:00Z", "until": "2024-04-10T00:00:00Z"},
        "first_attacker_activity": None,
        "last_attacker_activity": None,
        "techniques": [],
        "sessions": [
            {
                "id": evil,
                "kind": "m365",
                "verdict": "attacker",
                "start": "2024-04-02T00:00:00Z",
                "end": "2024-04-02T01:00:00Z",
                "src_ips": ["198.51.100.7"],
                "user_agents": [evil],
                "protocols": [],
                "events": 3,
                "evidence": [evil],
                "event_uids": [],
            }
        ],
        "messages": [
            {
                "message_id": "<a>",
                "folder": evil,
                "date": None,
                "sender": evil,
                "to": [],
                "cc": [],
                "subject": evil,
                "size": 1,
                "attachments": [{"name": evil, "content_type": "text/plain", "size": 1}],
                "access": ["bind"],
                "confidence": 1.0,
                "evidence": [],
                "sessions": [],
                "in_index": True,
                "pii": dict.fromkeys(PII_CATEGORIES, 0),
            }
        ],
        "parties": [
            {
                "organisation": evil,
                "domain": "x.example",
                "domains": ["x.example"],
                "country": evil,
                "language": None,
                "domestic": None,
                "contact": None,
                "in_directory": False,
                "messages": 1,
                "message_ids": ["<a>"],
                "correspondents": [],
                "pii": dict.fromkeys(PII_CATEGORIES, 0),
                "data_subjects": 0,
            }
        ],
        "pii": dict.fromkeys(PII_CATEGORIES, 0),
        "data_subjects": 0,
        "attacker": {"ips": [], "user_agents": [evil], "app_ids": [], "asns": [], "countries": []},
        "summary": {
            "messages": 1,
            "messages_certain": 1,
            "messages_uncertain": 0,
            "messages_not_in_index": 0,
            "sessions_attacker": 1,
            "sessions_uncertain": 0,
            "parties": 1,
            "data_subjects": 0,
        },
        "uncertainty": [evil],
    }
    page = render_html(exposure)  # type: ignore[arg-type]
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    write_report(exposure, tmp_path)  # type: ignore[arg-type]
    assert json.loads((tmp_path / "exposure.json").read_text())["messages"][0]["subject"] == evil
    csv_text = (tmp_path / "messages.csv").read_text()
    assert "<a>" in csv_text
    formula = dict(exposure)
    formula["messages"] = [dict(exposure["messages"][0], subject='=HYPERLINK("http://x")')]  # type: ignore[index]
    write_report(formula, tmp_path)  # type: ignore[arg-type]
    assert "'=HYPERLINK" in (tmp_path / "messages.csv").read_text()


def _mime_samples() -> list[bytes]:
    alt = _message("<x1@a.example>", "alt", "a@a.example", "b@b.example", T0, body="plain 本文")
    alt.add_alternative("<p>html <b>本文</b></p>", subtype="html")
    mixed = _message("<x2@a.example>", "mixed", "a@a.example", "b@b.example", T0, body="see attached")
    mixed.add_alternative("<p>see</p>", subtype="html")
    mixed.add_attachment(
        "名前,電話\n山田,03-1234-5678\n".encode("cp932"), maintype="text", subtype="csv", filename="名簿.csv"
    )
    mixed.add_attachment(b"%PDF-1.4 not really", maintype="application", subtype="pdf", filename="report.pdf")
    html_only = _message("<x3@a.example>", "html", "a@a.example", "b@b.example", T0)
    html_only.set_content("<html><body><script>x()</script><p>only html</p></body></html>", subtype="html")
    broken = (
        b'From: a@a.example\nMessage-ID: <x4@a.example>\nContent-Type: multipart/mixed; boundary="zz"\n\n'
        b"--zz\nContent-Type: text/plain\n\nno closing delimiter\n"
    )
    return [alt.as_bytes(), mixed.as_bytes(), html_only.as_bytes(), broken]


def test_fast_mime_walk_agrees_with_the_email_package() -> None:
    from email.parser import BytesParser
    from email.policy import compat32

    from dwelltime.scope import mailbox as mb

    unit = mb._Unit("s.ito", "Inbox", "eml", "/dev/null", "/")
    for raw in _mime_samples():
        row = mb._row(unit, raw, 0)
        body, attachments = mb._walk(BytesParser(policy=compat32).parsebytes(raw))
        assert " ".join(row["body_text"].split()) == " ".join(body.split())
        assert row["attachments"] == attachments
    mixed = mb._row(unit, _mime_samples()[1], 0)
    assert [a["name"] for a in mixed["attachments"]] == ["名簿.csv", "report.pdf"]
    assert mixed["body_text"].strip() == "see attached"
    assert "x()" not in mb._row(unit, _mime_samples()[2], 0)["body_text"]


def test_a_new_network_shared_with_the_attacker_is_the_attackers_and_deliveries_are_not_sessions() -> None:
    events = [
        _event(
            "a1", T0, "login", src_ip="198.51.100.7", asn="Rotating Hosting", session_id="A", source_format="dovecot"
        ),
        _event(
            "a2", T0, "login", src_ip="198.51.100.9", asn="Rotating Hosting", session_id="B", source_format="dovecot"
        ),
        _event("a3", T0, "login", src_ip="192.0.2.80", asn="Some ISP", session_id="C", source_format="dovecot"),
        _event("d1", T0, "save", session_id="L", source_format="dovecot", protocol="lmtp"),
    ]
    sessions = group_sessions(events)
    assert {s.id for s in sessions} == {"dovecot:A", "dovecot:B", "dovecot:C"}
    judge(sessions, Judgement(incident_ips=frozenset({"198.51.100.7"})), known_ips=set(), known_asns={"Office ISP"})
    assert {s.id: s.verdict for s in sessions} == {
        "dovecot:A": "attacker",
        "dovecot:B": "attacker",
        "dovecot:C": "uncertain",
    }
    # A network the account itself used before the incident is the account's, not the attacker's.
    sessions = group_sessions(events)
    judge(sessions, Judgement(incident_ips=frozenset({"198.51.100.7"})), set(), known_asns={"Rotating Hosting"})
    verdicts = {s.id: s.verdict for s in sessions}
    assert verdicts["dovecot:A"] == "attacker" and verdicts["dovecot:B"] == "legitimate"


def test_shared_indicators_leave_out_what_every_tenant_shows() -> None:
    from dwelltime.scope.run import _attacker

    session = ScopedSession("m365:S", "m365", verdict="attacker")
    session.events = [
        _event(
            "1",
            T0,
            "login",
            src_ip="198.51.100.7",
            user_agent="python-requests/2.31.0",
            app_id="d3590ed6-52b3-4102-aeff-aad2292ab01c",
        ),
        _event(
            "2",
            T0,
            "mail_read",
            src_ip="198.51.100.7",
            user_agent="Client=REST;Client=RESTSystem;;",
            app_id="6f1c0b2a-0000-4000-8000-00000000abcd",
        ),
    ]
    found = _attacker([session])
    assert found["user_agents"] == ["python-requests/2.31.0"]
    assert found["app_ids"] == ["6f1c0b2a-0000-4000-8000-00000000abcd"]
    assert found["ips"] == ["198.51.100.7"]


def test_an_index_written_by_an_older_version_still_loads_and_updates(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from dwelltime.scope.mailbox import index_file

    _write_mailboxes(tmp_path / "boxes")
    ws = Workspace.open(tmp_path / "ws")
    index_path(ws, tmp_path / "boxes", workers=1)
    old = load_index(ws).drop_columns(["attachment_text"])
    pq.write_table(old, index_file(ws))  # the layout before attachment_text existed
    assert load_index(ws).column("attachment_text").null_count == 6
    index_path(ws, tmp_path / "boxes", workers=1)
    assert load_index(ws).num_rows == 6
