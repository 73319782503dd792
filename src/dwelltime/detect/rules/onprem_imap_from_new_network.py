"""A Dovecot / Postfix login from a hosting, VPN or Tor network the user never logged in from.

Stolen on-prem mail passwords are used with scripts run from rented servers: the NISC
intruders read mail over IMAP from a domestic VPS for months, so a country check stays
quiet while the network class does not.  People log in from the office LAN, from home
(their ISP hands out a new address now and then, inside the same AS) and from their
phone carrier; none of that is news.  A user's first login from a datacentre, a VPN
exit or Tor is.  It is weighted up when nobody in the organisation ever used that
network and when no other user shares the address (a VPS rented for one victim), and
down when the address is shared (a commercial VPN exit).  Low: commercial VPN users look
the same on the wire, and dt.signin.new_hosting_asn already weighs hosting networks for
every sign-in source; this adds the on-prem view (a hybrid user's first IMAP login ever,
the address shared or not) so that, with a mass fetch or a cloud anomaly on the same
person, an incident opens, while a VPN user alone does not.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dwelltime.detect.base import Case, Detection, Keep
from dwelltime.detect.cases import ev

#: Days of a user's login history before a "new network" can alert (the learning period).
LEARNING_DAYS = 4

#: The network of a login: the LAN, else the AS, else the AS name, else the address.
_NET = (
    "CASE WHEN src_net_class = 'private' THEN 'LAN' WHEN src_asn IS NOT NULL THEN 'AS' || CAST(src_asn AS VARCHAR)"
    " WHEN src_as_org IS NOT NULL THEN src_as_org ELSE src_ip END"
)

_QUERY = f"""
WITH logins AS (
    SELECT event_uid, time, user, src_ip, src_asn, src_as_org, src_net_class, protocol,
        {_NET} AS net
    FROM events
    WHERE event_class = 'auth' AND action = 'login' AND outcome = 'success'
      AND source_format IN ('dovecot', 'postfix')
      AND user IS NOT NULL AND src_ip IS NOT NULL
),
numbered AS (
    SELECT *,
        ROW_NUMBER() OVER (PARTITION BY user, net ORDER BY time, event_uid) AS nth_on_net,
        ROW_NUMBER() OVER (PARTITION BY user ORDER BY time, event_uid) AS nth_for_user
    FROM logins
),
-- The earliest event is in every prefix of the data, so these minima never look ahead.
firsts AS (
    SELECT user, MIN(time) AS user_first FROM logins GROUP BY user
),
candidates AS (
    SELECT n.*, f.user_first
    FROM numbered n
    JOIN firsts f ON f.user = n.user
    WHERE n.nth_on_net = 1
      AND n.src_net_class IN ('hosting', 'vpn', 'tor')
      AND n.time >= (SELECT MIN(time) FROM logins) + INTERVAL {LEARNING_DAYS} DAY
),
user_nets AS (
    SELECT user, net, MIN(time) AS first_time FROM logins GROUP BY user, net
),
ip_users AS (
    SELECT src_ip, user, MIN(time) AS first_time FROM logins GROUP BY src_ip, user
),
history AS (
    SELECT c.event_uid,
        nullif(array_to_string(list_sort(list(DISTINCT h.net)), ', '), '') AS usual_nets,
        COUNT(DISTINCT h.net) AS usual_count
    FROM candidates c
    JOIN user_nets h ON h.user = c.user AND h.first_time < c.time
    GROUP BY c.event_uid
),
org_seen AS (
    SELECT c.event_uid, COUNT(DISTINCT o.user) AS other_users
    FROM candidates c
    JOIN user_nets o ON o.net = c.net AND o.user <> c.user AND o.first_time < c.time
    GROUP BY c.event_uid
),
ip_shared AS (
    SELECT c.event_uid, COUNT(DISTINCT i.user) AS other_users
    FROM candidates c
    JOIN ip_users i ON i.src_ip = c.src_ip AND i.user <> c.user AND i.first_time <= c.time
    GROUP BY c.event_uid
),
scored AS (
    SELECT c.*,
        coalesce(h.usual_nets, '') AS usual_nets,
        coalesce(h.usual_count, 0) AS usual_count,
        coalesce(o.other_users, 0) AS org_users_on_net,
        coalesce(s.other_users, 0) AS users_on_ip,
        (epoch(c.time) - epoch(c.user_first)) / 86400.0 AS history_days
    FROM candidates c
    LEFT JOIN history h ON h.event_uid = c.event_uid
    LEFT JOIN org_seen o ON o.event_uid = c.event_uid
    LEFT JOIN ip_shared s ON s.event_uid = c.event_uid
)
SELECT
    user AS entity,
    'user' AS entity_type,
    time AS time,
    LEAST(1.0,
        CASE src_net_class WHEN 'tor' THEN 0.8 WHEN 'hosting' THEN 0.6 ELSE 0.5 END
        + CASE WHEN org_users_on_net = 0 THEN 0.2 ELSE 0.0 END
        + CASE WHEN users_on_ip = 0 THEN 0.1 ELSE -0.1 END
    ) AS score,
    [event_uid] AS event_uids,
    [src_ip] AS src_ips,
    'first ' || upper(coalesce(protocol, 'mail')) || ' login for ' || user || ' from ' || net
        || coalesce(' (' || src_as_org || ')', '') || ', a ' || src_net_class || ' network, from ' || src_ip
        || ' at ' || strftime(time, '%Y-%m-%d %H:%M') || ' UTC; '
        || CASE WHEN nth_for_user = 1 THEN 'the first on-prem login ever seen for this user; '
            ELSE 'their logins over the previous '
                || CAST(CAST(floor(history_days) AS BIGINT) AS VARCHAR) || ' days came from '
                || CAST(usual_count AS VARCHAR) || ' network(s): ' || usual_nets || '; ' END
        || CASE WHEN org_users_on_net = 0 THEN 'nobody else in the organisation ever logged in from this network'
            ELSE CAST(org_users_on_net AS VARCHAR) || ' other user(s) logged in from this network before' END
        || '; ' || CASE WHEN users_on_ip = 0 THEN 'no other user uses this address'
            ELSE CAST(users_on_ip AS VARCHAR) || ' other user(s) share this address (VPN exit?)' END
        AS explanation
