"""A mailbox read unlike its owner: volume, folders never opened, a new client, off-hours (access profile model).

Every rule about the sign-in can be defeated by an operator who signs in from the owner's
own ISP with the owner's client during the owner's hours; the reading cannot: collecting a
mailbox means reading more, and reading where the owner does not.  This detection replays
every access session (an IMAP connection: Dovecot's fetch lines and its logout counters;
an Exchange session's MailItemsAccessed records, split after 30 quiet minutes) through
:class:`dwelltime.detect.models.mailbox_profile.MailboxProfile` and alerts the first time
a session's running score (orders of magnitude, summed over the aspects) reaches
:data:`ALERT_AT`, at the event that made it so (so a live deployment alerts mid-session,
and replaying history gives the same times).  Sessions are learned when they end (a
Dovecot logout; 30 minutes quiet otherwise), and the anomalous ones are not learned.

Risk is the score's (``risk_of``): 10 points per order of magnitude, 20 to 50, so a session
a hundred thousand times beyond the owner's habits opens an incident by itself and a
merely large one needs corroboration.  A session that goes on growing alerts once more when
its score reaches :data:`ESCALATE_AT`, with that risk: the first alert is timely, the second
says what the session went on to read.  Unusual sessions of one user within 72 hours add up
(:data:`ACCUMULATE_OVER`): each is unusual on its own and none is learned, and together
they are the stronger evidence; the escalated alert names them.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb

from dwelltime.detect.base import Case, Detection
from dwelltime.detect.cases import ev
from dwelltime.detect.models.mailbox_profile import LEARN_BELOW, AccessSession, MailboxProfile
from dwelltime.detect.scoring import utc

#: Score (log10, summed over aspects) at which a session alerts; also what is kept out of the baseline.
ALERT_AT = LEARN_BELOW
#: A session without a logout ends after this long without reads.
QUIET = timedelta(minutes=30)
#: A session that keeps growing past this score alerts once more, with the higher risk (the first
#: alert comes as soon as the session is unusual; what it went on to read is what an incident needs).
ESCALATE_AT = 5.0
#: One alert per user and level in this long (a crawl is many sessions; the first says it).
REALERT_AFTER = timedelta(hours=24)
#: Unusual sessions of one user within this long add up: a collection is many sessions, each
#: unusual on its own (they are never learned), and two sessions each a thousand times beyond
#: the owner's habits are, taken together, a million times beyond them.
ACCUMULATE_OVER = timedelta(hours=72)

_QUERY = f"""
WITH access AS (
    SELECT user, time, event_uid, source_format, session_id, event_class, action, src_ip, src_asn,
        coalesce(nullif(user_agent, ''), nullif(client_app, ''), protocol) AS client,
        CASE WHEN event_class = 'mailbox_access' THEN coalesce(item_count, len(message_ids), 1) ELSE 0 END AS logged,
        CASE WHEN action = 'session_end' THEN coalesce(TRY_CAST(params['body_count'] AS BIGINT), 0) ELSE 0 END
            AS body_count,
        CASE WHEN event_class = 'mailbox_access' THEN coalesce(bytes_out, 0)
             WHEN action = 'session_end' THEN coalesce(TRY_CAST(params['body_bytes'] AS BIGINT), 0) ELSE 0 END
            AS nbytes,
        CASE WHEN event_class = 'mailbox_access'
             THEN coalesce(folders, CASE WHEN folder IS NOT NULL THEN [folder] END) END AS fl
    FROM events
    WHERE user IS NOT NULL AND (
        (event_class = 'mailbox_access' AND action = 'mail_read')
        OR (source_format = 'dovecot' AND session_id IS NOT NULL
            AND ((event_class = 'auth' AND action = 'login' AND outcome = 'success') OR action = 'session_end')))
),
keyed AS (
    -- A Dovecot session id names one connection; elsewhere a session id (or the address)
    -- spans hours, so its reads are split after {int(QUIET.total_seconds())} s without any.
    SELECT *,
        CASE WHEN source_format = 'dovecot' THEN 'd:' || session_id
             ELSE 'x:' || coalesce(session_id, src_ip, '') END AS skey,
        CASE WHEN source_format <> 'dovecot' AND epoch(time) - lag(epoch(time)) OVER (
            PARTITION BY user, source_format = 'dovecot', coalesce(session_id, src_ip, '') ORDER BY time, event_uid)
            > {int(QUIET.total_seconds())} THEN 1 ELSE 0 END AS brk
    FROM access
),
parted AS (
    SELECT *, sum(brk) OVER (PARTITION BY user, skey ORDER BY time, event_uid ROWS UNBOUNDED PRECEDING) AS part
    FROM keyed
),
sessions AS (
    SELECT user, skey, part, max(time) AS ends,
        bool_or(action = 'session_end') AS logged_out
    FROM parted
    GROUP BY user, skey, part
    HAVING sum(logged) > 0 OR max(body_count) > 0
)
SELECT p.user, p.skey || '#' || CAST(p.part AS VARCHAR) AS sid, p.time, p.event_uid, p.src_ip,
    CAST(p.src_asn AS VARCHAR) AS asn, p.client, p.logged, p.body_count, p.nbytes, p.fl,
    s.ends, s.logged_out
