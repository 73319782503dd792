"""SQL building blocks shared by the sign-in detections (constant text, never values).

Why a shared module: every sign-in detection must agree on what "one sign-in" is and on
what "a network" is, or the same event would be judged differently by two detections.

* ``logins`` (a shared relation, :mod:`dwelltime.detect.shared`) collapses the same sign-in
  logged twice (Entra's sign-in log and the M365 audit log's ``UserLoggedIn`` both record
  it, same user, address, outcome and second) into one row, so that counts of attempts
  are counts of attempts, not of log copies.
* ``NET`` is the network a sign-in came from: its AS number, else its country, else
  its address (enrichment can miss the AS of small or new allocations).
* ``ORG_NETS`` / ``ORG_IPS`` say from when a network / an address is one the
  organisation itself uses: the time at which the third distinct user first signed in
  successfully from it.  Only the past counts, so a query may ask "was this an org
  network *before* this event?" without look-ahead.

The module name starts with ``_`` so the registry does not take it for a detection.
"""

from __future__ import annotations

#: Distinct users after whom a network / an address counts as the organisation's own.
ORG_USERS = 3


#: The network of a row of ``logins`` (an expression).
NET = "coalesce('AS' || CAST(asn AS VARCHAR), 'country ' || country, src_ip, 'unknown')"

#: Human description of the network of a row of ``logins`` (an expression).
NET_TEXT = (
    "coalesce('AS' || CAST(asn AS VARCHAR), 'no AS') || ' (' || coalesce(as_org, '?') || ', ' || net || ', '"
    " || coalesce(country, '??') || ')'"
)


def org_since(firsts: str, name: str, key: str, key_expr: str, source: str, where: str) -> str:
    """Two CTEs: ``firsts`` (each user's first row per ``key``) and ``name`` (per ``key``: ``first_seen``, and
    ``org_since``, the time of the :data:`ORG_USERS`-th distinct user's first row: from then on the key is
    one many people use).  Every argument is constant SQL text of ours, never a value."""
    return f"""
{firsts} AS (
    SELECT {key_expr} AS {key}, user, min(time) AS first_time
    FROM {source}
    WHERE {where}
    GROUP BY {key_expr}, user
),
{name} AS (
    SELECT {key}, min(first_time) AS first_seen, max(CASE WHEN nth = {ORG_USERS} THEN first_time END) AS org_since
    FROM (
        SELECT {key}, first_time, ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY first_time, user) AS nth
        FROM {firsts}
    ) ranked
    GROUP BY {key}
)"""


#: First successes per user and network, and when each network became an org network.
ORG_NETS = org_since("user_net_first", "org_nets", "netkey", NET, "logins", "outcome = 'success'")

#: When each address became one many users sign in from (office NAT, proxy, the org's own egress).
ORG_IPS = org_since(
    "user_ip_first", "org_ips", "src_ip", "src_ip", "logins", "outcome = 'success' AND src_ip IS NOT NULL"
)

#: When each principal first appeared in any event (start of its history; for the learning period).
USER_SINCE = """
user_since AS (
    SELECT user, min(time) AS since FROM events WHERE user IS NOT NULL GROUP BY user
)"""

#: Start of the organisation's data.
ORG_SINCE = """
org_since AS (
    SELECT min(time) AS since FROM events
)"""


def hhmm(expr: str) -> str:
    """SQL text formatting a timestamp expression as ``YYYY-MM-DD HH:MMZ``."""
    return f"strftime({expr}, '%Y-%m-%d %H:%M') || 'Z'"


def km(lat1: str, lon1: str, lat2: str, lon2: str) -> str:
    """Great-circle distance in km between two points (haversine), as SQL text."""
    return (
        f"2 * 6371.0 * asin(sqrt(power(sin(radians({lat2} - {lat1}) / 2), 2) + "
        f"cos(radians({lat1})) * cos(radians({lat2})) * power(sin(radians({lon2} - {lon1}) / 2), 2)))"
    )


#: Password spray bursts: failures from one source (a hosting/Tor AS as a whole, since
#: spray tools rotate addresses inside a provider; otherwise the address), split into
#: bursts at gaps of more than 30 minutes; a spray alert is the failure that brings a
#: burst to SPRAY_ACCOUNTS distinct accounts with at most SPRAY_PER_ACCOUNT attempts per
#: account on average so far, from a source few of the org's own users signed in from
#: successfully in the previous 24 h (an office NAT also produces many failures).
SPRAY_ACCOUNTS = 10
SPRAY_PER_ACCOUNT = 3

SPRAY = f"""
attempts AS (
    SELECT *,
        CASE WHEN net IN ('hosting', 'tor') AND asn IS NOT NULL THEN 'AS' || CAST(asn AS VARCHAR) ELSE src_ip END
            AS source
    FROM logins
    WHERE src_ip IS NOT NULL
),
fails AS (
    SELECT *,
        CASE WHEN LAG(time) OVER (PARTITION BY source ORDER BY time, event_uid) IS NULL
              OR LAG(time) OVER (PARTITION BY source ORDER BY time, event_uid) < time - INTERVAL 30 MINUTE
             THEN 1 ELSE 0 END AS new_burst
    FROM attempts
    WHERE outcome = 'failure'
),
burst_rows AS (
    SELECT *,
        SUM(new_burst) OVER (PARTITION BY source ORDER BY time, event_uid
                             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS burst
    FROM fails
),
counted AS (
    SELECT *,
        COUNT(*) OVER (PARTITION BY source, burst ORDER BY time, event_uid
                       ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS attempts_so_far,
        MIN(time) OVER (PARTITION BY source, burst) AS burst_start,
        ROW_NUMBER() OVER (PARTITION BY source, burst, user ORDER BY time, event_uid) AS nth_for_user
    FROM burst_rows
),
first_fails AS (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY source, burst ORDER BY time, event_uid) AS nth_account
    FROM counted
    WHERE nth_for_user = 1
),
spray_candidates AS (
    SELECT source, burst, burst_start, time AS alert_time, attempts_so_far, asn, as_org, net, country, src_ip
    FROM first_fails
    WHERE nth_account = {SPRAY_ACCOUNTS} AND attempts_so_far <= {SPRAY_ACCOUNTS * SPRAY_PER_ACCOUNT}
),
spray_org_use AS (
    SELECT c.source, c.burst, COUNT(DISTINCT s.user) AS ok_users
    FROM spray_candidates c
    JOIN attempts s
      ON s.source = c.source AND s.outcome = 'success'
     AND s.time <= c.alert_time AND s.time > c.alert_time - INTERVAL 24 HOUR
    GROUP BY c.source, c.burst
),
sprays AS (
    SELECT c.*
    FROM spray_candidates c
    LEFT JOIN spray_org_use o ON o.source = c.source AND o.burst = c.burst
    WHERE coalesce(o.ok_users, 0) * 3 < {SPRAY_ACCOUNTS}
)"""