FROM scored
"""


def _login(
    time: str,
    ip: str,
    net_class: str,
    asn: int | None,
    org: str | None,
    outcome: str = "success",
    user: str = "tanaka-a",
) -> dict[str, Any]:
    return ev(
        time,
        outcome=outcome,
        event_class="auth",
        action="login",
        user=user,
        protocol="imap",
        source_format="dovecot",
        src_ip=ip,
        src_net_class=net_class,
        src_asn=asn,
        src_as_org=org,
    )


_HISTORY = (
    _login("2024-04-01T00:10:00Z", "10.10.3.21", "private", None, None),
    _login("2024-04-03T12:00:00Z", "153.230.200.7", "isp", 4713, "NTT Communications Corporation"),
    _login("2024-04-08T00:20:00Z", "10.10.3.21", "private", None, None),
    _login("2024-04-09T12:05:00Z", "153.230.200.7", "isp", 4713, "NTT Communications Corporation"),
)
_VPS = ("163.44.170.143", "hosting", 9370, "SAKURA Internet Inc.")

DETECTION = Detection(
    id="dt.onprem.imap_from_new_network",
    title="On-prem mail login from a hosting, VPN or Tor network new for the user",
    techniques=("T1078", "T1114.002"),
    severity="low",
    event_classes=("auth",),
    description=(
        "A successful Dovecot (IMAP/POP3) or Postfix SASL login from a datacentre, VPN or Tor network (by AS) that "
        "this user never logged in from before. Stolen on-prem passwords are typically used by scripts on rented "
        f"servers. Learning period: no alert in the first {LEARNING_DAYS} days of the organisation's on-prem login "
        "data; a user whose very first on-prem login comes from a datacentre does alert (hybrid users who never "
        "used IMAP before, as in the NISC case). Office "
        "LAN, home ISP and mobile carrier addresses never alert; a new address inside an AS the user already used "
        "does not either. Score rises when nobody in the organisation used the network and no other user shares "
        "the address. Low severity: it only counts together with another signal on the person. "
        "Triage: ask the user whether they use a VPN or cloud host; look at what the session fetched "
        "(folders, message count) and whether the address returns at regular intervals."
    ),
    query=_QUERY,
    # first login per user, per user and network, per address and user
    lookback=timedelta(0),
    keep=(
        Keep(
            "event_class = 'auth' AND action = 'login' AND outcome = 'success'"
            " AND source_format IN ('dovecot', 'postfix') AND user IS NOT NULL AND src_ip IS NOT NULL",
            ("user", f"user, {_NET}", "src_ip, user"),
        ),
    ),
    positives=(
        Case(
            "IMAP from a VPS after a week of office and home logins",
            (*_HISTORY, _login("2024-04-10T02:03:00Z", *_VPS)),
            1,
        ),
        Case(
            "two VPS addresses of the same provider alert once",
            (
                *_HISTORY,
                _login("2024-04-10T02:03:00Z", *_VPS),
                _login("2024-04-17T02:03:00Z", "163.44.170.200", *_VPS[1:]),
            ),
            1,
        ),
        Case(
            "a hybrid user whose first on-prem login ever comes from a VPS",
            (*_HISTORY, _login("2024-04-10T02:03:00Z", *_VPS, user="kim-m")),
            1,
        ),
    ),
    negatives=(
        Case(
            "home ISP hands out a new address in the same AS, and office LAN logins",
            (
                *_HISTORY,
                _login("2024-04-10T12:00:00Z", "153.230.207.99", "isp", 4713, "NTT Communications Corporation"),
                _login("2024-04-11T00:30:00Z", "10.10.3.40", "private", None, None),
            ),
            0,
        ),
        Case(
            "a new home ISP or phone carrier is not a hosting network",
            (*_HISTORY, _login("2024-04-10T12:00:00Z", "124.213.40.2", "mobile", 2516, "KDDI CORPORATION")),
            0,
        ),
        Case("VPS login inside the learning period", (*_HISTORY[:2], _login("2024-04-04T02:03:00Z", *_VPS)), 0),
        Case("failed logins from a VPS", (*_HISTORY, _login("2024-04-10T02:03:00Z", *_VPS, outcome="failure")), 0),
    ),
)
