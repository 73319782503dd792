"""OAuth consent that gives an application new to the organisation the right to read or send mail.

Consent phishing ("illicit consent grant") skips the password entirely: the victim clicks
"Accept" on a real Microsoft or Google consent page, and the attacker's app receives a
refresh token with Mail.Read / Mail.ReadWrite / Mail.Send (or Gmail's scopes) that
survives password resets and MFA.  Legitimate mail-reading apps exist, but in a given
organisation they are few and recur: once several people have consented to one, a new
consent to it is routine.  An app id that nobody in the organisation has consented to or
signed in with before, asking for mail scopes, is worth a look every time.
"""

from __future__ import annotations

from datetime import timedelta

from dwelltime.detect.base import Case, Detection, Keep
from dwelltime.detect.cases import ev

#: Delegated or application permissions that read, change or send mail (Graph, EWS, IMAP/POP/SMTP, Gmail).
_MAIL_SCOPE = (
    r"(^| )(mail\.(read|readwrite|send|readbasic)(\.all|\.shared)?|full_access_as_app|full_access_as_user"
    r"|(ews|eas|imap|pop)\.accessasuser\.all|smtp\.send|mailboxsettings\.readwrite"
    r"|https://mail\.google\.com/?|https://www\.googleapis\.com/auth/gmail\.[a-z._]+)( |$)"
)

_QUERY = f"""
WITH consents AS (
    SELECT event_uid, time, user, src_ip, src_net_class, src_as_org, app_name, target, params,
        coalesce(app_id, target) AS app,
        lower(array_to_string(scopes, ' ')) AS scope_text
    FROM events
    WHERE event_class = 'app_consent' AND action = 'consent' AND outcome <> 'failure'
),
org AS (
    SELECT min(time) AS since FROM events
),
app_first_consent AS (
    SELECT app, min(time) AS first_time FROM consents WHERE app IS NOT NULL GROUP BY app
),
app_users AS (
    SELECT app_id AS app, user, min(time) AS first_time
    FROM events
    WHERE event_class IN ('auth', 'mailbox_access') AND app_id IS NOT NULL AND user IS NOT NULL
    GROUP BY app_id, user
)
SELECT
    c.user AS entity,
    'user' AS entity_type,
    c.time AS time,
    CASE WHEN lower(coalesce(c.params['ConsentContext.IsAdminConsent'], '')) = 'true' THEN 1.0 ELSE 0.8 END AS score,
    [c.event_uid] AS event_uids,
    CASE WHEN c.src_ip IS NULL THEN [] ELSE [c.src_ip] END AS src_ips,
    c.user || ' consented to app ' || coalesce(c.app_name, c.target, '?') || ' (' || c.app || ') with mail scopes ['
        || c.scope_text || ']; no one in the organisation consented to or signed in with this app in the '
        || CAST(date_diff('day', o.since, c.time) AS VARCHAR) || ' days of history'
        || CASE WHEN lower(coalesce(c.params['ConsentContext.IsAdminConsent'], '')) = 'true'
                THEN '; ADMIN consent (applies to every user)' ELSE '' END
        || '; from ' || coalesce(c.src_ip, 'unknown address') || coalesce(' ' || c.src_as_org, '')
        || coalesce(' (' || c.src_net_class || ')', '') AS explanation
FROM consents c
CROSS JOIN org o
JOIN app_first_consent f ON f.app = c.app
WHERE regexp_matches(c.scope_text, '{_MAIL_SCOPE}')
  AND c.time = f.first_time
  AND c.time >= o.since + INTERVAL 7 DAY
  AND NOT EXISTS (
      SELECT 1 FROM app_users u WHERE u.app = c.app AND u.first_time < c.time AND u.user <> c.user
  )
"""

_VICTIM = "k.ishikawa@agency.example.jp"
_APP = "21a3bf01-1628-4f8e-8914-c0f8637ff84a"
_START = ev("2024-04-01T00:00:00Z", event_class="auth", action="login", user=_VICTIM)


def _consent(time: str, user: str, scopes: list[str], app: str = _APP) -> dict[str, object]:
    return ev(
        time,
        event_class="app_consent",
        action="consent",
        user=user,
        app_id=app,
        app_name="PDF Viewer Pro",
        scopes=scopes,
        src_ip="52.168.30.27",
        params={"ConsentContext.IsAdminConsent": "False"},
    )


def _signin(time: str, user: str, app: str) -> dict[str, object]:
    return ev(time, event_class="auth", action="login", user=user, app_id=app)


DETECTION = Detection(
    id="dt.app.consent_mail_scopes",
    title="OAuth consent to mail scopes for an app new to the organisation",
    techniques=("T1528", "T1566.002"),
    severity="high",
    event_classes=("app_consent",),
    description=(
        "A user (or an admin, for everyone) consented to an OAuth application that asks for mail scopes (Mail.Read, "
        "Mail.ReadWrite, Mail.Send, full_access_as_app, EWS/IMAP/POP AccessAsUser, Gmail's mail.google.com or "
        "gmail.* scopes), and no one in the organisation had consented to or signed in with that app id before. "
        "Consent phishing yields a refresh token that survives password resets and MFA. Learning period: the first "
        "7 days of the organisation's data raise nothing. Triage: look the app up (publisher, reply URLs), ask the "
        "user, revoke the grant and the app's tokens, then review what the app read (MailItemsAccessed by app_id)."
    ),
    query=_QUERY,
    # first consent per app, first use per app and user
    lookback=timedelta(0),
    keep=(
        Keep(
            "event_class = 'app_consent' AND action = 'consent' AND outcome <> 'failure'",
            ("coalesce(app_id, target)",),
        ),
        Keep(
            "event_class IN ('auth', 'mailbox_access') AND app_id IS NOT NULL AND user IS NOT NULL",
            ("app_id, user",),
        ),
    ),
    positives=(
        Case(
            "user consents to an unknown app with Mail.Read + offline_access",
            (_START, _consent("2024-04-12T02:34:52Z", _VICTIM, ["User.Read", "offline_access", "Mail.Read"])),
            1,
        ),
        Case(
            "Google token authorize with the full Gmail scope",
            (
                _START,
                _consent(
                    "2024-04-12T02:34:52Z",
                    _VICTIM,
                    ["https://mail.google.com/", "openid"],
                    app="123456789012-abc.apps.googleusercontent.com",
                ),
            ),
            1,
        ),
    ),
    negatives=(
        Case(
            "app already used by colleagues before this consent",
            (
                _START,
                _signin("2024-04-03T00:00:00Z", "b.ito@agency.example.jp", _APP),
                _consent("2024-04-12T02:34:52Z", _VICTIM, ["Mail.Read", "offline_access"]),
            ),
            0,
        ),
        Case(
            "second consent to an app another user consented to last week",
            (
                _START,
                _consent("2024-04-10T00:00:00Z", "b.ito@agency.example.jp", ["User.Read"]),
                _consent("2024-04-12T02:34:52Z", _VICTIM, ["Mail.Read"]),
            ),
            0,
        ),
        Case(
            "new app with profile scopes only",
            (_START, _consent("2024-04-12T02:34:52Z", _VICTIM, ["User.Read", "openid", "profile"])),
            0,
        ),
        Case(
            "inside the 7-day learning period",
            (_START, _consent("2024-04-03T02:34:52Z", _VICTIM, ["Mail.Read"])),
            0,
        ),
    ),
)
