"""A small hand-built organisation and an in-memory mailbox corpus for scenario tests.

The real org builder and corpus are separate components; these fakes implement only what the
scenarios call (the Corpus API of the simulator brief), with messages whose arrival times are
known, so tests can check exactly which messages an attacker could have read.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from dwelltime.simulate.activity import Client, MessageRef, Network
from dwelltime.simulate.model import MailHost, Org, Partner, User

START = date(2024, 4, 1)
DAYS = 60
OFFICE = (Network("203.0.113.10", "JP", 4713, "NTT Communications Corporation", "office", "Tokyo"),)
OFFICE_AFTER = (Network("203.0.113.80", "JP", 2516, "KDDI CORPORATION", "office", "Tokyo"),)
OUTLOOK = Client(
    "outlook", "Microsoft Office/16.0", "Client=MSExchangeRPC", "Mobile Apps and Desktop clients", "", "", "mapi"
)

_ROLES = ("executive", "manager", "manager", "admin", "service") + ("staff",) * 15


def make_user(i: int, role: str, start: date = date(2020, 4, 1)) -> User:
    home = Network(f"198.51.100.{i + 1}", "JP", 17676, "SoftBank Corp.", "isp", "Tokyo")
    return User(
        upn=f"user{i:02d}@example.go.jp",
        login=f"user{i:02d}",
        name_ja=f"利用者{i}",
        name_en=f"User {i}",
        department=("general", "finance", "policy")[i % 3],
        role=role,
        home=home,
        home_pool=("198.51.100.0/24",),
        mobile=None,
        mobile_pool=(),
        clients=(OUTLOOK,),
        mobile_poll_minutes=None,
        imap_user=False,
        vpn_user=False,
        traveller=False,
        start=start,
        work_hours=(9, 18),
    )


def make_org(kind: str = "hybrid", users: int = 20, new_staff: int = 0) -> Org:
    people = [make_user(i, _ROLES[i % len(_ROLES)]) for i in range(users)]
    people += [make_user(users + j, "staff", START + timedelta(days=20)) for j in range(new_staff)]
    return Org(
        kind=kind,
        name="Example Agency",
        domain="example.go.jp",
        tenant_id="00000000-0000-4000-8000-000000000001",
        timezone="Asia/Tokyo",
        users=tuple(people),
        office=OFFICE,
        office_after_change=OFFICE_AFTER,
        isp_change_day=START + timedelta(days=30),
        partners=(Partner("Partner KK", "partner.example.co.jp", "JP", "ja", ("tanaka@partner.example.co.jp",)),),
        hosts=(
            MailHost("mx1", "192.0.2.25", "gateway"),
            MailHost("mta1", "10.0.0.25", "mta"),
            MailHost("imap1", "10.0.0.143", "mailstore"),
        ),
        admins=tuple(u.upn for u in people if u.role == "admin"),
    )


FOLDERS = ("Inbox", "Sent Items", "Deleted Items", "Archive/2023", "Projects/Alpha", "Partners")


class FakeMailbox:
    """Messages with arrival times: archives filled before the period, live folders daily."""

    def __init__(self, upn: str, per_day: int = 6) -> None:
        self.upn = upn
        self._by_folder: dict[str, list[tuple[datetime, MessageRef]]] = {f: [] for f in FOLDERS}
        local = upn.split("@")[0]
        begin = datetime(2023, 1, 1, tzinfo=UTC)
        for folder, count in (("Archive/2023", 120), ("Projects/Alpha", 45), ("Partners", 30)):
            for k in range(count):
                self._add(folder, begin + timedelta(days=k * 2), f"<{local}.{folder}.{k}@example.go.jp>")
        first = datetime(2024, 3, 1, tzinfo=UTC)
        for d in range(120):
            for k in range(per_day):
                when = first + timedelta(days=d, hours=1 + k * 1.5)
                folder = "Sent Items" if k % 3 == 2 else "Inbox"
                self._add(folder, when, f"<{local}.{d}.{k}@example.go.jp>")

    def _add(self, folder: str, when: datetime, mid: str) -> None:
        self._by_folder[folder].append((when, MessageRef(mid, folder, 2000 + len(mid) * 10)))

    def folders(self) -> list[str]:
        return list(FOLDERS)

    def messages_in(self, folder: str, at: datetime) -> list[MessageRef]:
        return [m for t, m in self._by_folder.get(folder, []) if t <= at]

    def arrival(self, message_id: str) -> datetime:
        for items in self._by_folder.values():
            for t, m in items:
                if m.message_id == message_id:
                    return t
        raise KeyError(message_id)


class FakeCorpus:
    def __init__(self, org: Org) -> None:
        self.org = org
        self.boxes: dict[str, FakeMailbox] = {}

    def mailbox(self, upn: str) -> FakeMailbox:
        if upn not in self.boxes:
            self.boxes[upn] = FakeMailbox(upn)
        return self.boxes[upn]

    def correspondents(self, upn: str) -> list[str]:
        colleagues = [u.upn for u in self.org.users if u.upn != upn][:8]
        return [
            *colleagues,
            "tanaka@partner.example.co.jp",
            "sato@partner.example.co.jp",
            "TANAKA@partner.example.co.jp",
        ]
