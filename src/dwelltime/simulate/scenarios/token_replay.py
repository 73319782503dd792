"""token-replay: a stolen session used from a second, distant network minutes after sign-in.

Info-stealer malware on the victim's PC (or an adversary-in-the-middle phishing proxy) lifts
the session cookie right after a normal, MFA-satisfied sign-in at work.  Minutes later the
actor replays it from a VPS abroad: no password, no MFA prompt -- the logs show
non-interactive sign-ins with the same session id from a new country and network, and
Outlook on the web reading mail.  The actor keeps the session alive for hours to days,
coming back now and then, until it expires.

The victim's own sign-in (the one the token came from) is returned too, with scenario None:
it is benign and belongs to no attack, but it is what the replay must be compared with.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from dwelltime.simulate.activity import Activity, Client, MailboxRead, MessageRef, SignIn
from dwelltime.simulate.model import Org
from dwelltime.simulate.scenarios import _clients
from dwelltime.simulate.scenarios._common import (
    TOKYO,
    CorpusView,
    at_local,
    attack_start_day,
    find_user,
    folder_messages,
    network_for,
    new_uuid,
    office_network,
    period,
    pick_victim,
    resolve_params,
    split_avoid,
    unseen,
    within,
)
from dwelltime.simulate.scenarios._networks import EU_HOSTING, US_HOSTING

NAME = "token-replay"
ORG_KINDS = ("cloud", "hybrid")

PREFIXES = US_HOSTING + EU_HOSTING
_FOLDERS = ("Inbox", "Sent Items")


@dataclass(frozen=True, slots=True)
class Params:
    """Parameters of token-replay (defaults drawn from the scenario's rng).

    victim: UPN of the user whose session is stolen.
    first_day, signin_hour: the victim's legitimate sign-in (Tokyo working hours).
    delay_minutes: from that sign-in to the first replay, 3-90 minutes.
    ip: the replaying VPS (US or European hosting).
    same_user_agent: the stealer also copied the browser's user agent (so only the network differs).
    duration_hours: how long the actor keeps using the session, 2-72 h.
    visit_every_minutes: mean gap between the actor's visits, 20-180 min.
    """

    victim: str
    first_day: date
    signin_hour: float
    delay_minutes: float
    ip: str
    same_user_agent: bool
    duration_hours: float
    visit_every_minutes: float


def defaults(org: Org, start: date, days: int, rng: random.Random, avoid: frozenset[str] = frozenset()) -> Params:
    first_day = attack_start_day(start, days, rng, min_length=min(3, days))
    while first_day.weekday() >= 5 and first_day > start:
        first_day -= timedelta(days=1)
    victim = pick_victim(org, first_day, rng, avoid=avoid)
    return Params(
        victim=victim.upn,
        first_day=first_day,
        signin_hour=round(rng.uniform(8.5, 18), 2),
        delay_minutes=round(rng.uniform(3, 90), 1),
        ip=rng.choice(PREFIXES).draw(rng).ip,
        same_user_agent=rng.random() < 0.5,
        duration_hours=round(rng.uniform(2, 72), 1),
        visit_every_minutes=round(rng.uniform(20, 180), 1),
    )


def generate(
    org: Org, corpus: CorpusView, start: date, days: int, rng: random.Random, **params: object
) -> list[Activity]:
    avoid, rest = split_avoid(params)
    p = resolve_params(defaults(org, start, days, rng, avoid), rest)
    user = find_user(org, p.victim)
    net = network_for(p.ip, PREFIXES)
    _, period_end = period(start, days)
    mailbox = corpus.mailbox(user.upn)

    t0 = at_local(p.first_day, p.signin_hour, TOKYO)
    victim_ua = _clients.browser_ua(rng)
    actor_ua = victim_ua if p.same_user_agent else _clients.browser_ua(rng)
    session = new_uuid(rng)
    legit = SignIn(
        t0,
        user.upn,
        office_network(org, t0, rng, user),
        None,
        client=_clients.owa(victim_ua),
        session_id=session,
        interactive=True,
        mfa="Microsoft Authenticator app",
    )
    out: list[Activity] = [legit]

    client: Client = _clients.owa(actor_ua)
    seen: set[str] = set()
    t = t0 + timedelta(minutes=p.delay_minutes)
    end = min(period_end, t + timedelta(hours=p.duration_hours))
    first = True
    while t < end:
        out.append(SignIn(t, user.upn, net, NAME, client=client, session_id=session, interactive=False, mfa=""))
        tr = t + timedelta(seconds=rng.randint(5, 60))
        read: list[MessageRef] = []
        for folder in _FOLDERS:
            msgs = unseen(folder_messages(mailbox, folder, tr), seen)
            read.extend(msgs[-(rng.randint(15, 50) if first else rng.randint(2, 12)) :])
        seen.update(m.message_id for m in read)
        if read:
            out.append(
                MailboxRead(
                    tr, user.upn, net, NAME, client=client, session_id=session, access_type="Bind", messages=read
                )
            )
        first = False
        t += timedelta(minutes=rng.expovariate(1 / p.visit_every_minutes) + 5)
    return within(out, period_end)
