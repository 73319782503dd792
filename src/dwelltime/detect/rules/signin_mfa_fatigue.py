"""MFA fatigue: push after push denied or ignored, then one accepted.

An attacker who has the password keeps triggering the second factor until a tired or
confused user approves it (Lapsus$, Uber 2022).  People do mistap once; a run of
second-factor failures for one account within an hour, followed by a success, is
what the attack looks like.  Entra reports the second-factor failure as error 500121
("authentication failed during strong authentication request"; the user denied or did
not answer), and the Microsoft 365 audit log repeats it as UserLoginFailed with that
ErrorNumber.  Triage: ask the user whether they approved a prompt they did not start;
if not, revoke sessions, reset the password and look at what the session did.
"""

from __future__ import annotations

from datetime import timedelta

from dwelltime.detect.base import Case, Detection
from dwelltime.detect.cases import ev

MIN_DENIALS = 3
MFA_FAILURE_CODES = ("500121",)
_CODES = ", ".join(f"'{code}'" for code in MFA_FAILURE_CODES)

_QUERY = f"""
WITH logins AS (
    SELECT DISTINCT user, time, outcome, error_code, src_ip, event_uid
    FROM events
    WHERE event_class = 'auth' AND action = 'login' AND user IS NOT NULL
),
successes AS (
    SELECT * FROM logins WHERE outcome = 'success'
),
fatigue AS (
    SELECT s.user, s.time, s.event_uid, s.src_ip,
        COUNT(DISTINCT f.time) AS denials, MIN(f.time) AS first_denial,
        array_agg(f.event_uid) AS denial_uids
    FROM successes s
    JOIN logins f
      ON f.user = s.user AND f.outcome = 'failure' AND f.error_code IN ({_CODES})
     AND f.time < s.time AND f.time >= s.time - INTERVAL 1 HOUR
    GROUP BY s.user, s.time, s.event_uid, s.src_ip
)
SELECT
    user AS entity,
    'user' AS entity_type,
    time,
    least(denials / 10.0, 1.0) AS score,
    list_concat(denial_uids, [event_uid]) AS event_uids,
    CASE WHEN src_ip IS NULL THEN [] ELSE [src_ip] END AS src_ips,
    CAST(denials AS VARCHAR) || ' second-factor prompts denied or unanswered for this account since '
        || strftime(first_denial, '%H:%M') || ' UTC, then a successful sign-in at ' || strftime(time, '%H:%M')
        || ' UTC' || coalesce(' from ' || src_ip, '') AS explanation
FROM fatigue
WHERE denials >= {MIN_DENIALS}
"""

_USER = "a.sato@agency.example.jp"


def _denied(time: str) -> dict[str, object]:
    return ev(
        time,
        event_class="auth",
        action="login",
        outcome="failure",
        user=_USER,
        error_code="500121",
        src_ip="198.51.100.7",
    )


DETECTION = Detection(
    id="dt.signin.mfa_fatigue",
    title="Repeated second-factor denials, then a success (MFA fatigue)",
    techniques=("T1621", "T1078.004"),
    severity="high",
    event_classes=("auth",),
    description=(
        "Three or more second-factor failures (Entra error 500121: denied or unanswered) for one account within an "
        "hour, followed by a successful sign-in: the pattern of an attacker with the password pushing prompts until "
        "the user gives in. Triage: ask the user whether they approved a prompt they did not start; if not, revoke "
        "sessions, reset the password and review what the session did."
    ),
    query=_QUERY,
    # denials in the hour before the success
    lookback=timedelta(hours=2),
    positives=(
        Case(
            "four denials in ten minutes, then a success",
            (
                _denied("2024-04-02T13:00:00Z"),
                _denied("2024-04-02T13:02:00Z"),
                _denied("2024-04-02T13:05:00Z"),
                _denied("2024-04-02T13:09:00Z"),
                ev("2024-04-02T13:10:00Z", event_class="auth", action="login", user=_USER, src_ip="198.51.100.7"),
            ),
            1,
        ),
    ),
    negatives=(
        Case(
            "one mistap, then a success",
            (
                _denied("2024-04-02T09:00:00Z"),
                ev("2024-04-02T09:01:00Z", event_class="auth", action="login", user=_USER, src_ip="203.0.113.5"),
            ),
            0,
        ),
        Case(
            "password typos (not second-factor failures), then a success",
            (
                *tuple(
                    ev(
                        f"2024-04-02T09:0{i}:00Z",
                        event_class="auth",
                        action="login",
                        outcome="failure",
                        user=_USER,
                        error_code="50126",
                    )
                    for i in range(5)
                ),
                ev("2024-04-02T09:06:00Z", event_class="auth", action="login", user=_USER),
            ),
            0,
        ),
        Case(
            "denials long before the success",
            (
                _denied("2024-04-02T01:00:00Z"),
                _denied("2024-04-02T01:01:00Z"),
                _denied("2024-04-02T01:02:00Z"),
                ev("2024-04-02T09:00:00Z", event_class="auth", action="login", user=_USER),
            ),
            0,
        ),
    ),
)
