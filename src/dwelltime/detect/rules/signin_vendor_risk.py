"""The identity provider's own risk verdict on a sign-in: Entra risk levels, Google account warnings.

Microsoft and Google see things we cannot (leaked-credential feeds, token anomalies,
botnet infrastructure), so their verdict is evidence; but it is also noisy and often
arrives without context, so it adds medium risk to the user rather than being passed
through as an incident or ignored.  Entra: ``riskLevelDuringSignIn`` or
``riskLevelAggregated`` medium/high, or ``riskState`` atRisk/confirmedCompromised (a
remediated or dismissed state does not count).  Google: the login warnings
(suspicious login, suspicious programmatic login, less-secure-app login, government-
backed attack warning, account disabled for a leaked password or hijacking) and
``is_suspicious`` on a login.  One alert per user, signal and day.
"""

from __future__ import annotations

from datetime import timedelta

from dwelltime.detect.base import Case, Detection
from dwelltime.detect.cases import ev
from dwelltime.detect.rules._signin import hhmm

_GOOGLE_WARNINGS = (
    "('suspicious_login', 'suspicious_login_less_secure_app', 'suspicious_programmatic_login', "
    "'gov_attack_warning', 'account_disabled_password_leak', 'account_disabled_hijacked', "
    "'account_disabled_spamming_through_relay', 'account_disabled_spamming', 'account_disabled_generic')"
)

_QUERY = f"""
WITH signals AS (
    -- Google's account warnings name the account in affected_email_address (target), and are
    -- often logged with no actor: the account warned about is the entity.
    SELECT event_uid, time, src_ip,
        CASE WHEN action IN {_GOOGLE_WARNINGS} THEN coalesce(target, user) ELSE user END AS user,
        CASE
            WHEN action IN {_GOOGLE_WARNINGS} THEN 'Google ' || action
            WHEN lower(params['is_suspicious']) = 'true' THEN 'Google suspicious login'
            WHEN lower(params['riskState']) IN ('atrisk', 'confirmedcompromised')
                THEN 'Entra riskState ' || params['riskState']
            WHEN lower(params['riskLevelDuringSignIn']) IN ('medium', 'high')
                THEN 'Entra riskLevelDuringSignIn ' || lower(params['riskLevelDuringSignIn'])
            WHEN lower(params['riskLevelAggregated']) IN ('medium', 'high')
                THEN 'Entra riskLevelAggregated ' || lower(params['riskLevelAggregated'])
        END AS signal,
        coalesce(params['riskEventTypes_v2'], params['riskEventTypes'], params['riskDetail']) AS detail,
        outcome
    FROM events
    WHERE event_class = 'auth' AND (user IS NOT NULL OR (action IN {_GOOGLE_WARNINGS} AND target IS NOT NULL))
),
firsts AS (
    SELECT *,
        ROW_NUMBER() OVER (PARTITION BY user, signal, CAST(time AS DATE) ORDER BY time, event_uid) AS nth
    FROM signals
    WHERE signal IS NOT NULL AND user IS NOT NULL
)
SELECT
    user AS entity,
    'user' AS entity_type,
    time,
    CASE WHEN signal LIKE '%high%' OR signal LIKE '%onfirmed%' OR signal LIKE '%gov_attack%'
              OR signal LIKE '%hijacked%' THEN 1.0 ELSE 0.6 END AS score,
    [event_uid] AS event_uids,
    CASE WHEN src_ip IS NULL THEN [] ELSE [src_ip] END AS src_ips,
    signal || ' on a sign-in (' || coalesce(outcome, '?') || ') at ' || {hhmm("time")} || ' from '
        || coalesce(src_ip, '?') || CASE WHEN detail IS NULL OR detail IN ('[]', 'none') THEN ''
                                        ELSE '; vendor detail: ' || detail END AS explanation
FROM firsts
WHERE nth = 1
"""

_USER = "a.sato@agency.example.jp"


def _entra(time: str, **params: str) -> dict[str, object]:
    base = {"riskLevelDuringSignIn": "none", "riskState": "none", "riskLevelAggregated": "none"}
    return ev(
        time,
        event_class="auth",
        action="login",
        user=_USER,
        src_ip="198.51.100.4",
        source_format="entra-signin",
        params={**base, **params},
    )


DETECTION = Detection(
    id="dt.signin.vendor_risk",
    title="Identity provider flags a sign-in as risky (Entra risk, Google account warning)",
    techniques=("T1078.004",),
    severity="medium",
    event_classes=("auth",),
    description=(
        "Entra ID rated a sign-in medium/high risk (riskLevelDuringSignIn or riskLevelAggregated) or put the user "
        "at risk / confirmed compromised (riskState), or Google Workspace raised a login warning (suspicious "
        "login, government-backed attack, leaked password, hijacked account). Medium: vendor verdicts are noisy "
        "alone, decisive with one more signal. Triage: read riskEventTypes, then the sign-in's network and session."
    ),
    query=_QUERY,
    # first signal per user and UTC day
    lookback=timedelta(days=1, hours=1),
    positives=(
        Case(
            "Entra high risk during sign-in",
            (_entra("2024-04-10T03:00:00Z", riskLevelDuringSignIn="high", riskEventTypes_v2='["unfamiliarFeatures"]'),),
            1,
        ),
        Case(
            "Google suspicious login warning",
            (
                ev(
                    "2024-04-10T03:00:00Z",
                    event_class="auth",
                    action="suspicious_login",
                    outcome="unknown",
                    user=_USER,
                    params={"login_type": "google_password"},
                ),
            ),
            1,
        ),
        Case(
            "Google government-backed attack warning, logged with no actor, on the affected account",
            (
                ev(
                    "2024-04-10T03:00:00Z",
                    event_class="auth",
                    action="gov_attack_warning",
                    outcome="unknown",
                    target=_USER,
                    params={"affected_email_address": _USER},
                ),
            ),
            1,
        ),
        Case(
            "Entra riskState atRisk twice the same day: one alert",
            (_entra("2024-04-10T03:00:00Z", riskState="atRisk"), _entra("2024-04-10T04:00:00Z", riskState="atRisk")),
            1,
        ),
    ),
    negatives=(
        Case(
            "Entra low risk, risk remediated",
            (_entra("2024-04-10T03:00:00Z", riskLevelDuringSignIn="low", riskState="remediated"),),
            0,
        ),
        Case(
            "Google login that is not suspicious",
            (
                ev(
                    "2024-04-10T03:00:00Z",
                    event_class="auth",
                    action="login",
                    user=_USER,
                    params={"is_suspicious": "false"},
                ),
            ),
            0,
        ),
    ),
)
