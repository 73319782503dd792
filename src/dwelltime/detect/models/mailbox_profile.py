"""Mailbox-access profile: does a session read the mailbox the way its owner does?

A stolen password hides the sign-in (the owner's address pool, the owner's client, the
owner's hours: see the simulator's ``apt-imap.mimic``), but not the reading.  An operator
collecting a mailbox pulls what is new and then works through folders the owner has not
opened in months, a few dozen messages at a time; the owner reads a handful of messages a
session in the few folders they live in.  So each *access session* (one IMAP connection,
or one Exchange session's reads within half an hour) is compared with the owner's own
earlier sessions, aspect by aspect, and each aspect contributes how unusual it is, in
log10 units, so that the sum reads as orders of magnitude and each term can be shown:

* **volume** — messages (and bytes) read in the session against the largest session of the
  owner's past: ``ALPHA * log10((x + 1) / (ref + 1))`` when larger, a Pareto tail of index
  ``ALPHA``: a session twice the owner's record is ``10**-0.6`` as likely, ten times it
  ``10**-2``; halved when every folder read is one the owner reads (a new phone filling its
  Inbox).  Until the owner has ``MIN_SESSIONS`` sessions, they are
  judged by their colleagues too: the reference is at least the organisation's 99th
  percentile session (and the other aspects wait: Witten–Bell on a handful of sessions
  finds everything new unlikely);
* **folders** — each folder the owner never read before costs ``log10((v + d) / d)``, the
  Witten–Bell probability of something new after ``v`` folder visits spread over ``d``
  folders (a person who lives in three folders makes a fourth unlikely; one who files into
  forty does not); at most ``MAX_NEW_FOLDERS`` count;
* **client** — a client (user agent, else client app, else protocol) the owner never used,
  Witten–Bell likewise;
* **hour** — the hour of day (UTC) under the owner's own hours, smoothed towards the
  organisation's (Witten–Bell backoff): ``log10(P(h | org) / P(h | owner))`` when above 0,
  i.e. off-hours *for this person*.

A new device's first sync also reads a lot from many folders; it comes with a new client
from a network the owner already uses.  Such a session's volume and folder terms are
halved (``NEW_DEVICE_DISCOUNT``), and the explanation says so.  An attacker with the
owner's client string, or from a network the owner never used, gets no discount.

Streaming contract: :meth:`MailboxProfile.score_one` before :meth:`MailboxProfile.learn_one`;
sessions scoring ``LEARN_BELOW`` or more are not learned, so a crawl does not become the
owner's normal (the volume reference and the folders stay the owner's own).

>>> from datetime import datetime, timezone
>>> p = MailboxProfile()
>>> t = datetime(2024, 4, 1, 1, tzinfo=timezone.utc)
>>> for day in range(12):
...     s = AccessSession("ito", t.replace(day=1 + day), 2, 6000, ("INBOX",), "Thunderbird", "as2516")
...     p.learn_one(s)
>>> crawl = AccessSession("ito", t.replace(day=14), 66, 150000, ("Archive/2023", "INBOX"), "Thunderbird", "as2516")
>>> parts = p.parts(crawl)
>>> round(parts["volume"], 2), round(parts["folders"], 2), round(p.score_one(crawl), 2)
(2.8, 1.11, 3.91)
>>> usual = AccessSession("ito", t.replace(day=14), 2, 5000, ("INBOX",), "Thunderbird", "as2516")
>>> p.score_one(usual)
0.0
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

#: Pareto tail index of a person's session sizes above their record.
ALPHA = 2.0
#: Sessions before the owner's own habits are trusted (folders, client, hours; and their record
#: alone as the volume reference).  Witten-Bell on a handful of sessions calls everything new
#: unlikely.  A count, not a number of days: the estimates' uncertainty is in the counts, and a
#: learning period in days would leave a person unprotected in their first week whatever they did.
MIN_SESSIONS = 10
#: Factor on volume when every folder read is one the owner reads (a new phone filling its
#: Inbox reads a lot, in the owner's own folders; a collection reads where they do not).
OWN_FOLDERS_DISCOUNT = 0.5
#: Folders new to the owner that count in one session.
MAX_NEW_FOLDERS = 3
#: Factor on volume and folders for a new client on a network the owner already uses.
NEW_DEVICE_DISCOUNT = 0.5
#: A network counts as the owner's after this many of their sessions from it.
USUAL_NETWORK_SESSIONS = 3
#: Sessions scoring this much or more are not learned (anomalies do not become the baseline).
LEARN_BELOW = 3.0
#: Organisation sessions kept for the newcomer reference (a sorted sample; bounded memory).
ORG_SAMPLE = 20_000


@dataclass(frozen=True, slots=True)
class AccessSession:
    """One access session, as the detection's query builds it."""

    user: str
    time: datetime
    items: int  # messages read
    bytes: int  # bytes read (0 when unknown)
    folders: tuple[str, ...]
    client: str  # user agent, else client app, else protocol ("" unknown)
    network: str  # ASN or address key of where it came from ("" unknown)


