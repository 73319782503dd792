"""Impossible travel: two successful sign-ins of one user too far apart for the time between them.

Done the way it has to be done to be quiet: consecutive *successful* sign-ins only,
the geolocation's uncertainty allowed for (points under 500 km apart are the same
place, and 500 km -- 250 km of error per point, usual for ISP ranges -- are taken off
every distance), and the places that say nothing
about where the person is left out: private addresses, mobile carriers (their
addresses geolocate to the carrier's gateway), VPN and Tor exits, hosting networks (a
server's location is not a person's: many commercial VPNs exit from hosting ranges, and
sign-ins from hosting networks are dt.signin.new_hosting_asn's concern), and the org's own
egress (an address three or more users have signed in from: proxies, cloud gateways).
One alert per pair of networks (a token replayed for days from one place
would otherwise alert at every switch).  It alerts when the remaining jump is over
1,000 km at over 1,000 km/h: a flight is ~900 km/h door to door at best, so business
travel stays under it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dwelltime.detect.base import Case, Detection, Keep
from dwelltime.detect.cases import ev
from dwelltime.detect.rules._signin import NET, NET_TEXT, ORG_IPS, hhmm, km

MIN_KM = 1000
MAX_KMH = 1000
SAME_PLACE_KM = 500
UNCERTAINTY_KM = 500
#: A jump between the same two networks is said once in this many days (a trip, a commute).
REPEAT_DAYS = 14
#: The longest gap between two sign-ins that can still be too fast: the far side of the earth.
_MAX_GAP = timedelta(hours=(20_040 - UNCERTAINTY_KM) / MAX_KMH)

_QUERY = f"""
WITH {ORG_IPS},
points AS (
    SELECT l.*
    FROM (SELECT *, {NET_TEXT} AS where_text, {NET} AS netkey FROM logins WHERE outcome = 'success') l
    LEFT JOIN org_ips o ON o.src_ip = l.src_ip
    WHERE l.lat IS NOT NULL AND l.lon IS NOT NULL
      AND l.net NOT IN ('private', 'reserved', 'mobile', 'vpn', 'tor', 'hosting')
      AND (o.org_since IS NULL OR o.org_since >= l.time)
),
moves AS (
    SELECT *,
        LAG(time) OVER w AS prev_time,
        LAG(lat) OVER w AS prev_lat,
        LAG(lon) OVER w AS prev_lon,
        LAG(event_uid) OVER w AS prev_uid,
        LAG(src_ip) OVER w AS prev_ip,
        LAG(where_text) OVER w AS prev_where,
        LAG(city) OVER w AS prev_city,
        LAG(netkey) OVER w AS prev_netkey
    FROM points
    WINDOW w AS (PARTITION BY user ORDER BY time, event_uid)
),
measured AS (
    SELECT *,
        {km("prev_lat", "prev_lon", "lat", "lon")} AS dist_km,
        greatest(epoch(time) - epoch(prev_time), 60) / 3600.0 AS hours
    FROM moves
    WHERE prev_time IS NOT NULL
),
jumps AS (
    SELECT *, least(prev_netkey, netkey) AS pair_a, greatest(prev_netkey, netkey) AS pair_b
    FROM measured
    WHERE dist_km > {MIN_KM} AND dist_km > {SAME_PLACE_KM} AND (dist_km - {UNCERTAINTY_KM}) / hours > {MAX_KMH}
),
-- The same two networks jumped between again within REPEAT_DAYS: the same trip or commute, said once.
repeated AS (
    SELECT j.event_uid
    FROM jumps j
    JOIN jumps e ON e.user = j.user AND e.pair_a = j.pair_a AND e.pair_b = j.pair_b
     AND e.time >= j.time - INTERVAL {REPEAT_DAYS} DAY
     AND (e.time < j.time OR (e.time = j.time AND e.event_uid < j.event_uid))
    GROUP BY j.event_uid
)
SELECT
    user AS entity,
    'user' AS entity_type,
    time,
    least(((dist_km - {UNCERTAINTY_KM}) / hours) / {MAX_KMH * 10}, 1.0) AS score,
    [prev_uid, event_uid] AS event_uids,
    [prev_ip, src_ip] AS src_ips,
    'successful sign-ins ' || CAST(CAST(round(dist_km) AS BIGINT) AS VARCHAR) || ' km apart in '
        || CAST(CAST(round(hours * 60) AS BIGINT) AS VARCHAR) || ' min (at least '
        || CAST(CAST(round((dist_km - {UNCERTAINTY_KM}) / hours) AS BIGINT) AS VARCHAR)
        || ' km/h allowing {UNCERTAINTY_KM} km of geolocation error): ' || coalesce(prev_city, '?') || ' via '
        || coalesce(prev_where, '?') || ' [' || coalesce(prev_ip, '?') || '] at ' || {hhmm("prev_time")}
        || ', then ' || coalesce(city, '?') || ' via ' || where_text || ' [' || coalesce(src_ip, '?') || '] at '
        || {hhmm("time")} AS explanation
