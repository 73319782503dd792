"""oauth-consent: a user consents to a malicious multi-tenant app, which then reads their mail.

Consent phishing needs no password: a lure links to a real Microsoft sign-in page for an app
registered in the actor's own tenant with a plausible name.  The victim signs in from work as
usual and grants Mail.Read, offline_access and User.Read (sometimes more).  From then on the
app's back end -- in public cloud space -- redeems the refresh token (non-interactive sign-ins
by that app for the user) and reads the mailbox through Graph around the clock: the whole
Inbox first, then whatever is new, for days, until someone notices or the token is revoked.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dwelltime.simulate.activity import Activity, Client, Consent, MailboxRead, MessageRef, Network, SignIn
from dwelltime.simulate.model import Org
from dwelltime.simulate.scenarios import _clients
from dwelltime.simulate.scenarios._common import (
    TOKYO,
    CorpusView,
    at_local,
    attack_start_day,
    cloud_read,
    find_user,
    folder_messages,
    network_for,
    new_uuid,
    office_network,
    period,
    pick_victim,
    resolve_params,
    split_avoid,
    within,
)
from dwelltime.simulate.scenarios._networks import APP_CLOUD

NAME = "oauth-consent"
ORG_KINDS = ("cloud", "hybrid")

_APP_NAMES = (
    "Mail Backup Pro",
    "DocuView Secure",
    "Outlook Organizer Plus",
    "PDF Converter Online",
    "Secure File Share",
    "メール整理アシスタント",
    "Invoice Viewer",
)
BASE_SCOPES = ("Mail.Read", "offline_access", "User.Read")
_EXTRA_SCOPES = ("Mail.ReadWrite", "Mail.Send", "Contacts.Read", "Files.Read.All")
TOKEN_LIFETIME = timedelta(minutes=75)


@dataclass(frozen=True, slots=True)
class Params:
    """Parameters of oauth-consent (defaults drawn from the scenario's rng).

    victim: UPN of the user who consents.
    first_day, consent_hour: when the victim consents (Tokyo working hours).
    app_id, app_name: the malicious application (a fresh id from the actor's tenant).
    scopes: delegated permissions granted (Mail.Read, offline_access, User.Read, maybe more).
    ip: the app's back end (public cloud).
    start_delay_minutes: delay from consent to the app's first read, 1-30.
    duration_days: how long the app keeps reading, 5-20 (cut at the end of the period).
    interval_hours: poll period, 1-6 h, around the clock.
    """

    victim: str
    first_day: date
    consent_hour: float
    app_id: str
    app_name: str
    scopes: tuple[str, ...]
    ip: str
    start_delay_minutes: float
    duration_days: int
    interval_hours: float


def defaults(org: Org, start: date, days: int, rng: random.Random, avoid: frozenset[str] = frozenset()) -> Params:
    first_day = attack_start_day(start, days, rng, min_length=min(5, days))
    while first_day.weekday() >= 5 and first_day > start:  # the lure lands in a working day's mail
        first_day -= timedelta(days=1)
    victim = pick_victim(org, first_day, rng, weighted=False, avoid=avoid)
    extra = rng.sample(_EXTRA_SCOPES, rng.randint(0, 2))
    return Params(
        victim=victim.upn,
        first_day=first_day,
        consent_hour=round(rng.uniform(9.5, 17.5), 2),
        app_id=new_uuid(rng),
        app_name=rng.choice(_APP_NAMES),
        scopes=BASE_SCOPES + tuple(extra),
        ip=rng.choice(APP_CLOUD).draw(rng).ip,
        start_delay_minutes=round(rng.uniform(1, 30), 1),
        duration_days=rng.randint(5, 20),
        interval_hours=round(rng.uniform(1, 6), 2),
    )


def generate(
    org: Org, corpus: CorpusView, start: date, days: int, rng: random.Random, **params: object
) -> list[Activity]:
    avoid, rest = split_avoid(params)
    p = resolve_params(defaults(org, start, days, rng, avoid), rest)
    user = find_user(org, p.victim)
    app_net = network_for(p.ip, APP_CLOUD)
    _, period_end = period(start, days)
    mailbox = corpus.mailbox(user.upn)

    t = at_local(p.first_day, p.consent_hour, TOKYO)
    where = office_network(org, t, rng, user)
    browser = Client("browser", _clients.browser_ua(rng), "", "Browser", p.app_id, p.app_name, "browser")
    out: list[Activity] = [
        SignIn(t, user.upn, where, NAME, client=browser, session_id=new_uuid(rng), interactive=True),
        Consent(
            t + timedelta(seconds=rng.randint(8, 40)),
            user.upn,
            where,
            NAME,
            app_id=p.app_id,
            app_name=p.app_name,
            scopes=list(p.scopes),
        ),
    ]

    app = _clients.app_client(rng, p.app_id, p.app_name)
    session = new_uuid(rng)
    end = min(period_end, t + timedelta(days=p.duration_days))
    t += timedelta(minutes=p.start_delay_minutes)
    token_at: datetime | None = None
    listed: set[str] | None = None
    while t < end:
        if token_at is None or t - token_at >= TOKEN_LIFETIME:
            out.append(SignIn(t, user.upn, app_net, NAME, client=app, session_id=session, interactive=False))
            token_at = t
        tr = t + timedelta(seconds=rng.randint(1, 10))
        inbox = folder_messages(mailbox, "Inbox", tr)
        if listed is None:
            out.append(_read(user.upn, app_net, app, session, tr, "Sync", inbox, ["Inbox"]))
            sent = folder_messages(mailbox, "Sent Items", tr)
            out.append(_read(user.upn, app_net, app, session, tr + timedelta(seconds=30), "Sync", sent, ["Sent Items"]))
        else:
            new = [m for m in inbox if m.message_id not in listed]
            if new:
                out.append(_read(user.upn, app_net, app, session, tr, "Bind", new, []))
        listed = {m.message_id for m in inbox}
        t += timedelta(hours=p.interval_hours) * rng.uniform(0.9, 1.1)
    return within(out, period_end)


def _read(
    upn: str,
    net: Network,
    client: Client,
    session: str,
    t: datetime,
    access: str,
    messages: list[MessageRef],
    folders: list[str],
) -> MailboxRead:
    return cloud_read(NAME, upn, net, client, session, t, access, messages, folders)
