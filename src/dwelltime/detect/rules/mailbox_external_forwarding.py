"""Mail forwarded outside the organisation: a mailbox forwarding setting or an inbox rule that forwards/redirects.

Attackers who hold a mailbox set up forwarding so that they keep receiving mail after
the password is changed (BEC, espionage).  Internal forwarding to a colleague is
common and benign; forwarding to a domain the organisation does not use is not.
"""

from __future__ import annotations

from datetime import timedelta

from dwelltime.detect.base import Case, Detection, Keep
from dwelltime.detect.cases import ev

_QUERY = """
WITH org_domains AS (
    -- Since when each domain is one the organisation signs in with (only the past counts).
    SELECT lower(split_part(user, '@', 2)) AS domain, min(time) AS first_seen
    FROM events
    WHERE user LIKE '%@%' AND event_class = 'auth' AND outcome = 'success'
    GROUP BY lower(split_part(user, '@', 2))
),
forwards AS (
    SELECT event_uid, time, user, src_ip, action, target,
        lower(regexp_replace(coalesce(
            CASE WHEN action = 'forwarding' THEN target END,
            params['ForwardTo'],
            params['RedirectTo'],
            params['ForwardAsAttachmentTo']
        ), '^(smtp:|SMTP:)', '')) AS destination
    FROM events
    WHERE event_class = 'mailbox_change' AND action IN ('forwarding', 'inbox_rule')
)
SELECT
    f.user AS entity,
    'user' AS entity_type,
    f.time AS time,
    1.0 AS score,
    [f.event_uid] AS event_uids,
    CASE WHEN f.src_ip IS NULL THEN [] ELSE [f.src_ip] END AS src_ips,
    'mail of ' || f.user || ' forwarded to ' || f.destination || ' (a domain the organisation does not use), by '
        || CASE WHEN f.action = 'forwarding' THEN 'mailbox forwarding' ELSE 'an inbox rule' END AS explanation
FROM forwards f
WHERE f.destination LIKE '%@%'
  AND NOT EXISTS (
      SELECT 1 FROM org_domains o
      WHERE o.domain = regexp_extract(f.destination, '@([^>;, ]+)', 1) AND o.first_seen < f.time
  )
"""

_LOGIN = ev("2024-04-01T00:00:00Z", event_class="auth", action="login", user="a.sato@agency.example.jp")

DETECTION = Detection(
    id="dt.mailbox.external_forwarding",
    title="Mailbox forwarding to an external address",
    techniques=("T1114.003",),
    severity="high",
    event_classes=("mailbox_change",),
    description=(
        "A mailbox forwarding setting or an inbox rule sends the user's mail to an address outside the "
        "organisation's own domains. Attackers use it to keep reading mail after losing access. Triage: who set it "
        "(src_ip, client), whether the user knows the destination, and what mail already went out since."
    ),
    query=_QUERY,
    # only the first sign-in per domain of the organisation counts
    lookback=timedelta(0),
    keep=(
        Keep("user LIKE '%@%' AND event_class = 'auth' AND outcome = 'success'", ("lower(split_part(user, '@', 2))",)),
    ),
    positives=(
        Case(
            "forwarding setting to a free-mail address",
            (
                _LOGIN,
                ev(
                    "2024-04-02T03:00:00Z",
                    event_class="mailbox_change",
                    action="forwarding",
                    user="a.sato@agency.example.jp",
                    target="archive.box@mailinator.example.com",
                    src_ip="203.0.113.9",
                ),
            ),
            1,
        ),
        Case(
            "inbox rule redirecting to an outside domain",
            (
                _LOGIN,
                ev(
                    "2024-04-02T03:00:00Z",
                    event_class="mailbox_change",
                    action="inbox_rule",
                    user="a.sato@agency.example.jp",
                    target=".",
                    params={"RedirectTo": "x@evil.example.net"},
                ),
            ),
            1,
        ),
    ),
    negatives=(
        Case(
            "forwarding to a colleague",
            (
                _LOGIN,
                ev(
                    "2024-04-02T03:00:00Z",
                    event_class="mailbox_change",
                    action="forwarding",
                    user="a.sato@agency.example.jp",
                    target="smtp:b.ito@agency.example.jp",
                ),
            ),
            0,
        ),
        Case(
            "an inbox rule that only moves mail",
            (
                _LOGIN,
                ev(
                    "2024-04-02T03:00:00Z",
                    event_class="mailbox_change",
                    action="inbox_rule",
                    user="a.sato@agency.example.jp",
                    params={"MoveToFolder": "Archive"},
                ),
            ),
            0,
        ),
    ),
)