FROM jumps
WHERE event_uid NOT IN (SELECT event_uid FROM repeated)
"""

_USER = "a.sato@agency.example.jp"
_TOKYO: dict[str, Any] = {
    "src_ip": "203.0.113.10",
    "src_asn": 4713,
    "src_as_org": "NTT OCN",
    "src_net_class": "isp",
    "src_country": "JP",
    "src_city": "Tokyo",
    "src_lat": 35.69,
    "src_lon": 139.69,
}
_LAGOS: dict[str, Any] = {
    "src_ip": "197.210.10.216",
    "src_asn": 29465,
    "src_as_org": "MTN",
    "src_net_class": "isp",
    "src_country": "NG",
    "src_city": "Lagos",
    "src_lat": 6.45,
    "src_lon": 3.40,
}
_BANGKOK: dict[str, Any] = {
    "src_ip": "49.228.1.1",
    "src_asn": 131445,
    "src_as_org": "AIS Fibre",
    "src_net_class": "isp",
    "src_country": "TH",
    "src_city": "Bangkok",
    "src_lat": 13.75,
    "src_lon": 100.50,
}
_NORDVPN_US: dict[str, Any] = {
    "src_ip": "185.2.2.2",
    "src_asn": 9009,
    "src_as_org": "M247",
    "src_net_class": "vpn",
    "src_country": "US",
    "src_city": "New York",
    "src_lat": 40.71,
    "src_lon": -74.0,
}
_PROXY_US: dict[str, Any] = {
    "src_ip": "52.1.1.1",
    "src_asn": 701,
    "src_as_org": "Verizon Business",
    "src_net_class": "isp",
    "src_country": "US",
    "src_city": "Boydton",
    "src_lat": 36.67,
    "src_lon": -78.39,
}


def _login(time: str, *, user: str = _USER, **net: object) -> dict[str, object]:
    return ev(time, event_class="auth", action="login", outcome="success", user=user, **net)


DETECTION = Detection(
    id="dt.signin.impossible_travel",
    title="Impossible travel between consecutive successful sign-ins",
    techniques=("T1078.004",),
    severity="medium",
    event_classes=("auth",),
    description=(
        f"Two consecutive successful sign-ins of a user more than {MIN_KM} km apart at more than {MAX_KMH} km/h "
        f"after taking {UNCERTAINTY_KM} km off for geolocation error (under {SAME_PLACE_KM} km is the same place). "
        "Private, mobile-carrier, VPN, Tor and hosting addresses and the org's own egress (an address 3+ users "
        "signed in "
        "from before) are left out: they do not say where the person is. Triage: which of the two places is the "
        "user's? Check the other one's network, user agent and what its session did."
    ),
    query=_QUERY,
    # earlier jumps between the same networks; the first success per address and user (org addresses)
    lookback=timedelta(days=REPEAT_DAYS) + _MAX_GAP + timedelta(hours=1),
    keep=(Keep("outcome = 'success' AND src_ip IS NOT NULL", ("src_ip, user",), relation="logins"),),
    positives=(
        Case(
            "Tokyo then Lagos 40 minutes later",
            (_login("2024-04-13T10:30:00Z", **_TOKYO), _login("2024-04-13T11:10:44Z", **_LAGOS)),
            1,
        ),
    ),
    negatives=(
        Case(
            "business trip: Tokyo, then Bangkok 8 hours later",
            (_login("2024-04-13T00:30:00Z", **_TOKYO), _login("2024-04-13T08:30:00Z", **_BANGKOK)),
            0,
        ),
        Case(
            "commercial VPN exit in New York between two Tokyo sign-ins",
            (
                _login("2024-04-13T00:30:00Z", **_TOKYO),
                _login("2024-04-13T00:45:00Z", **_NORDVPN_US),
                _login("2024-04-13T01:00:00Z", **_TOKYO),
            ),
            0,
        ),
        Case(
            "a VPN provider exiting from a hosting range in Frankfurt",
            (
                _login("2024-04-13T00:30:00Z", **_TOKYO),
                _login(
                    "2024-04-13T00:45:00Z",
                    src_ip="179.61.150.97",
                    src_asn=9009,
                    src_as_org="M247 Europe SRL",
                    src_net_class="hosting",
                    src_country="DE",
                    src_city="Frankfurt am Main",
                    src_lat=50.11,
                    src_lon=8.68,
                ),
            ),
            0,
        ),
        Case(
            "the org's egress proxy address that many users sign in through",
            (
                _login("2024-04-12T00:00:00Z", user="b.ito@agency.example.jp", **_PROXY_US),
                _login("2024-04-12T00:10:00Z", user="c.kato@agency.example.jp", **_PROXY_US),
                _login("2024-04-12T00:20:00Z", user="d.mori@agency.example.jp", **_PROXY_US),
                _login("2024-04-13T00:30:00Z", **_TOKYO),
                _login("2024-04-13T00:40:00Z", **_PROXY_US),
            ),
            0,
        ),
    ),
)
