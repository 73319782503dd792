"""apt-imap: the NISC pattern -- stolen valid credentials, IMAP from a domestic VPS, for weeks.

An espionage operator holding a user's password logs in over IMAP from a VPS inside Japan
(so country-based rules stay quiet), during the operator's own office hours (Beijing time,
one hour behind Tokyo), every few hours with jitter.  Each session is a script: log in,
pick up what arrived in Inbox and Sent Items since the last visit, then fetch the next batch
of an ongoing crawl through old archive and project folders.  Volumes per session stay
modest; the login never fails (the password is right).  Some operators move to a fresh VPS
in the same provider part-way through.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dwelltime.simulate.activity import Activity, Client, MailboxRead, MessageRef, Network, SignIn
from dwelltime.simulate.model import Org, User
from dwelltime.simulate.scenarios import _clients
from dwelltime.simulate.scenarios._common import (
    SHANGHAI,
    CorpusView,
    MailboxView,
    at_local,
    attack_start_day,
    crawl_order,
    find_user,
    folder_messages,
    imap_session_id,
    network_for,
    next_office_time,
    period,
    pick_victim,
    residential_proxy,
    resolve_params,
    split_avoid,
    unseen,
    victims_hours,
    within,
)
from dwelltime.simulate.scenarios._networks import JP_HOSTING

NAME = "apt-imap"
ORG_KINDS = ("onprem", "hybrid")

_LIVE_FOLDERS = ("Inbox", "Sent Items")


@dataclass(frozen=True, slots=True)
class Params:
    """Parameters of apt-imap (defaults drawn from the scenario's rng).

    victim: UPN whose password the operator holds (managers and executives more likely).
    first_day: day of the first session (after a quarter to three fifths of the period).
    duration_days: campaign length, 21-56 days (cut at the end of the period).
    ip: the operator's VPS address, in a Japanese hosting prefix.
    second_ip: a later VPS in the same provider ("" = none); used from ``switch_after_days``.
    switch_after_days: days into the campaign when the operator moves to ``second_ip``.
    interval_hours: mean gap between sessions within office hours, 2-4.5 h.
    jitter_minutes: uniform jitter on each gap, 10-40 min.
    skip_day_rate: share of working days the operator does not touch this victim, 0.05-0.25.
    new_mail_limit: most recent messages read per live folder per session, 10-40.
    crawl_per_session: messages fetched per session from the archive crawl, 15-60.
    user_agent: the IMAP library's client string.
    mimic: an adversarial operator who hides in the victim's habits: a residential proxy in
        the victim's own home ISP, the victim's own client, the victim's working hours (Tokyo)
        instead of the operator's.  Off by default (no draw from the rng: other values stay).
    """

    victim: str
    first_day: date
    duration_days: int
    ip: str
    second_ip: str
    switch_after_days: int
    interval_hours: float
    jitter_minutes: float
    skip_day_rate: float
    new_mail_limit: int
    crawl_per_session: int
    user_agent: str
    mimic: bool = False


def defaults(org: Org, start: date, days: int, rng: random.Random, avoid: frozenset[str] = frozenset()) -> Params:
    first_day = attack_start_day(start, days, rng, min_length=min(21, max(1, days // 3)))
    victim = pick_victim(org, first_day, rng, avoid=avoid)
    prefix = rng.choice(JP_HOSTING)
    first, second = prefix.draw_many(rng, 2)
    moves = rng.random() < 0.4
    return Params(
        victim=victim.upn,
        first_day=first_day,
        duration_days=rng.randint(21, 56),
        ip=first.ip,
        second_ip=second.ip if moves else "",
        switch_after_days=rng.randint(7, 28),
        interval_hours=round(rng.uniform(2.0, 4.5), 2),
        jitter_minutes=round(rng.uniform(10, 40), 1),
        skip_day_rate=round(rng.uniform(0.05, 0.25), 2),
        new_mail_limit=rng.randint(10, 40),
        crawl_per_session=rng.randint(15, 60),
        user_agent=_clients.imap_script(rng).user_agent,
    )


def generate(
    org: Org, corpus: CorpusView, start: date, days: int, rng: random.Random, **params: object
) -> list[Activity]:
    avoid, rest = split_avoid(params)
    p = resolve_params(defaults(org, start, days, rng, avoid), rest)
    user = find_user(org, p.victim)
    _, period_end = period(start, days)
    end = min(period_end, at_local(p.first_day + timedelta(days=p.duration_days), 0, SHANGHAI))
    nets = [network_for(p.ip, JP_HOSTING)]
    if p.second_ip:
        nets.append(network_for(p.second_ip, JP_HOSTING))
    switch_at = at_local(p.first_day + timedelta(days=p.switch_after_days), 0, SHANGHAI)
    client = Client("script", p.user_agent, "Client=IMAP4", "IMAP4", "", "", "imap")
    clock: Callable[[datetime, random.Random], datetime] = next_office_time
    if p.mimic:
        nets = [residential_proxy(user, rng)]
        client = _victims_client(user, client)
        clock = victims_hours(user.work_hours)
    crawler = _Crawler(corpus.mailbox(user.upn), p)

    out: list[Activity] = []
    t = clock(at_local(p.first_day, 9 + rng.uniform(0, 2), SHANGHAI), rng)
    skipped: dict[date, bool] = {}
    while t < end:
        day = t.astimezone(SHANGHAI).date()
        if day not in skipped:
            skipped[day] = rng.random() < p.skip_day_rate and bool(out)
        if not skipped[day]:
            net = nets[-1] if t >= switch_at else nets[0]
            out.extend(_session(user.upn, net, client, t, crawler, rng))
        gap = timedelta(hours=p.interval_hours) + timedelta(minutes=rng.uniform(-p.jitter_minutes, p.jitter_minutes))
        t = clock(t + gap, rng)
    return within(out, period_end)


def _victims_client(user: User, fallback: Client) -> Client:
    """The victim's own IMAP client if they have one, else their first client's string over IMAP."""
    for client in user.clients:
        if client.protocol == "imap":
            return client
    if user.clients:
        first = user.clients[0]
        return Client("imap", first.user_agent, fallback.client_info, fallback.client_app_used, "", "", "imap")
    return fallback


class _Crawler:
    """What the operator's script remembers between sessions: what it listed and fetched."""

    def __init__(self, mailbox: MailboxView, p: Params) -> None:
        self.mailbox = mailbox
        self.p = p
        self.listed: dict[str, set[str]] = {}
        self.fetched: set[str] = set()
        self.queue: list[str] | None = None

    def live(self, folder: str, at: datetime) -> list[MessageRef]:
        """New mail since the last session (on the first, the most recent few)."""
        present = folder_messages(self.mailbox, folder, at)
        before = self.listed.get(folder)
        self.listed[folder] = {m.message_id for m in present}
        fresh = present if before is None else [m for m in present if m.message_id not in before]
        picked = unseen(fresh, self.fetched)[-self.p.new_mail_limit :]
        self.fetched.update(m.message_id for m in picked)
        return picked

    def crawl(self, at: datetime) -> tuple[list[str], list[MessageRef]]:
        """The next batch of the crawl through old folders, oldest first."""
        if self.queue is None:
            self.queue = crawl_order(self.mailbox.folders())
        budget = self.p.crawl_per_session
        folders: list[str] = []
        got: list[MessageRef] = []
        while self.queue and budget > 0:
            folder = self.queue[0]
            batch = unseen(folder_messages(self.mailbox, folder, at), self.fetched)[:budget]
            if batch:
                folders.append(folder)
                got.extend(batch)
                self.fetched.update(m.message_id for m in batch)
                budget -= len(batch)
            if budget > 0:  # folder exhausted
                self.queue.pop(0)
        return folders, got


def _session(
    upn: str, net: Network, client: Client, t: datetime, crawler: _Crawler, rng: random.Random
) -> list[Activity]:
    sid = imap_session_id(rng)
    login = SignIn(t, upn, net, NAME, client=client, session_id=sid, interactive=True)
    folders: list[str] = []
    read: list[MessageRef] = []
    available = set(crawler.mailbox.folders())
    for folder in _LIVE_FOLDERS:
        if folder in available:
            folders.append(folder)
            read.extend(crawler.live(folder, t))
    crawled_folders, crawled = crawler.crawl(t)
    folders.extend(crawled_folders)
    read.extend(crawled)
    duration = 3 + int(sum(rng.uniform(0.2, 0.9) for _ in read))
    commands = 4 + 2 * len(folders) + len(read)
    fetch = MailboxRead(
        t + timedelta(seconds=rng.randint(1, 3)),
        upn,
        net,
        NAME,
        client=client,
        session_id=sid,
        access_type="Bind",
        messages=read,
        folders=folders,
        duration_s=duration,
        bytes_in=commands * rng.randint(40, 70),
    )
    return [login, fetch]
