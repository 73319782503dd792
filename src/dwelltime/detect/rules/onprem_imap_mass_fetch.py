"""A user's IMAP/POP3 fetches in a day far exceed their own past, or crawl folders they never open.

Espionage operators with a stolen password do not read the way the owner does: a script
pulls everything new from Inbox and Sent Items and then works through old archive and
project folders, a few dozen messages a session, session after session.  The owner
reads a handful of messages a day, mostly in the Inbox and a few working folders.  Two
measures per user and UTC day, each against the user's own earlier days: the number of
messages fetched (Dovecot ``mail_log`` fetch lines, or ``body_count`` of the session's
logout line where fetches are not logged), and how many of them come from folders the
user had never fetched from before.  Medium: a new phone syncing a whole mailbox looks
alike, so an incident needs a second signal (a login from a new network, a cloud anomaly).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dwelltime.detect.base import Case, Detection, Keep
from dwelltime.detect.cases import ev

#: Days of a user's fetch history before this can alert, and earlier active days required.
LEARNING_DAYS = 4
MIN_PAST_DAYS = 3
#: A day's fetches must exceed this many messages and FACTOR times the user's busiest earlier day.
FLOOR_MESSAGES = 30
FACTOR = 5
#: Messages fetched in one day from folders the user never fetched from before.
NEW_FOLDER_MESSAGES = 20

_QUERY = f"""
WITH fetch_rows AS (
    SELECT event_uid, time, user, session_id, action, folder,
        CAST(floor(epoch(time) / 86400) AS BIGINT) AS day,
        CASE WHEN action = 'mail_read' THEN coalesce(item_count, 1) ELSE 0 END AS logged,
        CASE WHEN action = 'session_end' THEN coalesce(TRY_CAST(params['body_count'] AS BIGINT), 0) ELSE 0 END
            AS body_count
    FROM events
    WHERE source_format = 'dovecot' AND user IS NOT NULL
      AND ((event_class = 'mailbox_access' AND action IN ('mail_read', 'mail_sync')) OR action = 'session_end')
),
counted AS (
    -- A logout line counts only the bodies its session's fetch lines did not already count.
    SELECT *,
        logged + GREATEST(0, body_count - coalesce(SUM(logged) OVER (
            PARTITION BY user, session_id ORDER BY time, event_uid ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        ), 0)) AS msgs
    FROM fetch_rows
),
folder_first AS (
    SELECT user, folder, MIN(day) AS first_day FROM counted WHERE folder IS NOT NULL AND msgs > 0 GROUP BY user, folder
),
flagged AS (
    SELECT c.*,
        CASE WHEN c.folder IS NOT NULL AND f.first_day = c.day THEN c.msgs ELSE 0 END AS new_folder_msgs
    FROM counted c
    LEFT JOIN folder_first f ON f.user = c.user AND f.folder = c.folder
    WHERE c.msgs > 0
),
daily AS (
    SELECT user, day, SUM(msgs) AS msgs FROM flagged GROUP BY user, day
),
user_first AS (
    SELECT user, MIN(day) AS first_day FROM fetch_rows GROUP BY user
),
baseline AS (
    SELECT d.user, d.day, MAX(p.msgs) AS top, COUNT(*) AS past_days, SUM(p.msgs) AS past_msgs
    FROM daily d
    JOIN daily p ON p.user = d.user AND p.day < d.day
    JOIN user_first u ON u.user = d.user
    WHERE d.day >= u.first_day + {LEARNING_DAYS}
    GROUP BY d.user, d.day
    HAVING COUNT(*) >= {MIN_PAST_DAYS}
),
running AS (
    SELECT f.*, b.top, b.past_days, b.past_msgs,
        GREATEST({FLOOR_MESSAGES}, {FACTOR} * b.top) AS threshold,
        SUM(f.msgs) OVER (PARTITION BY f.user, f.day ORDER BY f.time, f.event_uid
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS so_far,
        SUM(f.new_folder_msgs) OVER (PARTITION BY f.user, f.day ORDER BY f.time, f.event_uid
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS new_so_far,
        ROW_NUMBER() OVER (PARTITION BY f.user, f.day ORDER BY f.time, f.event_uid) AS nth
    FROM flagged f
    JOIN baseline b ON b.user = f.user AND b.day = f.day
),
crossing AS (
    SELECT * FROM (
        SELECT *, ROW_NUMBER() OVER (PARTITION BY user, day ORDER BY time, event_uid) AS hit
        FROM running
        WHERE so_far > threshold OR new_so_far >= {NEW_FOLDER_MESSAGES}
    ) q
    WHERE hit = 1
),
logins AS (
    SELECT session_id, user, MIN(src_ip) AS src_ip
    FROM events
    WHERE source_format = 'dovecot' AND event_class = 'auth' AND action = 'login' AND outcome = 'success'
      AND session_id IS NOT NULL AND src_ip IS NOT NULL
    GROUP BY session_id, user
),
evidence AS (
    SELECT c.user, c.day,
        list(r.event_uid) AS uids,
        list(DISTINCT l.src_ip) AS ips,
        COUNT(DISTINCT r.session_id) AS sessions,
        nullif(array_to_string(list_sort(list(DISTINCT CASE WHEN r.new_folder_msgs > 0 THEN r.folder END)), ', '), '')
            AS new_folders
    FROM crossing c
    JOIN running r ON r.user = c.user AND r.day = c.day AND r.nth <= c.nth
    LEFT JOIN logins l ON l.session_id = r.session_id AND l.user = r.user
    GROUP BY c.user, c.day
)
SELECT
    c.user AS entity,
    'user' AS entity_type,
    c.time AS time,
    LEAST(1.0, 0.5 + 0.1 * ln(c.so_far / GREATEST(c.top, 1) + 1.0)
        + CASE WHEN c.new_so_far >= {NEW_FOLDER_MESSAGES} THEN 0.2 ELSE 0.0 END) AS score,
    e.uids AS event_uids,
    coalesce(e.ips, []) AS src_ips,
    c.user || ' fetched ' || CAST(c.so_far AS VARCHAR) || ' messages over IMAP/POP3 on '
        || strftime(c.time, '%Y-%m-%d') || ' UTC (by ' || strftime(c.time, '%H:%M') || ', in '
        || CAST(e.sessions AS VARCHAR) || ' session(s)'
        || coalesce(' from ' || array_to_string(list_sort(e.ips), ', '), '') || '); on '
        || CAST(c.past_days AS VARCHAR) || ' earlier active days the most was '
        || CAST(c.top AS VARCHAR) || ' (average ' || CAST(round(c.past_msgs / c.past_days, 1) AS VARCHAR) || ')'
        || CASE WHEN c.new_so_far > 0 THEN '; ' || CAST(c.new_so_far AS VARCHAR)
            || ' from folders the user never fetched from before: ' || coalesce(e.new_folders, '') ELSE '' END
        AS explanation
FROM crossing c
JOIN evidence e ON e.user = c.user AND e.day = c.day
"""


def _fetch(time: str, folder: str, sid: str, n: int = 1) -> dict[str, Any]:
    return ev(
        time,
        event_class="mailbox_access",
        action="mail_read",
        source_format="dovecot",
        protocol="imap",
        user="tanaka-a",
        session_id=sid,
        folder=folder,
        item_count=n,
    )


def _logout(time: str, sid: str, bodies: int) -> dict[str, Any]:
    return ev(
        time,
        event_class="auth",
        action="session_end",
        source_format="dovecot",
        protocol="imap",
        user="tanaka-a",
        session_id=sid,
        params={"body_count": str(bodies)},
    )


def _day(day: int, folder: str = "INBOX", n: int = 4) -> tuple[dict[str, Any], ...]:
    """An ordinary day: a few messages read in the morning, in a session whose logout repeats the count."""
    sid = f"s{day}"
    reads = tuple(_fetch(f"2024-04-{day:02d}T00:{10 + i:02d}:00Z", folder, sid) for i in range(n))
    return (*reads, _logout(f"2024-04-{day:02d}T00:30:00Z", sid, n))


_BASE = tuple(e for day in range(1, 9) for e in _day(day))

DETECTION = Detection(
    id="dt.onprem.imap_mass_fetch",
    title="IMAP/POP3 fetching far beyond the user's own past, or crawling folders never opened",
    techniques=("T1114.002", "T1119"),
    severity="medium",
    event_classes=("mailbox_access", "auth"),
    description=(
        "On Dovecot, the messages a user fetched in one UTC day exceed both "
        f"{FLOOR_MESSAGES} and {FACTOR}x the user's busiest earlier day, or at least {NEW_FOLDER_MESSAGES} of them "
        "come from folders the user never fetched from before (archive crawls). Counts come from mail_log fetch "
        "lines, or from the logout line's body_count where fetches are not logged. Learning period: the first "
        f"{LEARNING_DAYS} days of a user's fetch history, and at least {MIN_PAST_DAYS} earlier active days. "
        "Triage: the client address of the sessions (hosting? new for the user?), whether the user set up a new "
        "device that day, and which folders were read."
    ),
    query=_QUERY,
    # every fetch row (daily baselines per user); the logins of the day's sessions (one may start the day before)
    lookback=timedelta(days=2),
    keep=(
        Keep(
            "source_format = 'dovecot' AND user IS NOT NULL AND ((event_class = 'mailbox_access'"
            " AND action IN ('mail_read', 'mail_sync')) OR action = 'session_end')"
        ),
    ),
    positives=(
        Case(
            "a script pulls 80 messages in one session",
            (*_BASE, *(_fetch(f"2024-04-09T02:{i // 2:02d}:{(i % 2) * 30:02d}Z", "INBOX", "x1") for i in range(80))),
            1,
        ),
        Case(
            "a crawl through an archive folder the user never opens",
            (*_BASE, *(_fetch(f"2024-04-09T02:{i:02d}:00Z", "Archive/2019", "x2") for i in range(25))),
            1,
        ),
        Case(
            "no fetch lines logged: the logout line reports 150 bodies",
            (*_BASE, _logout("2024-04-09T03:00:00Z", "x3", 150)),
            1,
        ),
    ),
    negatives=(
        Case("an ordinary day", (*_BASE, *_day(9)), 0),
        Case("a busier day within the user's range", (*_BASE, *_day(9, n=12)), 0),
        Case(
            "opening a new project folder for a few messages",
            (*_BASE, *_day(9, folder="Projects/New", n=6)),
            0,
        ),
        Case(
            "heavy reading inside the learning period",
            (*_BASE[:10], *(_fetch(f"2024-04-03T02:{i:02d}:00Z", "Archive/2019", "x4") for i in range(50))),
            0,
        ),
    ),
)
