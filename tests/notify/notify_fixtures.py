"""Hand-built exposure reports in the contract's shape, for the notify tests.

One realistic incident: a cloud mailbox (taro.yamada@example.co.jp) read by an attacker from
two addresses over two days; three outside organisations (a Japanese supplier, a US customer,
a German partner) plus mail among colleagues.  ``hostile()`` plants attacker-controlled markup
in every string an outsider can choose.
"""

from __future__ import annotations

import copy
from pathlib import Path

from dwelltime.scope.contract import (
    EXPOSURE_VERSION,
    Attacker,
    ExposedMessage,
    Exposure,
    Party,
    Session,
    Summary,
    empty_pii,
)

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(2)>'
MDLINK = "[click](javascript:alert(3)) ![x](http://evil.example/x.png)"
NASTY_UA = "Mozilla/5.0 (it's \\ a 'test') " + SCRIPT


def _pii(**counts: int) -> dict[str, int]:
    pii = empty_pii()
    pii.update(counts)
    return pii


def _message(
    n: int,
    date: str,
    sender: str,
    to: list[str],
    subject: str,
    *,
    confidence: float = 1.0,
    access: str = "bind",
    in_index: bool = True,
    **pii: int,
) -> ExposedMessage:
    return ExposedMessage(
        message_id=f"<msg{n}@mail.example.co.jp>",
        folder="Inbox",
        date=date,
        sender=sender,
        to=to,
        cc=[],
        subject=subject,
        size=20_000 + n,
        attachments=[{"name": f"invoice-{n}.pdf", "content_type": "application/pdf", "size": 12_345}],
        access=[access],
        confidence=confidence,
        evidence=[f"ev{n:04d}"],
        sessions=["sess-a"],
        in_index=in_index,
        pii=_pii(**pii),
    )


def exposure() -> Exposure:
    """A realistic report: 7 messages, 3 outside parties and one internal one."""
    messages = [
        _message(
            1,
            "2024-03-28T01:15:00Z",
            "sato@supplier.co.jp",
            ["taro.yamada@example.co.jp"],
            "見積書の送付",
            person_name=2,
            email=2,
            phone=1,
        ),
        _message(
            2,
            "2024-04-02T06:40:00Z",
            "taro.yamada@example.co.jp",
            ["sato@supplier.co.jp"],
            "Re: 振込先口座のご案内",
            bank_account=1,
            person_name=1,
        ),
        _message(
            3,
            "2024-04-05T23:05:00Z",
            "ito@mail.supplier.co.jp",
            ["taro.yamada@example.co.jp"],
            "健康診断結果の件",
            confidence=0.6,
            access="sync",
            health=1,
            person_name=1,
            date_of_birth=1,
        ),
        _message(
            4,
            "2024-03-30T14:00:00Z",
            "jane@customer.com",
            ["taro.yamada@example.co.jp"],
            "Q2 order and card",
            payment_card=1,
            person_name=1,
            email=1,
        ),
        _message(
            5,
            "2024-04-01T09:30:00Z",
            "taro.yamada@example.co.jp",
            ["jane@customer.com"],
            "Shipping address",
            postal_address=1,
            phone=1,
        ),
        _message(
            6,
            "2024-04-03T10:00:00Z",
            "max@partner.de",
            ["taro.yamada@example.co.jp"],
            "Vertrag",
            in_index=False,
            confidence=0.95,
        ),
        _message(
            7, "2024-04-04T02:00:00Z", "hanako@example.co.jp", ["taro.yamada@example.co.jp"], "社内連絡", person_name=1
        ),
    ]
    parties = [
        Party(
            organisation="Supplier KK",
            domain="supplier.co.jp",
            domains=["supplier.co.jp", "mail.supplier.co.jp"],
            country=None,
            language=None,
            domestic=None,
            contact=None,
            in_directory=False,
            messages=3,
            message_ids=[m["message_id"] for m in messages[:3]],
            correspondents=["sato@supplier.co.jp", "ito@mail.supplier.co.jp"],
            pii=_pii(person_name=4, email=2, phone=1, bank_account=1, health=1, date_of_birth=1),
            data_subjects=5,
        ),
        Party(
            organisation="customer.com",
            domain="customer.com",
            domains=["customer.com"],
            country="US",
            language="en",
            domestic=False,
            contact="security@customer.com",
            in_directory=True,
            messages=2,
            message_ids=[m["message_id"] for m in messages[3:5]],
            correspondents=["jane@customer.com"],
            pii=_pii(person_name=1, email=1, payment_card=1, postal_address=1, phone=1),
            data_subjects=2,
        ),
        Party(
            organisation="partner.de",
            domain="partner.de",
            domains=["partner.de"],
            country=None,
            language=None,
            domestic=None,
            contact=None,
            in_directory=False,
            messages=1,
            message_ids=[messages[5]["message_id"]],
            correspondents=["max@partner.de"],
            pii=empty_pii(),
            data_subjects=1,
        ),
        Party(
            organisation="example.co.jp",
            domain="example.co.jp",
            domains=["example.co.jp"],
            country="JP",
            language="ja",
            domestic=True,
            contact=None,
            in_directory=False,
            messages=1,
            message_ids=[messages[6]["message_id"]],
            correspondents=["hanako@example.co.jp"],
            pii=_pii(person_name=1),
            data_subjects=1,
        ),
    ]
    sessions = [
        Session(
            id="sess-a",
            kind="m365",
            verdict="attacker",
            start="2024-04-08T17:02:11Z",
            end="2024-04-08T19:45:00Z",
            src_ips=["203.0.113.45"],
            user_agents=["python-requests/2.31.0"],
            protocols=["graph"],
            events=412,
            evidence=["IP 203.0.113.45 is an incident source"],
            event_uids=["ev0001", "ev0002"],
        ),
        Session(
            id="sess-b",
            kind="m365",
            verdict="attacker",
            start="2024-04-09T03:10:00Z",
            end="2024-04-09T04:22:37Z",
            src_ips=["2001:db8::7"],
            user_agents=["Mozilla/5.0 (Windows NT 10.0; Win64; x64)"],
            protocols=["owa"],
            events=57,
            evidence=["new hosting AS"],
            event_uids=["ev0003"],
        ),
        Session(
            id="sess-c",
            kind="m365",
            verdict="legitimate",
            start="2024-04-08T00:00:00Z",
            end="2024-04-08T08:00:00Z",
            src_ips=["198.51.100.10"],
            user_agents=["Outlook"],
            protocols=["owa"],
            events=80,
            evidence=["usual office network"],
            event_uids=["ev0004"],
        ),
    ]
    return Exposure(
        version=EXPOSURE_VERSION,
        generated_at="2024-04-10T12:00:00Z",
        account="taro.yamada@example.co.jp",
        aliases=["t-yamada@example.co.jp"],
        incident_id="INC-0a1b2c3d4e5f",
        discovered_at="2024-04-10T09:00:00Z",
        window={"since": "2024-04-01T00:00:00Z", "until": "2024-04-10T09:00:00Z"},
        first_attacker_activity="2024-04-08T17:02:11Z",
        last_attacker_activity="2024-04-09T04:22:37Z",
        techniques=["T1078.004", "T1114.002", "T1564.008"],
        sessions=sessions,
        messages=messages,
        parties=parties,
        pii=_pii(
            person_name=6, email=3, phone=2, postal_address=1, bank_account=1, payment_card=1, date_of_birth=1, health=1
        ),
        data_subjects=9,
        attacker=Attacker(
            ips=["203.0.113.45", "2001:db8::7"],
            user_agents=["python-requests/2.31.0", "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"],
            app_ids=["00000002-0000-0ff1-ce00-000000000000"],
            asns=["AS64500"],
            countries=["NL"],
        ),
        summary=Summary(
            messages=7,
            messages_certain=6,
            messages_uncertain=1,
            messages_not_in_index=1,
            sessions_attacker=2,
            sessions_uncertain=0,
            parties=4,
            data_subjects=9,
        ),
        uncertainty=["1 message was inferred from a Sync of its folder and may not have been opened."],
    )


