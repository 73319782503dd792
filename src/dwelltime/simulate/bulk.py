"""Bulk synthetic records for benchmarks and robustness tests.

Not the organisation simulator: these generators only need the statistical shape
of real exports (operation mix, record sizes, folder lists, counters) at volume,
fast, and deterministically from a seed.  They write the vendor formats directly
and share no code with the parsers.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

_FOLDERS = ("\\Inbox", "\\Sent Items", "\\Archive\\2023", "\\Inbox\\Partners", "\\Projects\\Budget", "\\Deleted Items")
_CLIENTS = (
    "Client=OWA;Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36;",
    "Client=MSExchangeRPC",
    "Client=REST;Client=RESTSystem;;",
    "Client=Exchange ActiveSync;Protocol=EAS;",
)
_OPS = (
    ("MailItemsAccessed", 50),
    ("UserLoggedIn", 22),
    ("Send", 8),
    ("UserLoginFailed", 5),
    ("MoveToDeletedItems", 5),
    ("SoftDelete", 2),
    ("New-InboxRule", 1),
    ("Set-Mailbox", 1),
    ("FileAccessed", 6),
)


def _ip(rng: random.Random) -> str:
    return f"{rng.choice((133, 126, 153, 202, 219, 20, 52, 45))}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


_OFFICE = ("203.0.113.10", "203.0.113.11", "203.0.113.12", "203.0.113.13")


def _user_ip(rng: random.Random, user_index: int) -> str:
    """Where a user's traffic comes from: mostly the office NAT, else one of their home / mobile
    addresses, rarely anywhere (a realistic distinct-address count, ~1 per 50 records)."""
    roll = rng.random()
    if roll < 0.6:
        return rng.choice(_OFFICE)
    if roll < 0.98:
        return f"126.{(user_index >> 8) & 255}.{user_index & 255}.{rng.randrange(1, 5)}"
    return _ip(rng)


def m365_records(count: int, seed: int = 1, users: int = 2000, days: int = 30) -> Iterator[dict[str, object]]:
    """Management Activity API records with a realistic operation mix (~1.3 KB each on average)."""
    rng = random.Random(seed)
    start = datetime(2024, 3, 1, tzinfo=UTC)
    ops, weights = zip(*_OPS, strict=True)
    tenant = str(uuid.UUID(int=rng.getrandbits(128)))
    for i in range(count):
        op = rng.choices(ops, weights)[0]
        # Exports come roughly in time order: a steady clock with a little disorder.
        when = start + timedelta(seconds=int(i * days * 86400 / max(count, 1)) + rng.randrange(-60, 60))
        user_index = rng.randrange(users)
        user = f"user{user_index:05d}@example.go.jp"
        ip = _ip(rng) if op == "UserLoginFailed" and rng.random() < 0.5 else _user_ip(rng, user_index)
        rec: dict[str, object] = {
            "CreationTime": when.strftime("%Y-%m-%dT%H:%M:%S"),
            "Id": str(uuid.UUID(int=rng.getrandbits(128) ^ i)),
            "Operation": op,
            "OrganizationId": tenant,
            "RecordType": 2,
            "ResultStatus": "Succeeded",
            "UserKey": f"1003{rng.getrandbits(40):X}",
            "UserType": 0,
            "Version": 1,
            "Workload": "Exchange",
            "UserId": user,
        }
        if op == "MailItemsAccessed":
            folders = []
            for _ in range(rng.randint(1, 2)):
                items = [
                    {
                        "Id": "LgAAAAAdhAMRqmYRzZvIAKoAL8RaDQBi" + format(rng.getrandbits(96), "024X"),
                        "InternetMessageId": f"<{rng.getrandbits(64):x}.{rng.getrandbits(20)}@mail.example.go.jp>",
                        "SizeInBytes": rng.randint(2_000, 400_000),
                    }
                    for _ in range(rng.randint(1, 4))
                ]
                folders.append(
                    {
                        "FolderItems": items,
                        "Id": "LgAAAAAd" + format(rng.getrandbits(64), "016X"),
                        "Path": rng.choice(_FOLDERS),
                    }
                )
            sync = rng.random() < 0.2
            rec.update(
                {
                    "AppId": "00000002-0000-0ff1-ce00-000000000000",
                    "ClientAppId": "",
                    "ClientIPAddress": ip,
                    "ClientInfoString": rng.choice(_CLIENTS),
                    "ExternalAccess": False,
                    "InternalLogonType": 0,
                    "LogonType": 0,
                    "LogonUserSid": "S-1-5-21-" + str(rng.getrandbits(32)),
                    "MailboxGuid": str(uuid.UUID(int=rng.getrandbits(128))),
                    "MailboxOwnerSid": "S-1-5-21-" + str(rng.getrandbits(32)),
                    "MailboxOwnerUPN": user,
                    "OperationProperties": [
                        {"Name": "MailAccessType", "Value": "Sync" if sync else "Bind"},
                        {"Name": "IsThrottled", "Value": "False"},
                    ],
                    "OrganizationName": "example.onmicrosoft.com",
                    "OriginatingServer": "TYCP286MB2345 (15.20.7000.000)",
                    "SessionId": str(uuid.UUID(int=rng.getrandbits(128))),
                    "Folders": folders,
                    "OperationCount": sum(len(f["FolderItems"]) for f in folders),
                }
            )
        elif op in ("UserLoggedIn", "UserLoginFailed"):
            rec.update(
                {
                    "RecordType": 15,
                    "Workload": "AzureActiveDirectory",
                    "ResultStatus": "Success" if op == "UserLoggedIn" else "Failed",
                    "ClientIP": ip,
                    "ActorIpAddress": ip,
                    "ApplicationId": "00000002-0000-0ff1-ce00-000000000000",
                    "AzureActiveDirectoryEventType": 1,
                    "ExtendedProperties": [
                        {"Name": "ResultStatusDetail", "Value": "Success" if op == "UserLoggedIn" else "UserError"},
                        {"Name": "UserAgent", "Value": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Edg/120.0"},
                        {"Name": "RequestType", "Value": "OAuth2:Authorize"},
                    ],
                    "ModifiedProperties": [],
                    "Actor": [{"ID": str(uuid.UUID(int=rng.getrandbits(128))), "Type": 0}, {"ID": user, "Type": 5}],
                    "ActorContextId": tenant,
                    "InterSystemsId": str(uuid.UUID(int=rng.getrandbits(128))),
                    "IntraSystemId": str(uuid.UUID(int=rng.getrandbits(128))),
                    "SupportTicketId": "",
                    "Target": [{"ID": "00000002-0000-0ff1-ce00-000000000000", "Type": 0}],
                    "TargetContextId": tenant,
                    "DeviceProperties": [
                        {"Name": "OS", "Value": "Windows10"},
                        {"Name": "BrowserType", "Value": "Edge"},
                        {"Name": "IsCompliantAndManaged", "Value": "False"},
                        {"Name": "SessionId", "Value": str(uuid.UUID(int=rng.getrandbits(128)))},
                    ],
                    "ErrorNumber": "0" if op == "UserLoggedIn" else "50126",
                }
            )
            if op == "UserLoginFailed":
                rec["LogonError"] = "InvalidUserNameOrPassword"
        elif op in ("Send", "MoveToDeletedItems", "SoftDelete"):
            item = {
                "Id": "RgAAAAAdhAMRqmYRzZvIAKoAL8RaBwBi" + format(rng.getrandbits(96), "024X"),
                "InternetMessageId": f"<{rng.getrandbits(64):x}@mail.example.go.jp>",
                "ParentFolder": {"Id": "LgAAAAAd" + format(rng.getrandbits(64), "016X"), "Path": rng.choice(_FOLDERS)},
                "SizeInBytes": rng.randint(2_000, 200_000),
                "Subject": f"Re: 会議の件 #{rng.randrange(10_000)} — quarterly partner review",
            }
            rec.update(
                {
                    "ClientIP": ip,
                    "ClientIPAddress": ip,
                    "ClientInfoString": rng.choice(_CLIENTS),
                    "LogonType": 0,
                    "MailboxGuid": str(uuid.UUID(int=rng.getrandbits(128))),
                    "MailboxOwnerUPN": user,
                    "SessionId": str(uuid.UUID(int=rng.getrandbits(128))),
                }
            )
            if op == "Send":
                rec["Item"] = item
            else:
                rec["AffectedItems"] = [item]
                rec["Folder"] = item["ParentFolder"]
        elif op in ("New-InboxRule", "Set-Mailbox"):
            rec.update({"ClientIP": f"{ip}:{rng.randrange(1024, 65535)}", "ObjectId": user, "RecordType": 1})
            if op == "New-InboxRule":
                rec["Parameters"] = [
                    {"Name": "Name", "Value": "."},
                    {"Name": "SubjectContainsWords", "Value": "invoice;payment;wire"},
                    {"Name": "MoveToFolder", "Value": "RSS Subscriptions"},
                    {"Name": "StopProcessingRules", "Value": "True"},
                ]
            else:
                rec["Parameters"] = [
                    {"Name": "Identity", "Value": user},
                    {"Name": "ForwardingSmtpAddress", "Value": "smtp:archive@example.net"},
                    {"Name": "DeliverToMailboxAndForward", "Value": "True"},
                ]
        else:
            rec.update(
                {
                    "Workload": "SharePoint",
                    "RecordType": 6,
                    "ClientIP": ip,
                    "ObjectId": f"https://example.sharepoint.com/sites/team/Shared Documents/report-{i}.docx",
                    "UserAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0",
                    "SiteUrl": "https://example.sharepoint.com/sites/team/",
                    "SourceFileName": f"report-{i}.docx",
                    "SourceRelativeUrl": "Shared Documents",
                    "ItemType": "File",
                    "EventSource": "SharePoint",
                }
            )
        yield rec


def write_m365_ndjson(path: Path, count: int, seed: int = 1) -> int:
    """Write ``count`` records as one JSON object per line; returns bytes written."""
    with path.open("wb") as handle:
        batch: list[bytes] = []
        for rec in m365_records(count, seed):
            batch.append(orjson.dumps(rec))
            if len(batch) >= 10_000:
                handle.write(b"\n".join(batch) + b"\n")
                batch = []
        if batch:
            handle.write(b"\n".join(batch) + b"\n")
        return handle.tell()


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def dovecot_lines(count: int, seed: int = 1, users: int = 2000, days: int = 30) -> Iterator[str]:
    """Dovecot 2.3 syslog lines in time order: logins, failures, logouts with counters, mail_log events."""
    rng = random.Random(seed)
    start = datetime(2024, 3, 1, tzinfo=UTC)
    step = days * 86400 / max(count, 1)
    for i in range(count):
        when = start + timedelta(seconds=int(i * step))
        stamp = f"{_MONTHS[when.month - 1]} {when.day:2d} {when:%H:%M:%S}"
        user_index = rng.randrange(users)
        user = f"user{user_index:05d}"
        ip = _user_ip(rng, user_index)
        pid = rng.randrange(1000, 65000)
        session = format(rng.getrandbits(64), "x")
        kind = rng.random()
        if kind < 0.30:
            msg = (
                f"imap-login: Login: user=<{user}>, method=PLAIN, rip={ip}, lip=192.0.2.10, mpid={pid}, TLS, "
                f"session=<{session}>"
            )
        elif kind < 0.60:
            msg = (
                f"imap({user})<{pid}><{session}>: Logged out in={rng.randrange(100, 9000)} "
                f"out={rng.randrange(500, 900000)} deleted=0 expunged=0 trashed=0 hdr_count={rng.randrange(50)} "
                f"hdr_bytes={rng.randrange(90000)} body_count={rng.randrange(20)} body_bytes={rng.randrange(800000)}"
            )
        elif kind < 0.75:
            msg = (
                f"imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<{user}>, method=PLAIN, "
                f"rip={ip}, lip=192.0.2.10, TLS, session=<{session}>"
            )
        elif kind < 0.90:
            msg = (
                f"imap({user})<{pid}><{session}>: copy from INBOX: box=Archive, uid={rng.randrange(90000)}, "
                f"msgid=<{rng.getrandbits(48):x}@example.go.jp>, size={rng.randrange(2000, 90000)}"
            )
        else:
            msg = f"pop3-login: Disconnected (no auth attempts in 0 secs): user=<>, rip={ip}, lip=192.0.2.10"
        yield f"{stamp} mail dovecot: {msg}"


def write_dovecot_log(path: Path, count: int, seed: int = 1) -> int:
    """Write ``count`` Dovecot lines; returns bytes written."""
    with path.open("w", encoding="utf-8") as handle:
        batch: list[str] = []
        for line in dovecot_lines(count, seed):
            batch.append(line)
            if len(batch) >= 50_000:
                handle.write("\n".join(batch) + "\n")
                batch = []
        if batch:
            handle.write("\n".join(batch) + "\n")
        return handle.tell()
