"""A successful sign-in from a source that was password-spraying the organisation.

A spray that never succeeds is noise; the one success is the compromise.  The success
must come from the same source (the same hosting/Tor AS, else the same address) while
the spray is going on (failures on at least half as many accounts as make a spray from
that source within the 6 h before it, and the
spray recognised before or at the success), and from a network the user had never
signed in from successfully (a colleague on a big cloud provider's virtual desktop who
shares an AS with a sprayer is not compromised).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dwelltime.detect.base import Case, Detection, Keep
from dwelltime.detect.cases import ev
from dwelltime.detect.rules._signin import NET, SPRAY, SPRAY_ACCOUNTS, hhmm
from dwelltime.detect.rules.signin_password_spray import _spray

_QUERY = f"""
WITH {SPRAY},
wins AS (
    SELECT *
    FROM (
        SELECT *, ROW_NUMBER() OVER (PARTITION BY user, {NET} ORDER BY time, event_uid) AS nth_from_net
        FROM attempts
        WHERE outcome = 'success'
    ) ranked
    WHERE nth_from_net = 1
),
matched AS (
    SELECT w.user, w.time, w.event_uid, w.src_ip, w.source, MAX(s.alert_time) AS spray_time,
           MAX(s.burst_start) AS spray_start
    FROM wins w
    JOIN sprays s ON s.source = w.source AND s.alert_time <= w.time AND s.alert_time > w.time - INTERVAL 7 DAY
    GROUP BY w.user, w.time, w.event_uid, w.src_ip, w.source
),
recent AS (
    SELECT m.user, m.event_uid, COUNT(*) AS recent_fails, COUNT(DISTINCT f.user) AS recent_accounts,
           MAX(CASE WHEN f.user = m.user THEN 1 ELSE 0 END) AS user_was_tried
    FROM matched m
    JOIN fails f ON f.source = m.source AND f.time <= m.time AND f.time > m.time - INTERVAL 6 HOUR
    GROUP BY m.user, m.event_uid
)
SELECT
    m.user AS entity,
    'user' AS entity_type,
    m.time AS time,
    1.0 AS score,
    [m.event_uid] AS event_uids,
    [m.src_ip] AS src_ips,
    'successful sign-in from ' || m.source || ' (' || m.src_ip || ') at ' || {hhmm("m.time")}
        || ', a source spraying the organisation since ' || {hhmm("m.spray_start")} || ': '
        || CAST(r.recent_fails AS VARCHAR) || ' failed attempts on ' || CAST(r.recent_accounts AS VARCHAR)
        || ' accounts from it in the 6 h before'
        || CASE WHEN r.user_was_tried = 1 THEN ', this account among them' ELSE '' END
        || '; first success of this user from that network. Reset the password, revoke sessions.' AS explanation
FROM matched m
JOIN recent r ON r.user = m.user AND r.event_uid = m.event_uid
WHERE r.recent_accounts >= {SPRAY_ACCOUNTS // 2}
"""

_HETZNER: dict[str, Any] = {
    "src_asn": 24940,
    "src_as_org": "Hetzner Online GmbH",
    "src_net_class": "hosting",
    "src_country": "FI",
}


def _win(time: str, user: str, ip: str) -> dict[str, object]:
    return ev(time, event_class="auth", action="login", outcome="success", user=user, src_ip=ip, **_HETZNER)


_SPRAY = _spray(0, ("95.216.10.1", "95.216.10.2", "95.216.10.3"))
_VICTIM = "t.miura@agency.example.jp"

DETECTION = Detection(
    id="dt.signin.success_after_spray",
    title="Successful sign-in from a password-spraying source",
    techniques=("T1110.003", "T1078.004"),
    severity="high",
    event_classes=("auth",),
    description=(
        "A user signs in successfully from a source (hosting/Tor AS, else address) that dt.signin.password_spray "
        "had recognised spraying the organisation, with failures on 5+ accounts from it in the 6 h before, "
        "and the user never "
        "signed in from that network before. The sprayed password worked: treat the account as compromised. "
        "Triage: reset the password and revoke sessions, then review what the session did (mail read, rules, "
        "forwarding, consent) since the success."
    ),
    query=_QUERY,
    # every failure (sprays); sprays of the 7 days before and their 24 h; first success per user and network
    lookback=timedelta(days=8, hours=2),
    keep=(
        Keep("outcome = 'failure'", relation="logins"),
        Keep("outcome = 'success' AND src_ip IS NOT NULL", (f"user, {NET}",), relation="logins"),
    ),
    positives=(
        Case(
            "success mid-spray from a rotated Hetzner address",
            (*_SPRAY, _win("2024-04-09T02:02:00Z", _VICTIM, "95.216.10.2")),
            1,
        ),
    ),
    negatives=(
        Case(
            "a user who always works from a Hetzner server signs in during the spray",
            (
                _win("2024-04-01T02:00:00Z", "dev.ops@agency.example.jp", "95.216.77.5"),
                *_SPRAY,
                _win("2024-04-09T02:02:00Z", "dev.ops@agency.example.jp", "95.216.77.5"),
            ),
            0,
        ),
        Case(
            "a success before the spray is recognised",
            (_win("2024-04-09T01:59:00Z", _VICTIM, "95.216.10.2"), *_SPRAY),
            0,
        ),
        Case(
            "spray failures alone",
            _SPRAY,
            0,
        ),
    ),
)