INCIDENT = {
    "id": "INC-0a1b2c3d4e5f",
    "entity": "taro.yamada@example.co.jp",
    "entity_type": "user",
    "opened_at": "2024-04-09T04:30:00Z",
    "first_event_at": "2024-04-08T17:02:11Z",
    "last_event_at": "2024-04-09T04:22:37Z",
    "severity": "high",
    "score": 130.0,
    "detections": ["dt.signin.new_hosting_asn", "dt.mailbox.inbox_rule_hides_mail"],
    "techniques": ["T1078.004", "T1564.008"],
    "src_ips": ["203.0.113.45"],
    "alert_count": 2,
}

PARTNERS_CSV = """organisation,domain,country,contact,language,domestic
サプライヤー株式会社,supplier.co.jp;mail.supplier.co.jp,JP,情報セキュリティ室 security@supplier.co.jp,ja,yes
Customer Inc.,customer.com,US,security@customer.com,en,foreign
Partner GmbH,partner.de www.partner.de,DE,dpo@partner.de,,no
"""


def write_partners(directory: Path, text: str = PARTNERS_CSV) -> Path:
    path = directory / "partners.csv"
    path.write_text(text, encoding="utf-8")
    return path


def hostile() -> Exposure:
    """The same report with markup planted in subjects, names, file names, user agents, organisations."""
    doc = copy.deepcopy(exposure())
    payloads = [SCRIPT, IMG, MDLINK]
    for i, message in enumerate(doc["messages"]):
        message["subject"] = f"{payloads[i % 3]} 件名 {payloads[(i + 1) % 3]}"
        message["attachments"][0]["name"] = f"{SCRIPT}.pdf"
        message["folder"] = IMG
    for i, party in enumerate(doc["parties"]):
        party["organisation"] = f"{payloads[i % 3]} Org"
    doc["parties"][0]["domain"] = "supplier.co.jp"
    doc["attacker"]["user_agents"].append(NASTY_UA)
    doc["sessions"][0]["user_agents"].append(NASTY_UA)
    doc["uncertainty"].append(f"{SCRIPT} {MDLINK}")
    doc["account"] = f"{IMG}@example.co.jp"
    doc["aliases"] = ["t-yamada@example.co.jp"]
    return doc


HOSTILE_PARTNERS_CSV = f"""organisation,domain,country,contact,language,domestic
"{SCRIPT.replace('"', '""')} 株式会社",supplier.co.jp,JP,"{IMG.replace('"', '""')}",ja,yes
"{MDLINK} Inc.",customer.com,US,"{MDLINK}",en,no
../../etc/passwd,partner.de,DE,dpo@partner.de,en,no
"""