@dataclass
class _Owner:
    sessions: int = 0
    max_items: int = 0
    max_bytes: int = 0
    folder_visits: int = 0
    folders: Counter[str] = field(default_factory=Counter)
    clients: Counter[str] = field(default_factory=Counter)
    networks: Counter[str] = field(default_factory=Counter)
    hours: Counter[int] = field(default_factory=Counter)


class MailboxProfile:
    """Per-user access profiles with an organisation backoff; see the module docstring."""

    def __init__(self) -> None:
        self._owners: dict[str, _Owner] = {}
        self._org_hours: Counter[int] = Counter()
        self._org_sessions = 0
        self._org_items: list[int] = []
        self._org_bytes: list[int] = []

    # ------------------------------------------------------------------ contract

    def score_one(self, session: AccessSession) -> float:
        """How unusual the session is for its owner, in orders of magnitude (0 = ordinary)."""
        return sum(self.parts(session).values())

    def learn_one(self, session: AccessSession) -> None:
        """Add the session to its owner's profile and the organisation's."""
        owner = self._owners.setdefault(session.user, _Owner())
        owner.sessions += 1
        owner.max_items = max(owner.max_items, session.items)
        owner.max_bytes = max(owner.max_bytes, session.bytes)
        folders = _folder_keys(session)
        owner.folder_visits += len(folders)
        owner.folders.update(folders)
        if session.client:
            owner.clients[session.client] += 1
        if session.network:
            owner.networks[session.network] += 1
        hour = session.time.hour
        owner.hours[hour] += 1
        self._org_hours[hour] += 1
        self._org_sessions += 1
        _sample_insert(self._org_items, session.items, self._org_sessions)
        _sample_insert(self._org_bytes, session.bytes, self._org_sessions)

    def observe_one(self, session: AccessSession) -> float:
        """Score, then learn unless anomalous; returns the score (the replay's step)."""
        score = self.score_one(session)
        if score < LEARN_BELOW:
            self.learn_one(session)
        return score

    # ------------------------------------------------------------------ the terms

    def parts(self, session: AccessSession) -> dict[str, float]:
        """Each aspect's contribution (log10), for the score and its explanation."""
        owner = self._owners.get(session.user)
        if owner is None or not self.knows(owner):
            return {"volume": self._volume(session, owner), "folders": 0.0, "client": 0.0, "hour": 0.0}
        factor = NEW_DEVICE_DISCOUNT if self.new_device(session) else 1.0
        own_folders = bool(session.folders) and not _new_folders(session, owner)
        return {
            "volume": factor * (OWN_FOLDERS_DISCOUNT if own_folders else 1.0) * self._volume(session, owner),
            "folders": factor * self._folders(session, owner),
            "client": self._novelty(session.client, owner.clients) if session.client else 0.0,
            "hour": self._hour(session, owner),
        }

    @staticmethod
    def knows(owner: _Owner) -> bool:
        """Whether the owner's history is long enough for their own habits to be judged by."""
        return owner.sessions >= MIN_SESSIONS

    def new_device(self, session: AccessSession) -> bool:
        """A client the owner never used, from a network they use: what a new phone's first sync looks like."""
        owner = self._owners.get(session.user)
        if owner is None or not session.client or session.client in owner.clients:
            return False
        return bool(session.network) and owner.networks[session.network] >= USUAL_NETWORK_SESSIONS

    def reference(self, session: AccessSession) -> tuple[int, int, int]:
        """(messages, bytes, sessions) the session's volume is measured against."""
        owner = self._owners.get(session.user)
        items, size, count = (owner.max_items, owner.max_bytes, owner.sessions) if owner else (0, 0, 0)
        if owner is None or not self.knows(owner):
            items = max(items, _quantile(self._org_items, 0.99))
            size = max(size, _quantile(self._org_bytes, 0.99))
        return items, size, count

    def _volume(self, session: AccessSession, owner: _Owner | None) -> float:
        if len(self._org_items) < MIN_SESSIONS and (owner is None or not self.knows(owner)):
            return 0.0  # nobody's history yet: nothing to compare with
        items, size, _ = self.reference(session)
        by_items = ALPHA * math.log10((session.items + 1) / (items + 1))
        by_bytes = ALPHA * math.log10((session.bytes + 1) / (size + 1)) if session.bytes and size else 0.0
        return max(0.0, by_items, by_bytes)

    def _folders(self, session: AccessSession, owner: _Owner) -> float:
        new = _new_folders(session, owner)[:MAX_NEW_FOLDERS]
        if not new or owner.folder_visits == 0:
            return 0.0
        distinct = len(owner.folders)
        return len(new) * math.log10((owner.folder_visits + distinct) / distinct)

    @staticmethod
    def _novelty(value: str, seen: Counter[str]) -> float:
        if value in seen or not seen:
            return 0.0
        total = sum(seen.values())
        return math.log10((total + len(seen)) / len(seen))

    def _hour(self, session: AccessSession, owner: _Owner) -> float:
        hour = session.time.hour
        org = (self._org_hours[hour] + 1) / (self._org_sessions + 24)
        distinct = len(owner.hours)
        own = (owner.hours[hour] + distinct * org) / (owner.sessions + distinct)
        return max(0.0, math.log10(org / own))

    def explain(self, session: AccessSession) -> str:
        """What was unusual and how unusual, e.g. for an alert."""
        parts = self.parts(session)
        owner = self._owners.get(session.user) or _Owner()
        items, size, count = self.reference(session)
        said: list[str] = []
        if parts["volume"] > 0:
            said.append(
                f"{session.items:,} messages ({_size(session.bytes)}) in one session; the largest of "
                f"{count:,} earlier sessions: {items:,} messages ({_size(size)}) [+{parts['volume']:.1f}]"
            )
        new = _new_folders(session, owner)
        if parts["folders"] > 0:
            shown = ", ".join(new[:5]) + (f" and {len(new) - 5} more" if len(new) > 5 else "")
            said.append(
                f"{len(new)} folder(s) never read before ({shown}; {len(owner.folders)} folders in "
                f"{owner.folder_visits:,} earlier folder visits) [+{parts['folders']:.1f}]"
            )
        if parts["client"] > 0:
            said.append(f"client {session.client!r} new for the user [+{parts['client']:.1f}]")
        if parts["hour"] > 0:
            said.append(
                f"{session.time.hour:02d}h UTC: {owner.hours[session.time.hour]} of the user's "
                f"{owner.sessions:,} sessions [+{parts['hour']:.1f}]"
            )
        if parts["volume"] > 0 and session.folders and not new:
            said.append("volume halved: every folder read is one the user reads")
        if self.new_device(session):
            said.append("volume and folders halved: a new client on a network the user already uses (a new device?)")
        return "; ".join(said) if said else "nothing unusual"


