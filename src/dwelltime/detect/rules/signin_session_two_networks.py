"""One sign-in session used from two distant networks within minutes: a stolen session token.

Token theft (adversary-in-the-middle phishing kits, infostealers) skips the password
and MFA entirely: the attacker replays the victim's session from their own machine
while the victim keeps using it.  The session id then appears from two networks at
once.  People do change networks inside a session (home to office, Wi-Fi to phone), so
the two must differ in AS *and* be far apart in kind: a different country, or the new
one a hosting or Tor network; VPN and private addresses are ignored.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dwelltime.detect.base import Case, Detection
from dwelltime.detect.cases import ev
from dwelltime.detect.rules._signin import NET_TEXT, hhmm

WINDOW_MINUTES = 60
#: A session that switched networks is said again only after this many hours.
REPEAT_HOURS = 24

_QUERY = f"""
WITH uses AS (
    SELECT *, {NET_TEXT} AS where_text,
        LAG(time) OVER w AS prev_time,
        LAG(asn) OVER w AS prev_asn,
        LAG(country) OVER w AS prev_country,
        LAG(src_ip) OVER w AS prev_ip,
        LAG(event_uid) OVER w AS prev_uid,
        LAG({NET_TEXT}) OVER w AS prev_where
    FROM logins
    WHERE outcome = 'success' AND session_id IS NOT NULL AND asn IS NOT NULL
      AND net NOT IN ('private', 'reserved', 'vpn')
    WINDOW w AS (PARTITION BY user, session_id ORDER BY time, event_uid)
),
switches AS (
    SELECT *
    FROM uses
    WHERE prev_time IS NOT NULL AND prev_time >= time - INTERVAL {WINDOW_MINUTES} MINUTE
      AND asn <> prev_asn
      AND (coalesce(country, '?') <> coalesce(prev_country, '?') OR net IN ('hosting', 'tor'))
),
-- One alert per session per day: a replayed token is used again and again.
repeated AS (
    SELECT s.event_uid
    FROM switches s
    JOIN switches e ON e.user = s.user AND e.session_id = s.session_id
     AND e.time >= s.time - INTERVAL {REPEAT_HOURS} HOUR
     AND (e.time < s.time OR (e.time = s.time AND e.event_uid < s.event_uid))
    GROUP BY s.event_uid
)
SELECT
    user AS entity,
    'user' AS entity_type,
    time,
    1.0 AS score,
    [prev_uid, event_uid] AS event_uids,
    [prev_ip, src_ip] AS src_ips,
    'session ' || session_id || ' used from ' || prev_where || ' [' || prev_ip || '] at ' || {hhmm("prev_time")}
        || ' and from ' || where_text || ' [' || src_ip || '] '
        || CAST(CAST(round((epoch(time) - epoch(prev_time)) / 60.0) AS BIGINT) AS VARCHAR)
        || ' min later: likely a replayed session token. Revoke the user''s sessions.' AS explanation
FROM switches
WHERE event_uid NOT IN (SELECT event_uid FROM repeated)
"""

_USER = "k.ishikawa@agency.example.jp"
_HOME: dict[str, Any] = {
    "src_ip": "110.66.220.71",
    "src_asn": 2527,
    "src_as_org": "So-net",
    "src_net_class": "isp",
    "src_country": "JP",
}
_AZURE: dict[str, Any] = {
    "src_ip": "52.168.30.27",
    "src_asn": 8075,
    "src_as_org": "Microsoft",
    "src_net_class": "hosting",
    "src_country": "US",
}
_PHONE: dict[str, Any] = {
    "src_ip": "126.1.2.3",
    "src_asn": 17676,
    "src_as_org": "SoftBank",
    "src_net_class": "mobile",
    "src_country": "JP",
}


def _use(time: str, *, session: str = "s-1", **net: object) -> dict[str, object]:
    return ev(time, event_class="auth", action="login", user=_USER, session_id=session, **net)


DETECTION = Detection(
    id="dt.signin.session_two_networks",
    title="One session used from two distant networks within minutes (token replay)",
    techniques=("T1550.004", "T1539"),
    severity="high",
    event_classes=("auth",),
    description=(
        f"Successful sign-ins with the same session id from two ASes within {WINDOW_MINUTES} minutes, where the "
        "second is in another country or on a hosting/Tor network (VPN and private addresses ignored; a move "
        "from home ISP to phone carrier in the same country is normal). A session cookie or refresh token was "
        "likely stolen and replayed. Triage: revoke sessions and refresh tokens, look for AiTM phishing mail "
        "received just before, review the session's actions from the second network."
    ),
    query=_QUERY,
    # the session's switches in the day before
    lookback=timedelta(hours=REPEAT_HOURS + 2),
    positives=(
        Case(
            "home in Japan, then Azure US in the same session 5 min later",
            (_use("2024-04-12T02:39:00Z", **_HOME), _use("2024-04-12T02:44:06Z", **_AZURE)),
            1,
        ),
    ),
    negatives=(
        Case(
            "laptop at home then tethered to the phone, same session",
            (_use("2024-04-12T02:39:00Z", **_HOME), _use("2024-04-12T02:50:00Z", **_PHONE)),
            0,
        ),
        Case(
            "the same two networks in different sessions",
            (_use("2024-04-12T02:39:00Z", **_HOME), _use("2024-04-12T02:44:06Z", session="s-2", **_AZURE)),
            0,
        ),
    ),
)
