"""Relations derived from ``events`` once per run and shared by several detections.

Why: seven sign-in detections judge "one sign-in", and must agree on what it is (see
:mod:`dwelltime.detect.rules._signin`).  Computing it once per run instead of once per
detection is also most of the cost of those detections.  And for incremental runs a
shared relation is the level at which history is kept: a first-seen baseline over
sign-ins keeps the first *sign-in* per key, which a reduction over raw log copies could
not express exactly (a sign-in's protocol is the most informative of its copies).

Each entry is a SELECT over ``events`` (portable SQL, constant text).  A shared relation
must be computable row-group by row-group from events grouped at most per second, so
that the relation over "old events + new events" is the union of the relation over
each part when they are split at a whole second.
"""

from __future__ import annotations

#: One successful or failed interactive sign-in: the same sign-in logged twice (Entra's
#: sign-in log and the M365 audit log's UserLoggedIn record it with the same user,
#: address, outcome and second) becomes one row.
LOGINS = """
    SELECT
        user,
        src_ip,
        outcome,
        min(time) AS time,
        min(event_uid) AS event_uid,
        max(src_asn) AS asn,
        max(src_as_org) AS as_org,
        coalesce(max(src_net_class), 'unknown') AS net,
        max(src_country) AS country,
        max(src_city) AS city,
        max(src_lat) AS lat,
        max(src_lon) AS lon,
        max(protocol) AS protocol,
        max(session_id) AS session_id,
        max(user_agent) AS user_agent
    FROM events
    WHERE event_class = 'auth' AND action = 'login' AND user IS NOT NULL AND outcome IN ('success', 'failure')
    GROUP BY user, src_ip, outcome, date_trunc('second', time)
"""

LOGINS_COLUMNS: tuple[str, ...] = (
    "user",
    "src_ip",
    "outcome",
    "time",
    "event_uid",
    "asn",
    "as_org",
    "net",
    "country",
    "city",
    "lat",
    "lon",
    "protocol",
    "session_id",
    "user_agent",
)

#: name -> (SELECT over events, its columns), in the order they are built.
SHARED: dict[str, tuple[str, tuple[str, ...]]] = {"logins": (LOGINS, LOGINS_COLUMNS)}
