"""What every attack scenario needs: the corpus it reads, clocks, victims, ids, parameters.

The corpus is typed here as a Protocol (the methods scenarios call), so scenarios depend on
the Corpus API described in the simulator brief and not on its implementation.
"""

from __future__ import annotations

import base64
import ipaddress
import random
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import fields, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

from dwelltime.errors import ConfigError
from dwelltime.simulate.activity import Activity, Client, MailboxRead, MessageRef, Network
from dwelltime.simulate.model import Org, User
from dwelltime.simulate.scenarios._networks import Prefix

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

TOKYO = ZoneInfo("Asia/Tokyo")
SHANGHAI = ZoneInfo("Asia/Shanghai")


class MailboxView(Protocol):
    """The part of a simulated mailbox scenarios read (see the simulator brief)."""

    def folders(self) -> list[str]: ...

    def messages_in(self, folder: str, at: datetime, /) -> list[MessageRef]: ...


class CorpusView(Protocol):
    """The part of the mailbox corpus scenarios read."""

    def mailbox(self, upn: str, /) -> MailboxView: ...

    def correspondents(self, upn: str, /) -> list[str]: ...


# ---------------------------------------------------------------------------------------------- time


def period(start: date, days: int) -> tuple[datetime, datetime]:
    """The simulated period in UTC: Tokyo-local midnight of ``start`` to midnight ``days`` later."""
    begin = datetime.combine(start, time(0), TOKYO)
    return begin.astimezone(UTC), (begin + timedelta(days=days)).astimezone(UTC)


def at_local(day: date, hour: float, tz: ZoneInfo) -> datetime:
    """UTC datetime of a local wall-clock time (hour may be fractional)."""
    local = datetime.combine(day, time(0), tz) + timedelta(seconds=round(hour * 3600))
    return local.astimezone(UTC)