FROM parted p JOIN sessions s ON s.user = p.user AND s.skey = p.skey AND s.part = p.part
ORDER BY p.time, p.event_uid
"""


@dataclass
class _Open:
    """A session in progress: what its events so far add up to."""

    user: str
    first: datetime
    items: int = 0
    body_count: int = 0
    read_bytes: int = 0
    body_bytes: int = 0
    folders: dict[str, None] = field(default_factory=dict)
    client: str = ""
    network: str = ""
    src_ips: dict[str, None] = field(default_factory=dict)
    uids: list[str] = field(default_factory=list)
    alerted: float = 0.0  # the level this session last alerted at (0: not yet)
    best: float = 0.0  # its highest score so far
    last: datetime | None = None  # its latest event

    def view(self) -> AccessSession:
        return AccessSession(
            self.user,
            self.first,
            max(self.items, self.body_count),
            max(self.read_bytes, self.body_bytes),
            tuple(self.folders),
            self.client,
            self.network,
        )


def _score(con: duckdb.DuckDBPyConnection, query: str) -> Sequence[tuple[object, ...]]:
    """Replay access events in time order: sessions scored as they grow, learned when they end."""
    profile = MailboxProfile()
    sessions: dict[str, _Open] = {}
    ending: list[tuple[datetime, int, str]] = []  # (when it ends, order, sid): learned then
    last_alert: dict[tuple[str, float], datetime] = {}
    unusual: dict[str, list[_Open]] = {}  # per user, sessions that reached ALERT_AT
    out: list[tuple[object, ...]] = []
    order = 0
    cursor = con.execute(query)
    while batch := cursor.fetchmany(50_000):
        for user, sid, time, uid, ip, asn, client, logged, body_count, nbytes, folders, ends, logged_out in batch:
            at = utc(time)
            while ending and ending[0][0] < at:
                _, _, done = heapq.heappop(ending)
                profile.observe_one(sessions.pop(done).view())
            open_ = sessions.get(sid)
            if open_ is None:
                open_ = sessions[sid] = _Open(str(user), at)
                end = utc(ends) if logged_out else utc(ends) + QUIET
                order += 1
                heapq.heappush(ending, (end, order, sid))
            _add(open_, ip, asn, client, int(logged), int(body_count), int(nbytes), folders, str(uid))
            open_.last = at
            if open_.alerted >= ESCALATE_AT or (open_.items == 0 and open_.body_count == 0):
                continue
            view = open_.view()
            score = profile.score_one(view)
            if score < ALERT_AT:
                continue
            mine = unusual.setdefault(view.user, [])
            mine[:] = [o for o in mine if o.last is not None and at - o.last <= ACCUMULATE_OVER]
            if open_ not in mine:
                mine.append(open_)
            open_.best = max(open_.best, score)
            others = [o for o in mine if o is not open_]
            evidence = score + sum(o.best for o in others)
            level = ESCALATE_AT if evidence >= ESCALATE_AT else ALERT_AT
            if level <= open_.alerted:
                continue
            open_.alerted = level
            previous = last_alert.get((view.user, level))
            if previous is not None and at - previous < REALERT_AFTER:
                continue
            last_alert[(view.user, level)] = at
            text = f"{view.user}: mailbox read unlike its owner: {profile.explain(view)}"
            if others:
                text += (
                    f"; with {len(others)} other unusual session(s) of the user in the last "
                    f"{int(ACCUMULATE_OVER.total_seconds() // 3600)} h (scores "
                    + ", ".join(f"{o.best:.1f}" for o in others)
                    + f"): {evidence:.1f} together"
                )
            uids = [u for o in (*others, open_) for u in o.uids]
            ips = list(dict.fromkeys(ip for o in (*others, open_) for ip in o.src_ips))
            out.append((view.user, "user", at, round(evidence, 3), uids, ips, text))
    return out


def _add(
    session: _Open,
    ip: object,
    asn: object,
    client: object,
    logged: int,
    body_count: int,
    nbytes: int,
    folders: object,
    uid: str,
) -> None:
    session.items += logged
    session.body_count = max(session.body_count, body_count)
    if logged:
        session.read_bytes += nbytes
    elif body_count:
        session.body_bytes = max(session.body_bytes, nbytes)
    for folder in folders or []:  # type: ignore[attr-defined]
        if folder:
            session.folders[str(folder)] = None
    if client and not session.client:
        session.client = str(client)
    if ip:
        session.src_ips[str(ip)] = None
        if not session.network:
            session.network = f"as{asn}" if asn else str(ip)
    if logged or body_count:
        session.uids.append(uid)


def risk_of(score: float) -> int:
    """10 risk points per order of magnitude of unusualness, from 20 (at the alert threshold) to 50.

    >>> risk_of(3.0), risk_of(3.94), risk_of(7.0)
    (30, 39, 50)
    """
    return int(max(20, min(50, round(10 * score))))


# --------------------------------------------------------------------------- cases

_OWNER = "sato-k"


def _imap_session(
    day: int, hour: int, sid: str, ip: str, asn: int, folders: list[tuple[str, int]]
) -> list[dict[str, Any]]:
    """A Dovecot IMAP session: the login, one fetch line per message, the logout with its counters."""
    base = datetime(2024, 4, 1, tzinfo=UTC) + timedelta(days=day, hours=hour)
    out = [
        ev(
            base.isoformat(), source_format="dovecot", event_class="auth", action="login", user=_OWNER,
            session_id=sid, src_ip=ip, src_asn=asn, protocol="imap",
        )
    ]  # fmt: skip
    count = 0
    for folder, messages in folders:
        for _ in range(messages):
            count += 1
            out.append(
                ev(
                    (base + timedelta(seconds=count)).isoformat(), source_format="dovecot",
                    event_class="mailbox_access", action="mail_read", user=_OWNER, session_id=sid,
                    folder=folder, folders=[folder], item_count=1, bytes_out=2500, protocol="imap",
                    message_ids=[f"<{sid}.{count}@example.jp>"],
                )
            )  # fmt: skip
    out.append(
        ev(
            (base + timedelta(seconds=count + 5)).isoformat(), source_format="dovecot", event_class="auth",
            action="session_end", user=_OWNER, session_id=sid, protocol="imap",
            params={"body_count": str(count), "body_bytes": str(2500 * count)},
        )
    )  # fmt: skip
    return out


def _habit(days: int = 14) -> list[dict[str, Any]]:
    """Two sessions a working day from home, a message or two from the Inbox or a project folder."""
    out: list[dict[str, Any]] = []
    for day in range(days):
        out += _imap_session(day, 0, f"h{day}a", "118.109.221.31", 2518, [("INBOX", 1 + day % 2)])
        out += _imap_session(day, 5, f"h{day}b", "118.109.221.31", 2518, [("会議資料", 1)])
    return out


_TWO_DAYS = (
    *_imap_session(15, 1, "c1", "118.109.222.11", 2518, [("Sent Items", 12)]),
    *_imap_session(16, 2, "c2", "118.109.222.11", 2518, [("Archive/2023", 12)]),
)
_CRAWL = _imap_session(15, 1, "crawl1", "118.109.222.11", 2518, [("Sent Items", 12), ("Archive/2023", 40)])

DETECTION = Detection(
    id="dt.mailbox.access_profile",
    title="A mailbox read unlike its owner: volume, folders never opened, a new client, off-hours",
    techniques=("T1114.002", "T1078"),
    severity="medium",
    event_classes=("mailbox_access", "auth"),
    description=(
        "An access session (an IMAP connection, or an Exchange session's reads) is compared with the owner's own "
        "earlier sessions: messages and bytes read against their largest session, folders they never read, a "
        "client they never used, an hour they are not usually reading at; each aspect adds its orders of "
        "magnitude, and the session alerts when the sum reaches 3 (a new device's first sync from the owner's "
        "usual network counts half). This is how a mailbox collection that hides its sign-in (the owner's ISP, "
        "client and hours) still shows. Triage: the folders and messages read (dwelltime scope), the session's "
        "address against the user's own, and whether the user set up a new device."
    ),
    query=_QUERY,
    scorer=_score,
    risk_of=risk_of,
    lookback=None,
    positives=(
        # Two alerts: as soon as the session is unusual, and again once it has read enough to reach ESCALATE_AT.
        Case(
            "a crawl of Sent Items and the 2023 archive from a new address in the owner's ISP", (*_habit(), *_CRAWL), 2
        ),
        # Each session a thousandfold unusual (one alert), the second a day later: together, an escalation.
        Case("two smaller crawl sessions a day apart add up", (*_habit(), *_TWO_DAYS), 2),
    ),
    negatives=(
        Case("the owner's ordinary reading for two weeks", tuple(_habit()), 0),
        Case(
            "a new user's first sessions (nothing to compare with yet)",
            tuple(_imap_session(0, 1, "n1", "118.109.222.11", 2518, [("INBOX", 30), ("Archive/2023", 20)])),
            0,
        ),
        Case(
            "the owner reading a little more than usual, in their own folders",
            tuple(_habit() + _imap_session(15, 1, "more", "118.109.221.31", 2518, [("INBOX", 3), ("会議資料", 1)])),
            0,
        ),
    ),
)
