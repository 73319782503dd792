"""A successful sign-in from a network new to the user and rare in the organisation.

Stolen credentials and tokens are used from rented servers, anonymisers and VPNs far
more than from the victim's own ISP.  Novelty alone is weak (people travel, change
ISP, try a VPN), so the alert needs three things at once: the network (AS) never
carried a successful sign-in of this user; at most one other user of the org ever
signed in from it (an office ISP change moves everyone to the same new AS on one day,
and from the third user on that AS is the org's, not the attacker's); and the network
is a hosting, Tor or VPN one.  A new residential ISP, at home or abroad, is not enough:
that is travel, left to dt.signin.impossible_travel (alerting on both would let one
trip open an incident by itself).  Medium risk: it opens an incident only
together with another detection.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dwelltime.detect.base import Case, Detection, Keep
from dwelltime.detect.cases import ev
from dwelltime.detect.rules._signin import NET, NET_TEXT, ORG_NETS, ORG_USERS, USER_SINCE, hhmm

LEARNING_DAYS = 7

_QUERY = f"""
WITH {ORG_NETS},
{USER_SINCE},
ok AS (
    SELECT *, {NET} AS netkey,
        ROW_NUMBER() OVER (PARTITION BY user, {NET} ORDER BY time, event_uid) AS nth_from_net,
        ROW_NUMBER() OVER (PARTITION BY user, coalesce(country, '??') ORDER BY time, event_uid) AS nth_from_country
    FROM logins
    WHERE outcome = 'success'
),
candidates AS (
    SELECT o.*, u.since
    FROM ok o
    JOIN user_since u ON u.user = o.user
    WHERE o.nth_from_net = 1
      AND o.net NOT IN ('private', 'reserved')
      AND u.since <= o.time - INTERVAL {LEARNING_DAYS} DAY
      AND o.net IN ('hosting', 'tor', 'vpn')
),
firsts AS (
    SELECT c.user, c.time, c.event_uid, c.src_ip, c.protocol, c.net, c.asn, c.as_org, c.country, c.since,
        c.nth_from_country, COUNT(f.user) AS org_users_before
    FROM candidates c
    LEFT JOIN user_net_first f ON f.netkey = c.netkey AND f.first_time < c.time
    GROUP BY c.user, c.time, c.event_uid, c.src_ip, c.protocol, c.net, c.asn, c.as_org, c.country, c.since,
        c.nth_from_country
)
SELECT
    user AS entity,
    'user' AS entity_type,
    time,
    CASE net WHEN 'tor' THEN 1.0 WHEN 'hosting' THEN 0.9 WHEN 'vpn' THEN 0.6 ELSE 0.5 END
        - 0.2 * org_users_before AS score,
    [event_uid] AS event_uids,
    CASE WHEN src_ip IS NULL THEN [] ELSE [src_ip] END AS src_ips,
    'first successful sign-in of this user from ' || {NET_TEXT} || ' at ' || {hhmm("time")} || ' (' ||
        coalesce(src_ip, '?') || ', ' || coalesce(protocol, 'protocol ?') || ') in '
        || CAST(CAST(floor((epoch(time) - epoch(since)) / 86400) AS BIGINT) AS VARCHAR) || ' days of history; '
        || CASE WHEN org_users_before = 0 THEN 'no one in the org ever signed in from it'
                ELSE CAST(org_users_before AS VARCHAR) || ' other user(s) of the org signed in from it before' END
        || CASE WHEN nth_from_country = 1 THEN '; first sign-in of this user from ' || coalesce(country, '??')
                ELSE '' END AS explanation
FROM firsts
WHERE org_users_before < {ORG_USERS} - 1
"""

_USER = "a.sato@agency.example.jp"
_HOME: dict[str, Any] = {
    "src_ip": "203.0.113.10",
    "src_asn": 4713,
    "src_as_org": "NTT OCN",
    "src_net_class": "isp",
    "src_country": "JP",
}


def _login(time: str, *, user: str = _USER, **net: object) -> dict[str, object]:
    return ev(time, event_class="auth", action="login", outcome="success", user=user, **(net or _HOME))


_HISTORY = tuple(_login(f"2024-04-{d:02d}T00:30:00Z") for d in range(1, 11))
_ALIBABA: dict[str, Any] = {
    "src_ip": "47.74.10.18",
    "src_asn": 45102,
    "src_as_org": "Alibaba",
    "src_net_class": "hosting",
    "src_country": "JP",
}
_NEW_ISP: dict[str, Any] = {
    "src_ip": "198.51.100.20",
    "src_asn": 2516,
    "src_as_org": "KDDI",
    "src_net_class": "isp",
    "src_country": "JP",
}
_OFFICE_VPN: dict[str, Any] = {
    "src_ip": "185.1.1.1",
    "src_asn": 9009,
    "src_as_org": "M247",
    "src_net_class": "vpn",
    "src_country": "JP",
}

DETECTION = Detection(
    id="dt.signin.new_hosting_asn",
    title="Sign-in from a hosting/VPN/Tor or foreign network new to the user and rare in the org",
    techniques=("T1078.004",),
    severity="medium",
    event_classes=("auth",),
    description=(
        "A successful sign-in from an AS the user never signed in from, that at most one other user of the org "
        f"signed in from before (the 3rd user makes it an org network: office ISP changes), and that is a hosting, "
        "Tor or VPN network (a new ISP, even abroad, is travel, not this). Learning period: none in the first "
        f"{LEARNING_DAYS} "
        "days of the user's history (new staff, new deployments). Medium. Triage: does the user use a VPN or "
        "cloud desktop? Compare user agent and device with their usual ones; what did the session read or change?"
    ),
    query=_QUERY,
    # first success per user and network (also org networks), per user and country
    lookback=timedelta(0),
    keep=(Keep("outcome = 'success'", (f"user, {NET}", "user, coalesce(country, '??')"), relation="logins"),),
    positives=(
        Case("Alibaba Cloud, never seen in the org", (*_HISTORY, _login("2024-04-13T07:35:57Z", **_ALIBABA)), 1),
        Case(
            "first sign-in from a Tor exit",
            (
                *_HISTORY,
                _login(
                    "2024-04-13T11:10:44Z",
                    src_ip="185.220.101.4",
                    src_asn=208294,
                    src_as_org="CIA TRIAD SECURITY",
                    src_net_class="tor",
                    src_country="DE",
                ),
            ),
            1,
        ),
    ),
    negatives=(
        Case(
            "business trip: a hotel ISP abroad",
            (
                *_HISTORY,
                _login(
                    "2024-04-12T09:00:00Z",
                    src_ip="31.110.42.78",
                    src_asn=2856,
                    src_as_org="BT",
                    src_net_class="isp",
                    src_country="GB",
                ),
            ),
            0,
        ),
        Case("office ISP change: a new domestic ISP", (*_HISTORY, _login("2024-04-12T00:30:00Z", **_NEW_ISP)), 0),
        Case(
            "a VPN several colleagues already use",
            (
                *_HISTORY,
                _login("2024-04-02T01:00:00Z", user="b.ito@agency.example.jp", **_OFFICE_VPN),
                _login("2024-04-03T01:00:00Z", user="c.kato@agency.example.jp", **_OFFICE_VPN),
                _login("2024-04-12T00:30:00Z", **_OFFICE_VPN),
            ),
            0,
        ),
        Case(
            "new staff on a hosting network in their first week",
            (_login("2024-04-10T00:00:00Z"), _login("2024-04-11T00:00:00Z", **_ALIBABA)),
            0,
        ),
    ),
)