def attack_start_day(start: date, days: int, rng: random.Random, *, min_length: int = 1) -> date:
    """First day of an attack: after a stretch of history (detectors need a past to compare
    with), leaving at least ``min_length`` days of the period for the attack to run."""
    latest = max(0, days - min_length)
    earliest = min(latest, max(1, days // 4))
    upper = max(earliest, min(latest, (days * 3) // 5))
    return start + timedelta(days=rng.randint(earliest, upper))


# Public holidays in mainland China on which an office-hours operator does not work.  Fixed-date
# holidays every year, plus the Spring Festival weeks (lunar) for the years the simulator covers.
_CN_FIXED = {
    (1, 1),
    (5, 1),
    (5, 2),
    (5, 3),
    (5, 4),
    (5, 5),
    (10, 1),
    (10, 2),
    (10, 3),
    (10, 4),
    (10, 5),
    (10, 6),
    (10, 7),
}
_CN_SPRING = {
    2023: (date(2023, 1, 21), date(2023, 1, 27)),
    2024: (date(2024, 2, 10), date(2024, 2, 17)),
    2025: (date(2025, 1, 28), date(2025, 2, 4)),
    2026: (date(2026, 2, 15), date(2026, 2, 23)),
}


def cn_workday(d: date) -> bool:
    """True on a working day of a Beijing-time office (Mon-Fri, not a public holiday)."""
    if d.weekday() >= 5 or (d.month, d.day) in _CN_FIXED:
        return False
    spring = _CN_SPRING.get(d.year)
    return not (spring and spring[0] <= d <= spring[1])


# Office blocks of a Beijing-time operator: morning and afternoon, with a long lunch break.
_CN_BLOCKS = ((9.0, 12.0), (13.5, 18.0))


def next_office_time(t: datetime, rng: random.Random) -> datetime:
    """``t`` if it falls in the operator's office hours (Beijing time), else the start of the
    next office block plus a few minutes (people do not start on the second)."""
    local = t.astimezone(SHANGHAI)
    day = local.date()
    hour = local.hour + local.minute / 60 + local.second / 3600
    for _ in range(40):
        if cn_workday(day):
            for lo, hi in _CN_BLOCKS:
                if hour < lo:
                    return at_local(day, lo + rng.uniform(0.05, 0.6), SHANGHAI)
                if hour < hi:
                    return t
        day += timedelta(days=1)
        hour = 0.0
    raise ConfigError("no working day within 40 days")  # pragma: no cover - the calendar has none that long


# ------------------------------------------------------------------------------------------ victims


_ROLE_WEIGHT = {"executive": 5.0, "manager": 3.0, "staff": 1.0, "admin": 1.0}


def eligible_users(org: Org, day: date, avoid: frozenset[str] = frozenset()) -> list[User]:
    """People (not service accounts) who had been working for a while by ``day``, other than
    those in ``avoid`` (victims of other attacks in the same simulation) while any are left."""
    people = [u for u in org.users if u.role != "service"]
    settled = [u for u in people if u.start <= day - timedelta(days=14)]
    pool = settled or people or list(org.users)
    return [u for u in pool if u.upn not in avoid] or pool


def pick_victim(
    org: Org, day: date, rng: random.Random, *, weighted: bool = True, avoid: frozenset[str] = frozenset()
) -> User:
    """A victim chosen by rng; espionage actors go for managers and executives first."""
    pool = eligible_users(org, day, avoid)
    if not pool:
        raise ConfigError("the organisation has no users")
    if not weighted:
        return rng.choice(pool)
    return rng.choices(pool, [_ROLE_WEIGHT.get(u.role, 1.0) for u in pool])[0]


def find_user(org: Org, upn: str) -> User:
    try:
        return org.user(upn.lower())
    except KeyError:
        raise ConfigError(f"no user {upn!r} in the simulated organisation") from None


def office_network(org: Org, when: datetime, rng: random.Random, user: User) -> Network:
    """The office NAT egress in force at ``when`` (before or after the office ISP change)."""
    local_day = when.astimezone(TOKYO).date()
    changed = org.isp_change_day is not None and local_day >= org.isp_change_day
    pool = org.office_after_change if changed and org.office_after_change else org.office
    return rng.choice(pool) if pool else user.home


def own_networks(org: Org) -> set[Network]:
    """Every network value the organisation itself owns (office, homes, phones)."""
    nets: set[Network] = set(org.office) | set(org.office_after_change)
    for u in org.users:
        nets.add(u.home)
        if u.mobile is not None:
            nets.add(u.mobile)
    return nets


# ----------------------------------------------------------------------------------------------- ids


def new_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def imap_session_id(rng: random.Random) -> str:
    """A Dovecot-style session id (base64 of 12 random bytes)."""
    return base64.b64encode(rng.getrandbits(96).to_bytes(12, "big")).decode("ascii")


def message_id(rng: random.Random, org: Org, when: datetime) -> str:
    """An RFC 5322 Message-ID of the shape the org's mail system generates."""
    if org.kind == "onprem":
        return f"<{when:%Y%m%d%H%M%S}.{rng.getrandbits(40):010x}@{org.domain}>"
    token = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(12))
    server = f"TYCP{rng.randint(200, 299)}MB{rng.randint(1000, 9999)}"
    return f"<{server}{token}@{server}.JPNP{rng.randint(200, 299)}.PROD.OUTLOOK.COM>"


# ------------------------------------------------------------------------------------------ mailbox


_WELL_KNOWN = {
    "inbox",
    "sent items",
    "sent",
    "drafts",
    "deleted items",
    "trash",
    "junk email",
    "junk",
    "outbox",
    "rss subscriptions",
    "conversation history",
    "archive",
}
_INTERESTING = ("archive", "project", "アーカイブ", "プロジェクト", "案件", "20")


def crawl_order(folders: Iterable[str]) -> list[str]:
    """Folders an intruder crawls, most interesting first: old archives and project folders."""
    candidates = [f for f in folders if f.lower() not in _WELL_KNOWN]
    return sorted(candidates, key=lambda f: (not any(k in f.lower() for k in _INTERESTING), f))


def folder_messages(mailbox: MailboxView, folder: str, at: datetime) -> list[MessageRef]:
    """Messages in ``folder`` at ``at``; none if the mailbox has no such folder (yet)."""
    return mailbox.messages_in(folder, at) if folder in mailbox.folders() else []


def unseen(messages: Sequence[MessageRef], seen: set[str]) -> list[MessageRef]:
    return [m for m in messages if m.message_id not in seen]


# --------------------------------------------------------------------------------------- parameters

P = TypeVar("P", bound="DataclassInstance")


def split_avoid(params: Mapping[str, object]) -> tuple[frozenset[str], dict[str, object]]:
    """Take the shared ``avoid`` option (entities other attacks already use: a list, or a
    comma-separated string) out of the scenario parameters.  It only steers the rng's choice
    of victim, so an orchestrator can keep planted attacks on different people."""
    rest = dict(params)
    raw = rest.pop("avoid", ())
    items = raw.split(",") if isinstance(raw, str) else raw if isinstance(raw, list | tuple | set | frozenset) else ()
    return frozenset(str(i).strip().lower() for i in items if str(i).strip()), rest


def resolve_params(defaults: P, overrides: Mapping[str, object]) -> P:
    """``defaults`` with ``overrides`` applied; strings (from a command line) are coerced to the
    default's type.  Defaults are always drawn first, so overriding one parameter leaves every
    other randomised value as it was for the same seed."""
    known = {f.name for f in fields(defaults)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ConfigError(f"unknown scenario parameter(s) {unknown}; known: {sorted(known)}")
    values: dict[str, Any] = {}
    for name, value in overrides.items():
        values[name] = _coerce(name, value, getattr(defaults, name))
    return replace(defaults, **values)


def _coerce(name: str, value: object, current: object) -> object:
    if not isinstance(value, str) or isinstance(current, str) or current is None:
        return value
    try:
        if isinstance(current, bool):
            return value.strip().lower() in {"1", "true", "yes", "on"}
        if isinstance(current, int):
            return int(value)
        if isinstance(current, float):
            return float(value)
    except ValueError:
        raise ConfigError(f"scenario parameter {name}: {value!r} is not a {type(current).__name__}") from None
    if isinstance(current, tuple):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    if isinstance(current, date):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ConfigError(f"scenario parameter {name}: {value!r} is not a date (YYYY-MM-DD)") from None
    return value


def network_for(ip: str, prefixes: Sequence[Prefix]) -> Network:
    """The Network of an address in one of ``prefixes`` (a parameter given as a bare address)."""
    addr = ipaddress.ip_address(ip)
    for p in prefixes:
        if addr in ipaddress.ip_network(p.cidr):
            return Network(str(addr), p.country, p.asn, p.as_org, p.net_class, p.city)
    known = ", ".join(p.cidr for p in prefixes)
    raise ConfigError(f"{ip} is in none of the networks this scenario knows ({known})")


def within(activities: list[Activity], end: datetime) -> list[Activity]:
    """Activities before the end of the simulated period, time-sorted (stable)."""
    return sorted((a for a in activities if a.time < end), key=lambda a: a.time)


def cloud_read(
    scenario: str,
    upn: str,
    net: Network,
    client: Client,
    session: str,
    t: datetime,
    access: str,
    messages: Sequence[MessageRef],
    folders: list[str],
    duration_s: int = 0,
) -> MailboxRead:
    """One attacker access to a cloud mailbox (Bind of ``messages``, or Sync of ``folders``)."""
    return MailboxRead(
        t,
        upn,
        net,
        scenario,
        client=client,
        session_id=session,
        access_type=access,
        messages=list(messages),
        folders=folders,
        duration_s=duration_s,
    )


# --------------------------------------------------------------------------- adversarial operators


def residential_proxy(user: User, rng: random.Random) -> Network:
    """An address in the victim's own home ISP (a residential proxy exit in their area)."""
    cidr = ipaddress.ip_network(rng.choice(user.home_pool) if user.home_pool else f"{user.home.ip}/32")
    offset = rng.randrange(1, max(2, cidr.num_addresses - 1))
    home = user.home
    return Network(str(cidr.network_address + offset), home.country, home.asn, home.as_org, home.net_class, home.city)


def victims_hours(hours: tuple[int, int]) -> Callable[[datetime, random.Random], datetime]:
    """``next_office_time`` for the victim's working hours on Tokyo weekdays."""

    def next_time(t: datetime, rng: random.Random) -> datetime:
        local = t.astimezone(TOKYO)
        day, hour = local.date(), local.hour + local.minute / 60
        for _ in range(14):
            if day.weekday() < 5:
                if hour < hours[0]:
                    return at_local(day, hours[0] + rng.uniform(0.05, 0.6), TOKYO)
                if hour < hours[1]:
                    return t
            day += timedelta(days=1)
            hour = 0.0
        return t  # pragma: no cover - a fortnight without a weekday does not happen

    return next_time
