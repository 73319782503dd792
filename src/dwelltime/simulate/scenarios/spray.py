"""spray: a password spray across the organisation from one hosting range, one hit, then access.

A spray kit walks a harvested address list (most real users, a few guessed role addresses
that do not exist) trying one common password per account per round, rotating through a
handful of addresses in one hosting range, with rounds hours apart to stay under lockout
thresholds.  Against Microsoft 365 it goes through ROPC or legacy basic auth; against an
on-prem server through IMAP or SMTP AUTH.  One account has the season's password.  Later a
person picks up the valid credential and reads that mailbox from the same address.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dwelltime.errors import ConfigError
from dwelltime.simulate.activity import Activity, Client, MailboxRead, Network, SignIn
from dwelltime.simulate.model import Org
from dwelltime.simulate.scenarios import _clients
from dwelltime.simulate.scenarios._common import (
    TOKYO,
    CorpusView,
    at_local,
    attack_start_day,
    eligible_users,
    find_user,
    folder_messages,
    imap_session_id,
    network_for,
    new_uuid,
    period,
    resolve_params,
    split_avoid,
    within,
)
from dwelltime.simulate.scenarios._networks import SPRAY_HOSTING

NAME = "spray"
ORG_KINDS = ("cloud", "onprem", "hybrid")

PROTOCOLS = ("entra", "imap", "smtp")
_ROLE_ADDRESSES = (
    "info",
    "admin",
    "test",
    "support",
    "sales",
    "contact",
    "office",
    "hr",
    "recruit",
    "webmaster",
    "soumu",
    "jinji",
    "kouhou",
    "guest",
)
_WRONG_CREDENTIALS = "Error validating credentials due to invalid username or password."
_NO_USER = "The user account does not exist in the directory."
_LOCKED = "Account is locked because user tried to sign in too many times with an incorrect user ID or password."


@dataclass(frozen=True, slots=True)
class Params:
    """Parameters of spray (defaults drawn from the scenario's rng).

    first_day, first_hour: when the first round starts (hour in Tokyo time; kits run any time).
    ips: the spraying addresses, 3-8 in one hosting /24.
    protocol: "entra" (cloud sign-ins), "imap" or "smtp" (on-prem); by org kind.
    target_fraction: share of the org's accounts on the list, 0.6-0.95.
    invalid_fraction: guessed role addresses added, as a share of the list, 0-0.05.
    rounds: passwords tried (one per account per round), 2-4.
    round_gap_hours: hours between rounds, 1-12.
    mean_gap_seconds: mean pause between attempts, 2-15 s.
    victim: the account whose password is guessed.
    success_round: the round (0-based) with the right password.
    access_delay_minutes: delay from the hit to the first mailbox access, 10-240.
    access_days: days with mailbox access after the hit, 1-3.
    """

    first_day: date
    first_hour: float
    ips: tuple[str, ...]
    protocol: str
    target_fraction: float
    invalid_fraction: float
    rounds: int
    round_gap_hours: float
    mean_gap_seconds: float
    victim: str
    success_round: int
    access_delay_minutes: float
    access_days: int


def defaults(org: Org, start: date, days: int, rng: random.Random, avoid: frozenset[str] = frozenset()) -> Params:
    first_day = attack_start_day(start, days, rng, min_length=min(3, days))
    prefix = rng.choice(SPRAY_HOSTING)
    ips = tuple(n.ip for n in prefix.draw_many(rng, rng.randint(3, 8)))
    if org.kind == "cloud":
        protocol = "entra"
    elif org.kind == "onprem":
        protocol = rng.choice(("imap", "smtp"))
    else:
        protocol = rng.choice(PROTOCOLS)
    rounds = rng.randint(2, 4)
    return Params(
        first_day=first_day,
        first_hour=round(rng.uniform(0, 24), 2),
        ips=ips,
        protocol=protocol,
        target_fraction=round(rng.uniform(0.6, 0.95), 2),
        invalid_fraction=round(rng.uniform(0, 0.05), 3),
        rounds=rounds,
        round_gap_hours=round(rng.uniform(1, 12), 2),
        mean_gap_seconds=round(rng.uniform(2, 15), 1),
        victim=rng.choice(eligible_users(org, first_day, avoid)).upn,
        success_round=rng.randrange(rounds),
        access_delay_minutes=round(rng.uniform(10, 240), 1),
        access_days=rng.randint(1, 3),
    )


def generate(
    org: Org, corpus: CorpusView, start: date, days: int, rng: random.Random, **params: object
) -> list[Activity]:
    avoid, rest = split_avoid(params)
    p = resolve_params(defaults(org, start, days, rng, avoid), rest)
    if p.protocol not in PROTOCOLS:
        raise ConfigError(f"spray protocol must be one of {PROTOCOLS}, not {p.protocol!r}")
    if not p.ips:
        raise ConfigError("spray needs at least one address")
    victim = find_user(org, p.victim)
    nets = [network_for(ip, SPRAY_HOSTING) for ip in p.ips]
    _, period_end = period(start, days)

    accounts = [u.upn for u in org.users]
    targets = rng.sample(accounts, max(1, round(p.target_fraction * len(accounts))))
    if victim.upn not in targets:
        targets[rng.randrange(len(targets))] = victim.upn
    existing = set(accounts)
    guessed = [f"{r}@{org.domain}" for r in _ROLE_ADDRESSES if f"{r}@{org.domain}" not in existing]
    targets += rng.sample(guessed, min(len(guessed), round(p.invalid_fraction * len(targets))))
    client = _kit_client(p.protocol, rng)
    success_round = min(p.success_round, p.rounds - 1)

    out: list[Activity] = []
    hit: tuple[datetime, Network] | None = None
    t = at_local(p.first_day, p.first_hour, TOKYO)
    for r in range(p.rounds):
        for account in rng.sample(targets, len(targets)):
            t += timedelta(seconds=rng.expovariate(1 / p.mean_gap_seconds))
            net = rng.choice(nets)
            if account == victim.upn and hit is not None:
                continue  # the kit stops trying an account it has cracked
            if account == victim.upn and r == success_round:
                hit = (t, net)
                out.append(SignIn(t, account, net, NAME, client=client, session_id=_sid(p.protocol, rng)))
                continue
            out.append(_failure(account, net, client, t, p.protocol, account in existing, r, rng))
        t += timedelta(hours=p.round_gap_hours * rng.uniform(0.8, 1.2))
    if hit is not None:
        out.extend(_access(org, corpus, victim.upn, hit, p, rng))
    return within(out, period_end)


def _kit_client(protocol: str, rng: random.Random) -> Client:
    if protocol == "imap":
        return _clients.imap_bare()
    if protocol == "smtp":
        return _clients.smtp_bare()
    return _clients.spray_client(rng)


def _sid(protocol: str, rng: random.Random) -> str:
    return new_uuid(rng) if protocol == "entra" else imap_session_id(rng)


def _failure(
    account: str, net: Network, client: Client, t: datetime, protocol: str, exists: bool, r: int, rng: random.Random
) -> SignIn:
    if protocol != "entra":
        reason = "Authentication failed" if exists else "unknown user"
        return SignIn(t, account, net, NAME, client=client, success=False, failure_reason=reason, session_id="")
    if not exists:
        code, reason = 50034, _NO_USER
    elif r > 0 and rng.random() < 0.02:  # smart lockout catches a few accounts on later rounds
        code, reason = 50053, _LOCKED
    else:
        code, reason = 50126, _WRONG_CREDENTIALS
    return SignIn(t, account, net, NAME, client=client, success=False, error_code=code, failure_reason=reason)


def _access(
    org: Org, corpus: CorpusView, upn: str, hit: tuple[datetime, Network], p: Params, rng: random.Random
) -> list[Activity]:
    """The person behind the kit uses the cracked account from the address that cracked it."""
    hit_time, net = hit
    mailbox = corpus.mailbox(upn)
    cloud = p.protocol == "entra"
    client = _clients.graph_script(rng) if cloud else _clients.imap_script(rng)
    out: list[Activity] = []
    seen: set[str] = set()
    t = hit_time + timedelta(minutes=p.access_delay_minutes)
    for day in range(p.access_days):
        if day:
            t = at_local(hit_time.astimezone(TOKYO).date() + timedelta(days=day), rng.uniform(0, 24), TOKYO)
        sid = _sid(p.protocol, rng)
        out.append(SignIn(t, upn, net, NAME, client=client, session_id=sid))
        tr = t + timedelta(seconds=rng.randint(3, 30))
        inbox = folder_messages(mailbox, "Inbox", tr)
        if day == 0:
            # Dump the Inbox: a whole-folder Sync in the cloud, the newest few hundred over IMAP.
            read = inbox if cloud else inbox[-rng.randint(100, 300) :]
            access = "Sync" if cloud else "Bind"
        else:
            read, access = [m for m in inbox if m.message_id not in seen], "Bind"
        seen.update(m.message_id for m in read)
        out.append(
            MailboxRead(
                tr,
                upn,
                net,
                NAME,
                client=client,
                session_id=sid,
                access_type=access,
                messages=read,
                folders=["Inbox"],
                duration_s=5 + len(read) // 4,
                bytes_in=0 if cloud else 200 + 40 * len(read),
            )
        )
    return out
