"""Ordinary days at the agency: the benign activity every detector has to live with.

People keep Japanese office hours and holidays, read and send mail, take leave, work from
home, check mail on their phones in the evening; phones poll the mailbox around the clock;
home and mobile addresses churn; a few people travel abroad, use a commercial VPN, or are
new; the office changes ISP one day; an administrator runs one legitimate compliance search;
one user forwards mail to a colleague; the internet guesses passwords all day and never
gets in; and the mail gateway talks to NTP, DNS, its vendor and partners' MX hosts.  Each
planted behaviour that could tempt a naive detector carries ``activity.confounder``.

Everything is a pure function of (org, corpus, start, days, seed, date): each user-day
draws from its own ``random.Random`` seeded by a string key, so days can be generated in
any order and the same seed gives the same activities.  The one chained state, phones'
polling schedules (an interval only makes sense relative to the previous poll), is carried
from day to day and rebuilt from the start if days are requested out of order.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Protocol
from zoneinfo import ZoneInfo

from dwelltime.simulate.activity import (
    Activity,
    AdminAction,
    Client,
    Connection,
    MailboxChange,
    MailboxRead,
    MailFlow,
    MailSend,
    MessageRef,
    Network,
    SignIn,
)
from dwelltime.simulate.calendar import is_working_day, leave_propensity
from dwelltime.simulate.model import MailHost, Org, User
from dwelltime.simulate.netdata import DESTINATIONS, Prefix, by_cidr, group, network_at, random_ip
from dwelltime.simulate.org import partner_mx

__all__ = ["FLIGHTS", "BenignBehaviour", "CorpusLike", "MailboxLike", "Trip"]

JST = timezone(timedelta(hours=9), "JST")  # Japan has no daylight saving time
_DAY = 86400.0


class MailboxLike(Protocol):
    def folders(self) -> list[str]: ...
    def messages_in(self, folder: str, at: datetime) -> list[MessageRef]: ...
    def arrivals(self, day: date) -> list[MessageRef]: ...
    def message(self, message_id: str) -> MessageRef: ...


class CorpusLike(Protocol):
    """What benign behaviour needs of :mod:`dwelltime.simulate.corpus` (see the simulator brief)."""

    def mailbox(self, upn: str) -> MailboxLike: ...
    def correspondents(self, upn: str) -> list[str]: ...


# destination country -> (time zone, hours Tokyo->there, hours back, usual local departure hours from Tokyo,
#                         usual local departure hours for the way back, pool of hotel/home networks, mobile pool)
FLIGHTS: dict[str, tuple[str, float, float, tuple[int, ...], tuple[int, ...], str, str | None]] = {
    "US": ("America/Los_Angeles", 9.5, 11.5, (17, 18, 19), (11, 12, 13), "abroad-us", "abroad-us-mobile"),
    "SG": ("Asia/Singapore", 7.5, 7.0, (10, 11, 17, 23), (8, 9, 22), "abroad-sg", None),
    "DE": ("Europe/Berlin", 14.0, 13.0, (10, 11, 21), (12, 13, 17), "abroad-de", "abroad-de-mobile"),
    "GB": ("Europe/London", 14.5, 13.5, (10, 11, 22), (11, 12, 19), "abroad-gb", "abroad-gb-mobile"),
    "KR": ("Asia/Seoul", 2.5, 2.5, (8, 9, 13, 15), (10, 14, 17), "abroad-kr", "abroad-kr-mobile"),
    "TW": ("Asia/Taipei", 4.0, 3.5, (9, 10, 14), (8, 13, 16), "abroad-tw", "abroad-tw-mobile"),
    "TH": ("Asia/Bangkok", 6.5, 6.0, (10, 11, 17), (8, 22, 23), "abroad-th", None),
}


@dataclass(frozen=True, slots=True)
class Trip:
    """A business trip: epoch seconds of take-off and landing each way."""

    user: str
    country: str
    tz: str
    out_depart: float
    out_land: float
    back_depart: float
    back_land: float
    hotel: Prefix
    local_mobile: Prefix | None  # None: the phone roams on its Japanese carrier (home-routed)


_GUESS_NAMES = (
    "admin",
    "administrator",
    "info",
    "test",
    "user",
    "support",
    "webmaster",
    "postmaster",
    "sales",
    "contact",
    "office",
    "soumu",
    "jinji",
    "kikaku",
    "kouhou",
    "scanner",
    "backup",
    "root",
    "guest",
    "mail",
)
_GUESS_CLIENTS = (
    Client(
        "script",
        "BAV2ROPC",
        "",
        "Other clients",
        "00000002-0000-0ff1-ce00-000000000000",
        "Office 365 Exchange Online",
        "rest",
    ),
    Client(
        "script",
        "python-requests/2.31.0",
        "",
        "Other clients",
        "00000002-0000-0ff1-ce00-000000000000",
        "Office 365 Exchange Online",
        "rest",
    ),
    Client(
        "script",
        "",
        "",
        "Authenticated SMTP",
        "00000002-0000-0ff1-ce00-000000000000",
        "Office 365 Exchange Online",
        "smtp",
    ),
    Client("script", "", "", "IMAP4", "00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online", "imap"),
)
_GUESS_POOLS = (
    "hosting-do",
    "hosting-vultr",
    "hosting-ovh",
    "hosting-hetzner",
    "hosting-aws",
    "hosting-linode",
    "abroad-us",
    "abroad-kr",
    "abroad-tw",
    "abroad-th",
    "abroad-de",
    "tor",
    "hosting-jp-vultr",
)
_SMTP_ONPREM = Client("imap", "", "", "", "", "SMTP submission", "smtp")
_IMAP_GUESS = Client("script", "", "", "", "", "IMAP", "imap")
_SMTP_GUESS = Client("script", "", "", "", "", "SMTP AUTH", "smtp")
_SYNC_FOLDERS = ("Inbox", "Sent Items", "Drafts", "Deleted Items", "Archive")
_PRIVATE = Network("10.10.5.21", "", None, "", "private", "")


def _rng(key: str) -> random.Random:
    return random.Random(key)


def _uid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128)))


def _ts(epoch: float) -> datetime:
    return datetime.fromtimestamp(int(epoch), UTC)  # truncate: a time never rounds into the next day


def _midnight(d: date, tz: timezone | ZoneInfo = JST) -> float:
    return datetime(d.year, d.month, d.day, tzinfo=tz).timestamp()


class BenignBehaviour:
    """One day of everybody's benign activity at a time: ``day(d)`` (time-sorted)."""

    def __init__(self, org: Org, corpus: CorpusLike, start: date, days: int, seed: int) -> None:
        self.org = org
        self.corpus = corpus
        self.start = start
        self.days = days
        self.seed = seed
        self.people = tuple(u for u in org.users if u.role != "service")
        self.services = tuple(u for u in org.users if u.role == "service")
        self._hosts: dict[str, MailHost] = {h.role: h for h in org.hosts}
        self._onprem_upns = frozenset(u.upn for u in org.users if org.kind == "onprem" or u.imap_user)
        # office PCs reach the on-prem mail servers from the LAN, not through the internet NAT
        self._lan = {
            u.upn: Network(f"10.20.{i // 250}.{i % 250 + 2}", "", None, "", "private", "")
            for i, u in enumerate(self.people)
        }
        self._mobile_pools = {u.upn: [by_cidr(c) for c in u.mobile_pool] for u in self.people}
        self._home_sched: dict[str, list[tuple[int, Network]]] = {u.upn: self._home_schedule(u) for u in self.people}
        self.trips: dict[str, list[Trip]] = {u.upn: self._plan_trips(u) for u in self.people if u.traveller}
        self._poll_tail: dict[str, float] = {}
        self._poll_day: date | None = None
        self._plan_specials()

    # ------------------------------------------------------------------ plans made once

    def _home_schedule(self, user: User) -> list[tuple[int, Network]]:
        """Home address leases: a new address from the user's ISP pool every few days."""
        rng = _rng(f"{self.seed}:home:{user.upn}")
        sched = [(0, user.home)]
        day = 0
        pool = [by_cidr(c) for c in user.home_pool]
        while pool:
            day += max(1, round(rng.expovariate(1 / 5)))
            if day >= self.days:
                break
            p = rng.choice(pool)
            sched.append((day, network_at(p, random_ip(p.cidr, rng))))
        return sched

    def _plan_trips(self, user: User) -> list[Trip]:
        rng = _rng(f"{self.seed}:trips:{user.upn}")
        trips: list[Trip] = []
        first = max(self.start, user.start) + timedelta(days=2)
        span = (self.start + timedelta(days=self.days) - first).days
        n = 1 if span < 45 else rng.choice((1, 2))
        cursor = 0
        for _ in range(n):
            if span - cursor < 6:
                break
            offset = cursor + rng.randrange(0, max(1, (span - cursor) // n - 4))
            country = rng.choice(sorted(FLIGHTS))
            tzname, out_h, back_h, out_hours, back_hours, hotel_pool, mobile_pool = FLIGHTS[country]
            tz = ZoneInfo(tzname)
            dep_day = first + timedelta(days=offset)
            while not is_working_day(dep_day):
                dep_day += timedelta(days=1)
            length = rng.randint(3, 7) if country in ("KR", "TW") else rng.randint(4, 9)
            out_depart = _midnight(dep_day) + rng.choice(out_hours) * 3600 + rng.randrange(0, 3600)
            out_land = out_depart + out_h * 3600 + rng.uniform(-1200, 1800)
            back_local = datetime.fromtimestamp(out_land, tz).date() + timedelta(days=length)
            back_depart = _midnight(back_local, tz) + rng.choice(back_hours) * 3600 + rng.randrange(0, 3600)
            back_land = back_depart + back_h * 3600 + rng.uniform(-1200, 1800)
            if back_land >= _midnight(self.start + timedelta(days=self.days)):
                break
            hotels = group(hotel_pool)
            local_mobile = rng.choice(group(mobile_pool)) if mobile_pool and rng.random() < 0.5 else None
            trips.append(
                Trip(
                    user.upn,
                    country,
                    tzname,
                    out_depart,
                    out_land,
                    back_depart,
                    back_land,
                    rng.choice(hotels),
                    local_mobile,
                )
            )
            cursor = (back_local - first).days + 3
        return trips

    def _plan_specials(self) -> None:
        rng = _rng(f"{self.seed}:specials")
        working = [
            self.start + timedelta(days=i) for i in range(self.days) if is_working_day(self.start + timedelta(days=i))
        ]
        cloud = self.org.kind != "onprem"
        self.search: tuple[date, str, str] | None = None
        self.forward: tuple[date, str, str] | None = None
        eligible = [u for u in self.people if not u.imap_user and u.start < self.start]
        if cloud and working and self.org.admins:
            target = rng.choice(eligible).upn if eligible else self.org.admins[0]
            self.search = (rng.choice(working[len(working) // 4 :]), rng.choice(self.org.admins), target)
        if cloud and working and len(eligible) >= 2:
            who, colleague = rng.sample(eligible, 2)
            self.forward = (rng.choice(working), who.upn, colleague.upn)

    # ------------------------------------------------------------------ helpers

    def _home(self, user: User, d: date) -> Network:
        idx = (d - self.start).days
        current = user.home
        for day, net in self._home_sched.get(user.upn, ()):
            if day > idx:
                break
            current = net
        return current

    def _office(self, d: date) -> tuple[Network, ...]:
        change = self.org.isp_change_day
        return self.org.office_after_change if change is not None and d >= change else self.org.office

    def _isp_tag(self, d: date) -> str | None:
        change = self.org.isp_change_day
        return "isp-change" if change is not None and change <= d < change + timedelta(days=7) else None

    def _trip_on(self, user: User, lo: float, hi: float) -> Trip | None:
        for t in self.trips.get(user.upn, ()):
            if t.out_depart - 4 * 3600 < hi and t.back_land + 3 * 3600 > lo:
                return t
        return None

    # ------------------------------------------------------------------ the day

    def day(self, d: date) -> list[Activity]:
        """Every benign activity whose time falls in the Tokyo calendar day ``d``, time-sorted."""
        lo = _midnight(d)
        hi = lo + _DAY
        out: list[Activity] = []
        polls = self._polls_for(d)
        for user in self.people:
            if user.start > d:
                continue
            self._user_day(user, d, lo, hi, polls.get(user.upn, ()), out)
        self._services_day(d, lo, out)
        self._specials_day(d, lo, out)
        self._guessing_day(d, lo, out)
        if self.org.kind != "cloud" and "gateway" in self._hosts:
            self._gateway_day(d, lo, out)
        # a session that runs past midnight loses its tail: tomorrow is another day's business
        first, last = _ts(lo), _ts(hi)
        kept = [a for a in out if first <= a.time < last]
        kept.sort(key=lambda a: a.time)
        return kept

    # phones ------------------------------------------------------------

    def _polls_for(self, d: date) -> dict[str, list[float]]:
        """Poll times of every phone on day ``d``, continuing each phone's chain from the day before."""
        if self._poll_day is None or d <= self._poll_day:
            self._poll_tail = {}
            self._poll_day = self.start - timedelta(days=1)
        result: dict[str, list[float]] = {}
        cur = self._poll_day + timedelta(days=1)
        while cur <= d:
            result = self._advance_polls(cur)
            cur += timedelta(days=1)
        self._poll_day = d
        return result

    def _advance_polls(self, d: date) -> dict[str, list[float]]:
        lo = _midnight(d)
        hi = lo + _DAY
        out: dict[str, list[float]] = {}
        for user in self.people:
            rng_range = user.mobile_poll_minutes
            if rng_range is None or user.start > d:
                continue
            a, b = rng_range[0] * 60.0, rng_range[1] * 60.0
            rng = _rng(f"{self.seed}:poll:{user.upn}:{d.isoformat()}")
            t = self._poll_tail.get(user.upn)  # the phone's next poll, drawn when the previous one happened
            if t is None:
                t = max(lo, _midnight(user.start)) + rng.uniform(0, a)
            times: list[float] = []
            while t < hi:
                times.append(t)
                t += rng.uniform(a, b)
            self._poll_tail[user.upn] = t
            out[user.upn] = times
        return out

    def _mobile_nets(self, user: User, d: date, rng: random.Random, lo: float) -> list[tuple[float, Network]]:
        """Carrier-grade NAT addresses: a new one every one to four hours."""
        pool = self._mobile_pools[user.upn]
        if not pool:
            return [(lo, user.home)]
        segs: list[tuple[float, Network]] = []
        t = lo
        while t < lo + _DAY:
            p = rng.choice(pool)
            segs.append((t, network_at(p, random_ip(p.cidr, rng))))
            t += rng.uniform(3600, 4 * 3600)
        return segs

    # one person's day ----------------------------------------------------------

    def _user_day(self, user: User, d: date, lo: float, hi: float, polls: Sequence[float], out: list[Activity]) -> None:
        rng = _rng(f"{self.seed}:day:{user.upn}:{d.isoformat()}")
        trip = self._trip_on(user, lo, hi)
        new_tag = "new-staff" if user.start <= d < user.start + timedelta(days=7) else None
        desktop = user.clients[0]
        web = next((c for c in user.clients if c.kind == "owa"), None)
        phone = next((c for c in user.clients if c.kind == "mobile"), None)
        onprem = user.upn in self._onprem_upns
        home = self._home(user, d)
        mobile_segs = self._mobile_nets(user, d, rng, lo) if user.mobile_pool else []
        phone_on_wifi = _rng(f"{self.seed}:wifi:{user.upn}").random() < 0.5

        def away(t: float) -> bool:  # travelling: handled by the trip code
            return trip is not None and trip.out_depart - 3 * 3600 <= t <= trip.back_land + 2 * 3600

        # what to read and send today
        mailbox = self.corpus.mailbox(user.upn)
        arrivals = mailbox.arrivals(d)
        received = [m for m in arrivals if "sent" not in m.folder.lower()]
        sent = [m for m in arrivals if "sent" in m.folder.lower()]
        read_rng = _rng(f"{self.seed}:read:{user.upn}:{d.isoformat()}")
        to_read = [m for m in received if read_rng.random() < 0.85]
        prev = d - timedelta(days=1)
        if prev >= user.start:
            prev_rng = _rng(f"{self.seed}:read:{user.upn}:{prev.isoformat()}")
            prev_recv = [m for m in mailbox.arrivals(prev) if "sent" not in m.folder.lower()]
            to_read += [m for m in prev_recv if prev_rng.random() >= 0.85]

        # --- working pattern in Japan
        working = is_working_day(d) and rng.random() >= leave_propensity(d)
        sessions: list[tuple[float, float, Network, Client, str | None]] = []  # start, end, net, client, tag
        if working:
            start_h, end_h = user.work_hours
            t0 = lo + start_h * 3600 + rng.gauss(0, 1200) - 1800 * (rng.random() < 0.5)
            overtime = rng.expovariate(1 / 2400) + (rng.uniform(3600, 3 * 3600) if rng.random() < 0.1 else 0)
            t1 = lo + end_h * 3600 + rng.gauss(0, 900) + overtime
            telework = rng.random() < 0.12
            if telework:
                net = self._vpn_or(user, home, rng, d)
                sessions.append(
                    (
                        t0,
                        t1,
                        net,
                        web if web is not None and rng.random() < 0.5 else desktop,
                        "vpn" if net.net_class == "vpn" else None,
                    )
                )
            else:
                net = rng.choice(self._office(d))
                sessions.append((t0, t1, net, desktop, self._isp_tag(d)))
        evening = rng.random() < (0.25 if is_working_day(d) else 0.12)
        if evening and (web is not None or onprem):
            e0 = lo + rng.uniform(20, 23.5) * 3600
            net = self._vpn_or(user, home, rng, d)
            sessions.append(
                (e0, e0 + rng.uniform(300, 2400), net, web or desktop, "vpn" if net.net_class == "vpn" else None)
            )

        kept = [s for s in sessions if not away(s[0])]
        self._sessions(
            user, d, kept, to_read if not trip else to_read[: len(to_read) // 3], sent, rng, out, new_tag, onprem
        )

        # --- phone polling, 24/7
        if phone is not None and polls:
            self._phone(
                user,
                d,
                phone,
                polls,
                mobile_segs,
                home,
                phone_on_wifi,
                trip,
                rng,
                out,
                onprem,
                new_tag,
                received if not working else [],
            )

        # --- abroad
        if trip is not None:
            self._abroad(user, d, lo, hi, trip, to_read, sent, rng, out, onprem)

    def _vpn_or(self, user: User, home: Network, rng: random.Random, d: date) -> Network:
        if user.vpn_user and rng.random() < 0.35:
            pool = "vpn-m247" if rng.random() < 0.5 else "vpn-datacamp"
            prefixes = group(pool)
            jp = [p for p in prefixes if p.country == "JP"]
            p = rng.choice(jp) if jp and rng.random() < 0.7 else rng.choice(prefixes)
            # a VPN exit is a shared server: the same few addresses for weeks
            return network_at(p, random_ip(p.cidr, _rng(f"{self.seed}:vpnexit:{p.cidr}:{rng.randrange(4)}")))
        return home

    def _sessions(
        self,
        user: User,
        d: date,
        sessions: list[tuple[float, float, Network, Client, str | None]],
        to_read: list[MessageRef],
        sent: list[MessageRef],
        rng: random.Random,
        out: list[Activity],
        new_tag: str | None,
        onprem: bool,
    ) -> None:
        if not sessions:
            return
        total = sum(max(60.0, e - s) for s, e, *_ in sessions)
        weights = [max(60.0, e - s) / total for s, e, *_ in sessions]
        reads: list[list[MessageRef]] = [[] for _ in sessions]
        for m in to_read:
            reads[_pick(rng, weights)].append(m)
        sends: list[list[MessageRef]] = [[] for _ in sessions]
        for m in sent:
            sends[_pick(rng, weights)].append(m)
        correspondents = self.corpus.correspondents(user.upn)
        for i, (s, e, net, client, tag) in enumerate(sessions):
            tag = tag or new_tag
            sid = _uid(rng)
            if client.protocol == "imap":
                if net.net_class == "office":
                    net, tag = self._lan[user.upn], new_tag
                self._imap_session(user, s, e, net, client, reads[i], rng, out, tag)
            else:
                interactive = client.kind == "owa" or rng.random() < 0.1
                mfa = "Microsoft Authenticator app" if interactive and net.net_class != "office" else ""
                out.append(SignIn(_ts(s), user.upn, net, None, tag, client, True, 0, "", sid, interactive, mfa))
                if client.kind == "outlook":
                    folders = list(_SYNC_FOLDERS[: rng.randint(2, 5)])
                    out.append(
                        MailboxRead(
                            _ts(s + rng.uniform(5, 60)), user.upn, net, None, tag, client, sid, "Sync", [], folders
                        )
                    )
                t = s + rng.uniform(2400, 5400)
                while t < e:  # token refresh
                    out.append(SignIn(_ts(t), user.upn, net, None, tag, client, True, 0, "", sid, False, ""))
                    t += rng.uniform(3600, 5400)
                # opened messages, grouped the way MailItemsAccessed aggregates them (per two minutes)
                times = sorted(rng.uniform(s + 60, max(s + 120, e)) for _ in reads[i])
                msgs = reads[i]
                j = 0
                while j < len(msgs):
                    k = j + 1
                    while k < len(msgs) and times[k] - times[j] < 120:
                        k += 1
                    out.append(MailboxRead(_ts(times[j]), user.upn, net, None, tag, client, sid, "Bind", msgs[j:k]))
                    j = k
            for m in sends[i]:
                when = rng.uniform(s + 120, max(s + 180, e))
                rcpts = rng.sample(correspondents, min(len(correspondents), rng.choice((1, 1, 1, 2, 3))))
                if onprem:
                    out.append(
                        MailFlow(
                            _ts(when),
                            user.upn,
                            net,
                            None,
                            tag,
                            _queue_id(rng),
                            m.message_id,
                            user.upn,
                            rcpts,
                            m.size,
                            "",
                            user.login,
                            "sent",
                        )
                    )
                else:
                    subject = str(getattr(m, "subject", ""))
                    out.append(
                        MailSend(
                            _ts(when),
                            user.upn,
                            net,
                            None,
                            tag,
                            client,
                            sid,
                            m.message_id,
                            subject,
                            user.upn,
                            rcpts,
                            m.size,
                        )
                    )

    def _imap_session(
        self,
        user: User,
        s: float,
        e: float,
        net: Network,
        client: Client,
        reads: list[MessageRef],
        rng: random.Random,
        out: list[Activity],
        tag: str | None,
    ) -> None:
        """An IMAP client through the day: a login every 10-30 minutes (reconnects, new-mail checks)."""
        t = s
        times = sorted(rng.uniform(s, max(s + 60, e)) for _ in reads)
        j = 0
        first = True
        while t < e or first:
            nxt = t + rng.uniform(600, 1800)
            batch: list[MessageRef] = []
            while j < len(reads) and times[j] < nxt:
                batch.append(reads[j])
                j += 1
            sid = _uid(rng)[:12]
            out.append(SignIn(_ts(t), user.upn, net, None, tag, client, True, 0, "", sid, True, ""))
            dur = int(rng.uniform(2, 40)) if not first else int(rng.uniform(20, 300))
            out.append(
                MailboxRead(
                    _ts(t + 1),
                    user.upn,
                    net,
                    None,
                    tag,
                    client,
                    sid,
                    "Bind" if batch else "Sync",
                    batch,
                    ["INBOX"] if not first else ["INBOX", "Sent", "Drafts", "Trash"],
                    dur,
                    sum(m.size for m in batch) + rng.randint(400, 4000),
                )
            )
            first = False
            t = nxt

    def _phone(
        self,
        user: User,
        d: date,
        phone: Client,
        polls: Sequence[float],
        segs: list[tuple[float, Network]],
        home: Network,
        on_wifi: bool,
        trip: Trip | None,
        rng: random.Random,
        out: list[Activity],
        onprem: bool,
        new_tag: str | None,
        reads: list[MessageRef],
    ) -> None:
        lo = _midnight(d)
        seg_i = 0
        next_token = polls[0] if polls else lo
        sid = _uid(rng)
        weekend = not is_working_day(d)
        read_iter = iter(reads)
        for n, t in enumerate(polls):
            trip_tag: str | None = None
            if trip is not None and trip.out_depart - 1800 <= t <= trip.back_land + 600:
                if t < trip.out_land + 600 or trip.back_depart - 1800 < t:
                    continue  # in the air (or boarding): phone off
                net = self._abroad_phone_net(user, trip, t, rng)
                trip_tag = "travel"
            else:
                while seg_i + 1 < len(segs) and segs[seg_i + 1][0] <= t:
                    seg_i += 1
                hour = (t - lo) / 3600
                at_home = hour < 7.5 or hour >= 20.5 or (weekend and (hour < 10 or hour >= 17))
                net = home if on_wifi and at_home else segs[seg_i][1] if segs else home
            tag = trip_tag or new_tag or "mobile-polling"
            if onprem:
                imap_sid = f"{sid[:8]}{n:04x}"
                out.append(SignIn(_ts(t), user.upn, net, None, tag, phone, True, 0, "", imap_sid, True, ""))
                out.append(
                    MailboxRead(
                        _ts(t),
                        user.upn,
                        net,
                        None,
                        tag,
                        phone,
                        imap_sid,
                        "Sync",
                        [],
                        ["INBOX"],
                        int(rng.uniform(1, 6)),
                        rng.randint(300, 3000),
                    )
                )
                continue
            if t >= next_token:
                out.append(SignIn(_ts(t), user.upn, net, None, tag, phone, True, 0, "", sid, False, ""))
                next_token = t + rng.uniform(3600, 5400)
            out.append(MailboxRead(_ts(t), user.upn, net, None, tag, phone, sid, "Sync", [], ["Inbox"]))
            hour = (t - lo) / 3600
            if reads and 7 <= hour <= 23 and rng.random() < 0.25:
                batch = [m for m in (next(read_iter, None) for _ in range(rng.randint(1, 3))) if m is not None]
                if batch:
                    out.append(
                        MailboxRead(_ts(t + rng.uniform(20, 300)), user.upn, net, None, tag, phone, sid, "Bind", batch)
                    )

    def _abroad_phone_net(self, user: User, trip: Trip, t: float, rng: random.Random) -> Network:
        if trip.local_mobile is not None:
            p = trip.local_mobile
        else:  # roaming: data is home-routed through the Japanese carrier
            pool = self._mobile_pools[user.upn]
            if not pool:
                return network_at(trip.hotel, random_ip(trip.hotel.cidr, rng))
            p = pool[0]
        key = int((t - trip.out_land) // 7200)
        return network_at(p, random_ip(p.cidr, _rng(f"{self.seed}:roam:{user.upn}:{key}")))

    def _abroad(
        self,
        user: User,
        d: date,
        lo: float,
        hi: float,
        trip: Trip,
        to_read: list[MessageRef],
        sent: list[MessageRef],
        rng: random.Random,
        out: list[Activity],
        onprem: bool,
    ) -> None:
        """Laptop sessions in the destination's local morning and evening, from the hotel network."""
        tz = ZoneInfo(trip.tz)
        first_ok = trip.out_land + rng.uniform(2700, 7200)  # immigration, baggage, the ride to the hotel
        last_ok = trip.back_depart - rng.uniform(2 * 3600, 3 * 3600)
        hotel_ip = random_ip(trip.hotel.cidr, _rng(f"{self.seed}:hotel:{user.upn}:{trip.out_depart}"))
        net = network_at(trip.hotel, hotel_ip)
        client = next((c for c in user.clients if c.kind == "owa"), user.clients[0])
        local_first = datetime.fromtimestamp(lo, tz).date()
        sessions: list[tuple[float, float, Network, Client, str | None]] = []
        for ld in (local_first - timedelta(days=1), local_first, local_first + timedelta(days=1)):
            lrng = _rng(f"{self.seed}:abroad:{user.upn}:{ld.isoformat()}")
            base = _midnight(ld, tz)
            for h0, h1 in ((6.5, 8.5), (19.0, 23.5)):
                s = base + lrng.uniform(h0, h1) * 3600
                e = s + lrng.uniform(600, 3000)
                if first_ok <= s and e <= last_ok and lo <= s < hi:
                    sessions.append((s, e, net, client, "travel"))
            if (
                first_ok <= base + 20 * 3600 <= last_ok
                and lo <= first_ok < hi
                and not any(x[0] <= first_ok + 3600 for x in sessions)
            ):
                sessions.append((first_ok, first_ok + lrng.uniform(600, 1800), net, client, "travel"))
        sessions.sort(key=lambda x: x[0])
        n = len(to_read) - len(to_read) // 3
        self._sessions(user, d, sessions, to_read[len(to_read) // 3 :][:n], sent, rng, out, None, onprem)

    # the rest of the organisation ----------------------------------------------------

    def _services_day(self, d: date, lo: float, out: list[Activity]) -> None:
        """The scanner's scan-to-mail (SMTP AUTH from the office) on working days."""
        if not is_working_day(d):
            return
        for svc in self.services:
            if not svc.upn.startswith("svc-scan"):
                continue
            rng = _rng(f"{self.seed}:svc:{svc.upn}:{d.isoformat()}")
            for _ in range(rng.randint(5, 30)):
                t = lo + rng.uniform(8.5, 18.5) * 3600
                who = rng.choice(self.people)
                if self.org.kind == "cloud":
                    net = rng.choice(self._office(d))
                    out.append(SignIn(_ts(t), svc.upn, net, None, None, svc.clients[0], True, 0, "", _uid(rng), False))
                else:
                    out.append(
                        MailFlow(
                            _ts(t),
                            svc.upn,
                            _PRIVATE,
                            None,
                            None,
                            _queue_id(rng),
                            f"<{rng.getrandbits(64):016x}.scan@{self.org.domain}>",
                            svc.upn,
                            [who.upn],
                            rng.randint(80_000, 4_000_000),
                            self._hosts["mailstore"].name,
                            svc.login,
                            "sent",
                        )
                    )

    def _specials_day(self, d: date, lo: float, out: list[Activity]) -> None:
        rng = _rng(f"{self.seed}:special:{d.isoformat()}")
        net = rng.choice(self._office(d))
        if self.search is not None and self.search[0] == d:
            _, admin, target = self.search
            t = lo + rng.uniform(10, 16) * 3600
            name = f"HR-{d.strftime('%Y%m%d')}-{rng.randrange(100, 999)}"
            params = {
                "Name": name,
                "ExchangeLocation": target,
                "ContentMatchQuery": 'subject:"勤務" AND received>=2024-01-01',
            }
            out.append(AdminAction(_ts(t), admin, net, None, "admin-search", "New-ComplianceSearch", params))
            out.append(
                AdminAction(
                    _ts(t + rng.uniform(20, 90)),
                    admin,
                    net,
                    None,
                    "admin-search",
                    "Start-ComplianceSearch",
                    {"Identity": name},
                )
            )
        if self.forward is not None and self.forward[0] == d:
            _, who, colleague = self.forward
            user = self.org.user(who)
            client = next((c for c in user.clients if c.kind == "owa"), user.clients[0])
            t = lo + rng.uniform(9.5, 17) * 3600
            params = {"Name": "休暇中の転送", "RedirectTo": colleague, "StopProcessingRules": "False"}
            out.append(
                MailboxChange(
                    _ts(t), who, net, None, "internal-forwarding", "New-InboxRule", params, who, [], client, _uid(rng)
                )
            )

    def _guessing_day(self, d: date, lo: float, out: list[Activity]) -> None:
        """Internet-wide password guessing: many sources, few tries each, never a success."""
        rng = _rng(f"{self.seed}:guess:{d.isoformat()}")
        cloud = self.org.kind != "onprem"
        onprem = self.org.kind != "cloud"
        for _ in range(rng.randint(4, 16)):
            p = rng.choice(group(rng.choice(_GUESS_POOLS)))
            net = network_at(p, random_ip(p.cidr, rng))
            t = lo + rng.uniform(0, _DAY - 3600)
            tries = rng.choice((1, 1, 2, 3, 5, 8, 12, 20))
            use_cloud = cloud and (not onprem or rng.random() < 0.6)
            client = rng.choice(_GUESS_CLIENTS) if use_cloud else rng.choice((_IMAP_GUESS, _SMTP_GUESS))
            per_target: dict[str, int] = {}
            for _ in range(tries):
                real = rng.random() < 0.4
                if real:
                    u = rng.choice(self.people)
                    name = u.upn if use_cloud else (u.login if rng.random() < 0.5 else u.upn)
                else:
                    local = rng.choice(_GUESS_NAMES)
                    name = f"{local}@{self.org.domain}" if use_cloud or rng.random() < 0.5 else local
                per_target[name] = per_target.get(name, 0) + 1
                if not real:
                    code, reason = 50034, "The user account does not exist in the directory."
                elif per_target[name] > 10:
                    code, reason = 50053, "Account is locked because user tried to sign in too many times."
                else:
                    code, reason = 50126, "Error validating credentials due to invalid username or password."
                out.append(
                    SignIn(_ts(t), name, net, None, "password-guessing", client, False, code, reason, "", True, "")
                )
                t += rng.uniform(2, 90)

    def _gateway_day(self, d: date, lo: float, out: list[Activity]) -> None:
        """What Zeek sees the mail gateway do on a normal day."""
        gw = self._hosts["gateway"]
        src = Network(gw.ip, "", None, "", "private", "")
        rng = _rng(f"{self.seed}:gateway:{d.isoformat()}")
        tag = "gateway-traffic"
        ntp = [x for x in DESTINATIONS if x.service == "ntp"][:2]
        dns = [x for x in DESTINATIONS if x.service == "dns"]
        tls = [x for x in DESTINATIONS if x.service == "ssl"]
        http = [x for x in DESTINATIONS if x.service == "http"]
        plan = [(ntp, 1024.0), (dns, 300.0), (http, 3600.0)] + [
            ([x], p) for x, p in zip(tls, (1800.0, 7200.0, 600.0, 3600.0), strict=False)
        ]
        for dests, period in plan:
            t = lo + rng.uniform(0, period)
            while t < lo + _DAY:
                dst = rng.choice(dests)
                if dst.service == "ssl":
                    big = rng.random() < 0.02  # a signature or engine update
                    resp = rng.randint(2_000_000, 40_000_000) if big else rng.randint(3000, 30000)
                    conn = Connection(
                        _ts(t),
                        gw.name,
                        src,
                        None,
                        tag,
                        dst.ip,
                        dst.port,
                        "tcp",
                        "ssl",
                        rng.uniform(0.3, 4.0) if not big else rng.uniform(20, 200),
                        rng.randint(900, 4000),
                        resp,
                        dst.name,
                    )
                elif dst.service == "ntp":
                    conn = Connection(_ts(t), gw.name, src, None, tag, dst.ip, 123, "udp", "ntp", 0.01, 48, 48)
                elif dst.service == "dns":
                    conn = Connection(
                        _ts(t),
                        gw.name,
                        src,
                        None,
                        tag,
                        dst.ip,
                        53,
                        "udp",
                        "dns",
                        0.002,
                        rng.randint(30, 80),
                        rng.randint(60, 400),
                    )
                else:
                    conn = Connection(
                        _ts(t),
                        gw.name,
                        src,
                        None,
                        tag,
                        dst.ip,
                        dst.port,
                        "tcp",
                        "http",
                        0.2,
                        rng.randint(300, 600),
                        rng.randint(1500, 3000),
                    )
                out.append(conn)
                t += period * rng.uniform(0.9, 1.1)
        # outbound mail to partners, relayed by the gateway to their MX hosts
        partners = {p.domain: p for p in self.org.partners}
        for a in list(out):
            if not isinstance(a, MailSend | MailFlow) or a.confounder == tag:
                continue
            for r in a.recipients:
                dom = r.rpartition("@")[2]
                partner = partners.get(dom)
                if partner is None:
                    continue
                mx = partner_mx(partner)[0]
                t = a.time.timestamp() + rng.uniform(2, 40)
                out.append(
                    Connection(
                        _ts(t - 0.5),
                        gw.name,
                        src,
                        None,
                        tag,
                        dns[0].ip,
                        53,
                        "udp",
                        "dns",
                        0.002,
                        rng.randint(30, 80),
                        rng.randint(80, 300),
                    )
                )
                out.append(
                    Connection(
                        _ts(t),
                        gw.name,
                        src,
                        None,
                        tag,
                        mx[1],
                        25,
                        "tcp",
                        "smtp",
                        rng.uniform(0.5, 6),
                        a.size + rng.randint(800, 3000),
                        rng.randint(400, 1200),
                        "",
                    )
                )


def _pick(rng: random.Random, weights: list[float]) -> int:
    x = rng.random()
    acc = 0.0
    for i, w in enumerate(weights):
        acc += w
        if x < acc:
            return i
    return len(weights) - 1


def _queue_id(rng: random.Random) -> str:
    return f"{rng.getrandbits(40):010X}"
