"""Benign behaviour: determinism, statistical sanity, and each planted confounder where it belongs.

Runs against a tiny in-memory corpus with the Corpus API of the simulator brief, so these
tests do not depend on the mailbox generator.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dwelltime.simulate.activity import (
    Activity,
    AdminAction,
    Connection,
    MailboxChange,
    MailboxRead,
    MailFlow,
    MailSend,
    MessageRef,
    SignIn,
)
from dwelltime.simulate.benign import FLIGHTS, BenignBehaviour
from dwelltime.simulate.calendar import is_working_day
from dwelltime.simulate.model import Org
from dwelltime.simulate.org import build_org

TOKYO = ZoneInfo("Asia/Tokyo")
START = date(2024, 4, 1)


class FakeMailbox:
    def __init__(self, upn: str, seed: int) -> None:
        self.upn = upn
        self.seed = seed

    def folders(self) -> list[str]:
        return ["Inbox", "Sent Items", "Archive/2023"]

    def arrivals(self, day: date) -> list[MessageRef]:
        rng = random.Random(f"{self.seed}:{self.upn}:{day}")
        n_in = rng.randint(15, 35) if is_working_day(day) else rng.randint(0, 3)
        n_out = rng.randint(2, 8) if is_working_day(day) else 0
        return [
            MessageRef(
                f"<{day:%Y%m%d}.{i}.{self.upn}>", "Sent Items" if i < n_out else "Inbox", rng.randint(3000, 90000)
            )
            for i in range(n_in + n_out)
        ]

    def messages_in(self, folder: str, at: datetime) -> list[MessageRef]:
        return []

    def message(self, message_id: str) -> MessageRef:
        return MessageRef(message_id, "Inbox", 1000)


class FakeCorpus:
    def __init__(self, org: Org, seed: int = 0) -> None:
        self.org = org
        self.seed = seed
        colleagues = [u.upn for u in org.users]
        partners = [c for p in org.partners for c in p.contacts]
        self._corr = {u.upn: sorted(set(random.Random(u.upn).sample(colleagues + partners, 8))) for u in org.users}

    def mailbox(self, upn: str) -> FakeMailbox:
        return FakeMailbox(upn, self.seed)

    def correspondents(self, upn: str) -> list[str]:
        return self._corr[upn]


def _run(kind: str, users: int, days: int, seed: int = 7) -> tuple[Org, list[list[Activity]]]:
    org = build_org(kind, users, seed, START, days)
    beh = BenignBehaviour(org, FakeCorpus(org), START, days, seed)
    return org, [beh.day(START + timedelta(days=i)) for i in range(days)]


@pytest.fixture(scope="module")
def cloud() -> tuple[Org, list[list[Activity]]]:
    return _run("cloud", 150, 50)


@pytest.fixture(scope="module")
def hybrid() -> tuple[Org, list[list[Activity]]]:
    return _run("hybrid", 120, 30)


def _flat(days: list[list[Activity]]) -> list[Activity]:
    return [a for day in days for a in day]


def _key(a: Activity) -> tuple[object, ...]:
    return (type(a).__name__, *(getattr(a, f) for f in a.__dataclass_fields__))  # type: ignore[attr-defined]


def test_same_seed_same_activities_in_any_order() -> None:
    org = build_org("hybrid", 60, 3, START, 10)
    a = BenignBehaviour(org, FakeCorpus(org), START, 10, 3)
    b = BenignBehaviour(org, FakeCorpus(org), START, 10, 3)
    days = [START + timedelta(days=i) for i in range(10)]
    forward = [[_key(x) for x in a.day(d)] for d in days]
    backward = {d: [_key(x) for x in b.day(d)] for d in reversed(days)}
    assert forward == [backward[d] for d in days]
    c = BenignBehaviour(org, FakeCorpus(org), START, 10, 4)
    assert [_key(x) for x in c.day(days[2])] != forward[2]


def test_days_are_time_sorted_and_inside_their_tokyo_day(cloud: tuple[Org, list[list[Activity]]]) -> None:
    _, days = cloud
    for i, acts in enumerate(days):
        d = START + timedelta(days=i)
        times = [a.time for a in acts]
        assert times == sorted(times)
        assert all(t.tzinfo is not None and t.astimezone(TOKYO).date() == d for t in times)


def test_benign_signins_mostly_from_japan(cloud: tuple[Org, list[list[Activity]]]) -> None:
    _, days = cloud
    signins = [a for a in _flat(days) if isinstance(a, SignIn) and a.success]
    jp = sum(1 for a in signins if a.network.country == "JP")
    assert jp / len(signins) >= 0.90
    assert jp < len(signins)  # travellers and VPN users exist


def test_login_hours_follow_the_working_day(cloud: tuple[Org, list[list[Activity]]]) -> None:
    _, days = cloud
    hours: Counter[int] = Counter()
    working, closed = 0, 0
    for i, acts in enumerate(days):
        d = START + timedelta(days=i)
        for a in acts:
            if isinstance(a, SignIn) and a.success and a.confounder not in ("mobile-polling", "travel", "new-staff"):
                if is_working_day(d):
                    working += 1
                    hours[a.time.astimezone(TOKYO).hour] += 1
                else:
                    closed += 1
    in_hours = sum(n for h, n in hours.items() if 7 <= h <= 19)
    assert in_hours / sum(hours.values()) >= 0.75
    assert sum(n for h, n in hours.items() if 1 <= h <= 5) / sum(hours.values()) < 0.01
    n_working = sum(is_working_day(START + timedelta(days=i)) for i in range(len(days)))
    assert closed / (len(days) - n_working) < 0.3 * working / n_working


def test_each_phone_polls_within_its_configured_range(cloud: tuple[Org, list[list[Activity]]]) -> None:
    org, days = cloud
    polls: dict[str, list[datetime]] = defaultdict(list)
    for a in _flat(days):
        if (
            isinstance(a, MailboxRead)
            and a.access_type == "Sync"
            and a.client is not None
            and a.client.kind == "mobile"
        ):
            polls[a.user].append(a.time)
    phones = [u for u in org.users if u.mobile_poll_minutes is not None]
    assert 0.45 <= len(phones) / len(org.users) <= 0.75
    assert {u.upn for u in phones} == set(polls)
    for u in phones:
        if u.traveller:
            continue  # phone off during flights
        lo, hi = u.mobile_poll_minutes or (0, 0)
        gaps = [(b - a).total_seconds() / 60 for a, b in zip(polls[u.upn], polls[u.upn][1:], strict=False)]
        assert gaps and all(lo - 0.02 <= g <= hi + 0.02 for g in gaps), (u.upn, lo, hi, min(gaps), max(gaps))


def test_few_asns_per_user(cloud: tuple[Org, list[list[Activity]]]) -> None:
    org, days = cloud
    asns: dict[str, set[int | None]] = defaultdict(set)
    for a in _flat(days):
        if isinstance(a, SignIn) and a.success:
            asns[a.user].add(a.network.asn)
    plain = [u.upn for u in org.users if not (u.vpn_user or u.traveller) and u.role != "service" and u.upn in asns]
    counts = sorted(len(asns[u]) for u in plain)
    assert counts[len(counts) // 2] <= 3  # office ISP(s) + home ISP + carrier
    assert max(counts) <= 5


def test_client_mix_as_configured(cloud: tuple[Org, list[list[Activity]]]) -> None:
    org, days = cloud
    seen: dict[str, set[str]] = defaultdict(set)
    for a in _flat(days):
        client = getattr(a, "client", None)
        if client is not None and a.confounder != "password-guessing":
            seen[a.user].add(client.kind)
    for u in org.users:
        if u.role == "service" or u.upn not in seen:
            continue
        assert seen[u.upn] <= {c.kind for c in u.clients}
    outlook = sum(1 for u in org.users if "outlook" in seen[u.upn])
    assert outlook / len(org.users) > 0.8
    assert not any(u.imap_user for u in org.users)  # no IMAP in a cloud-only org


def test_volume_per_user_day_is_bounded(cloud: tuple[Org, list[list[Activity]]]) -> None:
    _, days = cloud
    per: Counter[tuple[int, str]] = Counter()
    for i, acts in enumerate(days):
        for a in acts:
            if a.confounder not in ("password-guessing", "gateway-traffic"):
                per[(i, a.user)] += 1
    working = [n for (i, _), n in per.items() if is_working_day(START + timedelta(days=i))]
    working.sort()
    assert 20 <= working[len(working) // 2] <= 150
    assert working[-1] < 400


def test_no_signin_abroad_before_landing(cloud: tuple[Org, list[list[Activity]]]) -> None:
    org, days = cloud
    beh = BenignBehaviour(org, FakeCorpus(org), START, 50, 7)
    trips = [t for ts in beh.trips.values() for t in ts]
    assert trips, "some traveller should have a trip in 50 days"
    for t in trips:
        _, out_h, back_h, *_ = FLIGHTS[t.country]
        assert abs((t.out_land - t.out_depart) / 3600 - out_h) <= 0.6
        assert abs((t.back_land - t.back_depart) / 3600 - back_h) <= 0.6
    abroad = [a for a in _flat(days) if a.network.country not in ("JP", "") and a.confounder == "travel"]
    assert abroad
    for a in abroad:
        trip = next(t for t in beh.trips[a.user] if t.out_depart <= a.time.timestamp() <= t.back_land)
        assert a.network.country == trip.country
        assert a.time.timestamp() >= trip.out_land
        if isinstance(a, SignIn) and a.client is not None and a.client.kind != "mobile":
            assert a.time.timestamp() >= trip.out_land + 2700  # immigration and the ride to the hotel
        assert a.time.timestamp() <= trip.back_depart


def test_isp_change_visible_on_its_day(cloud: tuple[Org, list[list[Activity]]]) -> None:
    org, days = cloud
    change = org.isp_change_day
    assert change is not None and is_working_day(change)
    before_asns = {n.asn for n in org.office}
    after_asns = {n.asn for n in org.office_after_change}
    assert before_asns.isdisjoint(after_asns)
    for i, acts in enumerate(days):
        d = START + timedelta(days=i)
        office = {a.network.asn for a in acts if isinstance(a, SignIn) and a.network.net_class == "office"}
        if d < change:
            assert office <= before_asns
        elif d == change:
            assert office and office <= after_asns
            tagged = [a for a in acts if a.network.net_class == "office" and a.confounder == "isp-change"]
            assert tagged
        else:
            assert office <= after_asns


def test_new_staff_have_no_history_before_start(cloud: tuple[Org, list[list[Activity]]]) -> None:
    org, days = cloud
    new = [u for u in org.users if u.start > START]
    assert new, "about 2 % of 150 users join mid-period"
    for u in new:
        first = min(
            (a.time for a in _flat(days) if a.user == u.upn and a.confounder != "password-guessing"), default=None
        )
        assert first is not None and first.astimezone(TOKYO).date() >= u.start


def test_one_compliance_search_and_one_internal_forward(cloud: tuple[Org, list[list[Activity]]]) -> None:
    org, days = cloud
    acts = _flat(days)
    searches = [a for a in acts if isinstance(a, AdminAction) and a.operation == "New-ComplianceSearch"]
    assert len(searches) == 1 and searches[0].user in org.admins and searches[0].confounder == "admin-search"
    rules = [a for a in acts if isinstance(a, MailboxChange) and a.operation == "New-InboxRule"]
    assert len(rules) == 1 and rules[0].confounder == "internal-forwarding"
    assert rules[0].parameters["RedirectTo"].endswith("@" + org.domain)


def test_password_guessing_never_succeeds(cloud: tuple[Org, list[list[Activity]]]) -> None:
    _, days = cloud
    guesses = [a for a in _flat(days) if a.confounder == "password-guessing"]
    assert len(guesses) > 100
    assert all(isinstance(a, SignIn) and not a.success and a.error_code in (50034, 50053, 50126) for a in guesses)
    assert len({a.network.ip for a in guesses}) > 50
    assert sum(1 for a in guesses if a.network.country != "JP") / len(guesses) > 0.8


def test_reads_and_sends_use_corpus_messages(cloud: tuple[Org, list[list[Activity]]]) -> None:
    org, days = cloud
    beh_corpus = FakeCorpus(org)
    reads = [m for a in _flat(days[:5]) if isinstance(a, MailboxRead) for m in a.messages]
    sends = [a for a in _flat(days[:5]) if isinstance(a, MailSend)]
    assert reads and sends
    u = sends[0].user
    d = sends[0].time.astimezone(TOKYO).date()
    assert sends[0].message_id in {m.message_id for m in beh_corpus.mailbox(u).arrivals(d)}
    assert set(sends[0].recipients) <= set(beh_corpus.correspondents(u))


def test_hybrid_has_imap_gateway_and_mta(hybrid: tuple[Org, list[list[Activity]]]) -> None:
    org, days = hybrid
    acts = _flat(days)
    imap_users = {u.upn for u in org.users if u.imap_user}
    assert imap_users
    imap = [
        a for a in acts if isinstance(a, SignIn) and a.client is not None and a.client.protocol == "imap" and a.success
    ]
    assert imap and {a.user for a in imap} <= imap_users
    flows = [a for a in acts if isinstance(a, MailFlow)]
    assert flows
    conns = [a for a in acts if isinstance(a, Connection)]
    services = Counter(c.service for c in conns)
    assert {"dns", "ntp", "ssl", "smtp"} <= set(services)
    assert all(c.confounder == "gateway-traffic" for c in conns)
    assert all(c.user == "mgw01" for c in conns)


def test_onprem_reads_everything_over_imap() -> None:
    _, days = _run("onprem", 40, 5)
    acts = _flat(days)
    protocols = {a.client.protocol for a in acts if isinstance(a, MailboxRead) and a.client is not None}
    assert protocols == {"imap"}
    assert not any(isinstance(a, MailSend | AdminAction | MailboxChange) for a in acts)
    assert any(
        isinstance(a, SignIn) and not a.success and a.client is not None and a.client.protocol in ("imap", "smtp")
        for a in acts
    )


def test_times_are_utc_aware(hybrid: tuple[Org, list[list[Activity]]]) -> None:
    _, days = hybrid
    assert all(a.time.tzinfo is UTC for a in days[0])
