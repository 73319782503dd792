"""apt-cloud: the same espionage actor against Microsoft 365.

With a user's password (no MFA on the account, or a legacy exemption) the operator gets a
token from a VPS in a hosting network the organisation never used, with a script borrowing a
public client id (python-requests with the Microsoft Office client, the Graph PowerShell
SDK...).  A scheduled job then polls the mailbox for weeks: it refreshes its token when it
has expired (non-interactive sign-ins, same session), reads what is new in Inbox and Sent
Items (MailItemsAccessed Bind), and now and then synchronises a whole old folder (Sync).
Some operators run the job only in their office hours (Beijing time), others around the
clock from cron.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dwelltime.errors import ConfigError
from dwelltime.simulate.activity import Activity, Client, MailboxRead, MessageRef, Network, SignIn
from dwelltime.simulate.model import Org, User
from dwelltime.simulate.scenarios import _clients
from dwelltime.simulate.scenarios._common import (
    SHANGHAI,
    CorpusView,
    at_local,
    attack_start_day,
    cloud_read,
    crawl_order,
    find_user,
    folder_messages,
    network_for,
    new_uuid,
    next_office_time,
    period,
    pick_victim,
    residential_proxy,
    resolve_params,
    split_avoid,
    victims_hours,
    within,
)
from dwelltime.simulate.scenarios._networks import ASIA_HOSTING, JP_HOSTING

NAME = "apt-cloud"
ORG_KINDS = ("cloud", "hybrid")

PREFIXES = JP_HOSTING + ASIA_HOSTING
_LIVE_FOLDERS = ("Inbox", "Sent Items")
_KNOWN_APPS = dict((_clients.MS_OFFICE, _clients.GRAPH_CLI, _clients.AZURE_PS))
TOKEN_LIFETIME = timedelta(minutes=75)  # access tokens last 60-90 minutes


@dataclass(frozen=True, slots=True)
class Params:
    """Parameters of apt-cloud (defaults drawn from the scenario's rng).

    victim: UPN whose password the operator holds.
    first_day: day of the first token request.
    duration_days: campaign length, 21-60 days (cut at the end of the period).
    ip: the operator's VPS (Japanese, Hong Kong or Singapore hosting).
    user_agent, app_id: the script's user agent and the public client id it borrows.
    schedule: "office" (polls in Beijing office hours) or "cron" (around the clock).
    interval_hours: poll period, 2-6 h.
    jitter_minutes: jitter per poll (1-5 min for cron, 10-40 min for a person running it).
    sync_folders: how many old folders get synchronised whole over the campaign, 2-6.
    sync_rate: chance that a poll also synchronises the next such folder, 0.1-0.4.
    mimic: an adversarial operator who hides in the victim's habits: a residential proxy in the
        victim's own home ISP, the victim's own Microsoft 365 client (their desktop Outlook, else
        their first client) and app id, polls in the victim's working hours (Tokyo weekdays).
        Off by default (no draw from the rng: other values stay).
    """

    victim: str
    first_day: date
    duration_days: int
    ip: str
    user_agent: str
    app_id: str
    schedule: str
    interval_hours: float
    jitter_minutes: float
    sync_folders: int
    sync_rate: float
    mimic: bool = False


def defaults(org: Org, start: date, days: int, rng: random.Random, avoid: frozenset[str] = frozenset()) -> Params:
    first_day = attack_start_day(start, days, rng, min_length=min(21, max(1, days // 3)))
    victim = pick_victim(org, first_day, rng, avoid=avoid)
    net = rng.choice(PREFIXES).draw(rng)
    client = _clients.graph_script(rng)
    schedule = rng.choice(("office", "cron"))
    jitter = rng.uniform(1, 5) if schedule == "cron" else rng.uniform(10, 40)
    return Params(
        victim=victim.upn,
        first_day=first_day,
        duration_days=rng.randint(21, 60),
        ip=net.ip,
        user_agent=client.user_agent,
        app_id=client.app_id,
        schedule=schedule,
        interval_hours=round(rng.uniform(2, 6), 2),
        jitter_minutes=round(jitter, 1),
        sync_folders=rng.randint(2, 6),
        sync_rate=round(rng.uniform(0.1, 0.4), 2),
    )


def generate(
    org: Org, corpus: CorpusView, start: date, days: int, rng: random.Random, **params: object
) -> list[Activity]:
    avoid, rest = split_avoid(params)
    p = resolve_params(defaults(org, start, days, rng, avoid), rest)
    if p.schedule not in ("office", "cron"):
        raise ConfigError(f"apt-cloud schedule must be office or cron, not {p.schedule!r}")
    user = find_user(org, p.victim)
    net = network_for(p.ip, PREFIXES)
    client = Client(
        "script",
        p.user_agent,
        _clients.REST_INFO,
        _clients.DESKTOP_APPS,
        p.app_id,
        _KNOWN_APPS.get(p.app_id, ""),
        "rest",
    )
    clock: Callable[[datetime, random.Random], datetime] = next_office_time
    if p.mimic:
        net = residential_proxy(user, rng)
        client = _victims_cloud_client(user, client)
        clock = victims_hours(user.work_hours)
    mailbox = corpus.mailbox(user.upn)
    _, period_end = period(start, days)
    end = min(period_end, at_local(p.first_day + timedelta(days=p.duration_days), 0, SHANGHAI))
    session = new_uuid(rng)

    def when(t: datetime) -> datetime:
        return clock(t, rng) if p.schedule == "office" or p.mimic else t

    out: list[Activity] = []
    t = when(at_local(p.first_day, rng.uniform(9, 17), SHANGHAI))
    # The first token: the password, straight to the token endpoint (ROPC), single factor.
    out.append(SignIn(t, user.upn, net, NAME, client=client, session_id=session, interactive=True))
    token_at = t
    listed: dict[str, set[str]] = {}
    to_sync = crawl_order(mailbox.folders())[: p.sync_folders]
    first = True
    while t < end:
        if t - token_at >= TOKEN_LIFETIME:
            out.append(SignIn(t, user.upn, net, NAME, client=client, session_id=session, interactive=False))
            token_at = t
        t_read = t + timedelta(seconds=rng.randint(2, 20))
        new: list[MessageRef] = []
        for folder in _LIVE_FOLDERS:
            present = folder_messages(mailbox, folder, t_read)
            before = listed.get(folder)
            listed[folder] = {m.message_id for m in present}
            if first and folder == "Inbox":  # first run: take the whole Inbox
                out.append(_read(user.upn, net, client, session, t_read, "Sync", present, [folder]))
            elif before is not None:
                new.extend(m for m in present if m.message_id not in before)
        if new:
            out.append(_read(user.upn, net, client, session, t_read + timedelta(seconds=5), "Bind", new, []))
        if to_sync and (first or rng.random() < p.sync_rate):
            folder = to_sync.pop(0)
            t_sync = t_read + timedelta(seconds=rng.randint(10, 60))
            out.append(
                _read(
                    user.upn, net, client, session, t_sync, "Sync", folder_messages(mailbox, folder, t_sync), [folder]
                )
            )
        first = False
        gap = timedelta(hours=p.interval_hours) + timedelta(minutes=rng.uniform(-p.jitter_minutes, p.jitter_minutes))
        t = when(t + gap)
    return within(out, period_end)


def _victims_cloud_client(user: User, fallback: Client) -> Client:
    """The victim's own desktop Outlook if they have one, else their first non-IMAP client, else ``fallback``."""
    cloud = [c for c in user.clients if c.protocol != "imap"]
    for client in cloud:
        if client.kind == "outlook":
            return client
    return cloud[0] if cloud else fallback


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
    return cloud_read(NAME, upn, net, client, session, t, access, messages, folders, 1 + len(messages) // 20)
