"""Brute force that worked: many failures for one account, then a success from the same address.

Guessing one account's password takes many attempts; when the guesser finally gets
in, the success comes from the address that failed.  People mistype too, and phones
keep retrying an old password, so: at least 10 failures for the account from that
address within the hour before the success, and the success from a network the user
never signed in from before (the user's own home, office or carrier is not a guesser).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dwelltime.detect.base import Case, Detection, Keep
from dwelltime.detect.cases import ev
from dwelltime.detect.rules._signin import NET, NET_TEXT, hhmm

MIN_FAILURES = 10

_QUERY = f"""
WITH wins AS (
    SELECT *
    FROM (
        SELECT *, {NET_TEXT} AS where_text,
            ROW_NUMBER() OVER (PARTITION BY user, {NET} ORDER BY time, event_uid) AS nth_from_net
        FROM logins
        WHERE outcome = 'success' AND src_ip IS NOT NULL
    ) ranked
    WHERE nth_from_net = 1
),
guessed AS (
    SELECT w.user, w.time, w.event_uid, w.src_ip, w.where_text, COUNT(*) AS failures, MIN(f.time) AS first_failure,
        array_agg(f.event_uid) AS failure_uids
    FROM wins w
    JOIN logins f
      ON f.user = w.user AND f.src_ip = w.src_ip AND f.outcome = 'failure'
     AND f.time < w.time AND f.time >= w.time - INTERVAL 1 HOUR
    GROUP BY w.user, w.time, w.event_uid, w.src_ip, w.where_text
)
SELECT
    user AS entity,
    'user' AS entity_type,
    time,
    least(failures / 50.0, 1.0) AS score,
    list_concat(failure_uids, [event_uid]) AS event_uids,
    [src_ip] AS src_ips,
    CAST(failures AS VARCHAR) || ' failed sign-ins for this account from ' || src_ip || ' since '
        || {hhmm("first_failure")} || ', then a success at ' || {hhmm("time")} || ' from the same address, '
        || where_text || ', a network this user never signed in from before' AS explanation
FROM guessed
WHERE failures >= {MIN_FAILURES}
"""

_USER = "a.sato@agency.example.jp"
_VULTR: dict[str, Any] = {
    "src_ip": "45.76.1.2",
    "src_asn": 20473,
    "src_as_org": "Vultr",
    "src_net_class": "hosting",
    "src_country": "US",
}
_CARRIER: dict[str, Any] = {
    "src_ip": "126.1.2.3",
    "src_asn": 17676,
    "src_as_org": "SoftBank",
    "src_net_class": "mobile",
    "src_country": "JP",
}


def _try(time: str, outcome: str, **net: object) -> dict[str, object]:
    return ev(time, event_class="auth", action="login", outcome=outcome, user=_USER, **net)


def _guesses(**net: object) -> tuple[dict[str, object], ...]:
    return tuple(_try(f"2024-04-10T03:{m:02d}:00Z", "failure", **net) for m in range(0, 48, 4))


DETECTION = Detection(
    id="dt.signin.brute_force_success",
    title="Successful sign-in after many failures from the same address",
    techniques=("T1110.001", "T1078"),
    severity="high",
    event_classes=("auth",),
    description=(
        f"At least {MIN_FAILURES} failed sign-ins for one account from one address within an hour, then a success "
        "for it from that address, which is on a network the user never signed in from successfully before. "
        "The guess worked: treat the account as compromised. Triage: reset the password, revoke sessions, check "
        "what the session read or changed; a user's own phone retrying an old password is excluded by the "
        "network condition."
    ),
    query=_QUERY,
    # failures in the hour before; the first success per user and network
    lookback=timedelta(hours=2),
    keep=(Keep("outcome = 'success' AND src_ip IS NOT NULL", (f"user, {NET}",), relation="logins"),),
    positives=(
        Case(
            "12 guesses from Vultr then a success",
            (*_guesses(**_VULTR), _try("2024-04-10T03:50:00Z", "success", **_VULTR)),
            1,
        ),
    ),
    negatives=(
        Case(
            "the user's own phone retries an old password, then is updated",
            (
                _try("2024-04-01T03:00:00Z", "success", **_CARRIER),
                *_guesses(**_CARRIER),
                _try("2024-04-10T03:50:00Z", "success", **_CARRIER),
            ),
            0,
        ),
        Case("guessing that never succeeds", _guesses(**_VULTR), 0),
    ),
)