def folder_key(name: str) -> str:
    r"""One spelling per folder whichever log named it: Exchange writes ``\\Inbox``, ``\\Sent Items``;
    IMAP ``INBOX``, ``Sent Items`` or ``INBOX/Projects``; a person is one person across both.

    >>> folder_key("\\Inbox"), folder_key("INBOX"), folder_key("Sent Items"), folder_key("INBOX.Projects")
    ('inbox', 'inbox', 'sent items', 'inbox/projects')
    """
    key = name.strip().lstrip("\\/").replace("\\", "/").casefold()
    if key.startswith("inbox."):
        key = "inbox/" + key[6:]
    return key


def _folder_keys(session: AccessSession) -> list[str]:
    return list(dict.fromkeys(folder_key(f) for f in session.folders if f))


def _new_folders(session: AccessSession, owner: _Owner) -> list[str]:
    """The session's folders (as the log names them) that the owner never read, in order."""
    seen: set[str] = set()
    new = []
    for name in session.folders:
        key = folder_key(name)
        if key and key not in owner.folders and key not in seen:
            seen.add(key)
            new.append(name)
    return new


def _sample_insert(sample: list[int], value: int, seen: int) -> None:
    """Keep a sorted sample of at most ORG_SAMPLE values: every value until full, then every k-th.

    Deterministic (replays give the same references), and bounded whatever the log's size.
    """
    stride = max(1, seen // ORG_SAMPLE)
    if seen % stride:
        return
    bisect.insort(sample, value)
    if len(sample) > ORG_SAMPLE:
        del sample[::2]  # thin evenly: the sample's quantiles stay the stream's


def _quantile(sample: list[int], q: float) -> int:
    if not sample:
        return 0
    return sample[min(len(sample) - 1, int(q * len(sample)))]


def _size(count: int) -> str:
    if count <= 0:
        return "size unknown"
    for unit, scale in (("MB", 1_000_000), ("kB", 1_000)):
        if count >= scale:
            return f"{count / scale:,.1f} {unit}"
    return f"{count} B"
