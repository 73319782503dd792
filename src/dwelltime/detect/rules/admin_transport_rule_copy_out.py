"""A transport (mail flow) rule that copies or redirects mail to an address outside the organisation.

One transport rule with BlindCopyTo set to an outside mailbox quietly copies every
matching message of every user: the most complete collection an intruder with Exchange
admin rights can set up, and invisible to the users.  Organisations do use transport
rules, but to copy mail to their own archive or compliance mailboxes; a rule delivering
copies to a domain the organisation does not own has no routine explanation.
"""

from __future__ import annotations

from datetime import timedelta

from dwelltime.detect.base import Case, Detection, Keep
from dwelltime.detect.cases import ev

_QUERY = """
WITH rules AS (
    SELECT event_uid, time, user, src_ip, src_net_class, src_as_org, operation, target,
        lower(concat_ws(',', params['BlindCopyTo'], params['RedirectMessageTo'], params['CopyTo'],
                        params['AddToRecipients'], params['AddManagerAsRecipientType'])) AS destinations
    FROM events
    WHERE event_class = 'admin' AND action = 'transport_rule' AND outcome <> 'failure'
),
rule_domains AS (
    SELECT event_uid, time, d AS domain
    FROM (SELECT event_uid, time, unnest(regexp_extract_all(destinations, '@([a-z0-9.-]+[a-z0-9])', 1)) AS d
          FROM rules)
),
org_domains AS (
    SELECT lower(split_part(user, '@', 2)) AS domain, min(time) AS first_seen
    FROM events
    WHERE user LIKE '%@%' AND event_class = 'auth' AND outcome = 'success'
    GROUP BY lower(split_part(user, '@', 2))
),
outside AS (
    SELECT rd.event_uid, array_agg(DISTINCT rd.domain) AS domains
    FROM rule_domains rd
    LEFT JOIN org_domains o ON o.domain = rd.domain AND o.first_seen < rd.time
    WHERE o.domain IS NULL
    GROUP BY rd.event_uid
)
SELECT
    coalesce(r.user, 'unknown') AS entity,
    'user' AS entity_type,
    r.time AS time,
    1.0 AS score,
    [r.event_uid] AS event_uids,
    CASE WHEN r.src_ip IS NULL THEN [] ELSE [r.src_ip] END AS src_ips,
    coalesce(r.user, '?') || ' ' || coalesce(r.operation, 'changed a transport rule') || ' "' || coalesce(r.target, '?')
        || '": copies or redirects mail to ' || r.destinations || ' (outside domain(s): '
        || array_to_string(list_sort(o.domains), ', ') || ', never a sign-in domain of the organisation); from '
        || coalesce(r.src_ip, 'unknown address') || coalesce(' ' || r.src_as_org, '')
        || coalesce(' (' || r.src_net_class || ')', '') AS explanation
FROM rules r
JOIN outside o ON o.event_uid = r.event_uid
"""

_ADMIN = "admin.ito@agency.example.jp"
_LOGIN = ev("2024-04-01T00:00:00Z", event_class="auth", action="login", user=_ADMIN)


def _rule(time: str, **params: str) -> dict[str, object]:
    return ev(
        time,
        event_class="admin",
        action="transport_rule",
        operation="New-TransportRule",
        user=_ADMIN,
        target=params.get("Name"),
        src_ip="47.74.10.18",
        params=params,
    )


DETECTION = Detection(
    id="dt.admin.transport_rule_copy_out",
    title="Transport rule copying or redirecting mail outside the organisation",
    techniques=("T1114.003",),
    severity="high",
    event_classes=("admin",),
    description=(
        "New-/Set-TransportRule with BlindCopyTo, RedirectMessageTo, CopyTo or AddToRecipients naming an address "
        "in a domain that none of the organisation's accounts signed in with before the change. Such a rule copies "
        "the matching mail of every user, silently. Rules copying to the organisation's own archive or journal "
        "mailboxes do not alert. Triage: disable the rule at once, identify who created it (src_ip, admin session), "
        "count the messages it copied (message trace by rule), and review the admin account."
    ),
    query=_QUERY,
    # only the first sign-in per domain of the organisation counts
    lookback=timedelta(0),
    keep=(
        Keep("user LIKE '%@%' AND event_class = 'auth' AND outcome = 'success'", ("lower(split_part(user, '@', 2))",)),
    ),
    positives=(
        Case(
            "BlindCopyTo a free-mail address",
            (_LOGIN, _rule("2024-04-14T01:00:00Z", Name="Compliance", BlindCopyTo="collect.box@protonmail.example")),
            1,
        ),
        Case(
            "redirect to an internal and an outside address",
            (
                _LOGIN,
                _rule(
                    "2024-04-14T01:00:00Z",
                    Name="r",
                    RedirectMessageTo="archive@agency.example.jp,drop@evil.example.net",
                ),
            ),
            1,
        ),
    ),
    negatives=(
        Case(
            "copy to the organisation's own archive mailbox",
            (_LOGIN, _rule("2024-04-14T01:00:00Z", Name="Archive", BlindCopyTo="archive@agency.example.jp")),
            0,
        ),
        Case(
            "a disclaimer rule without recipients",
            (_LOGIN, _rule("2024-04-14T01:00:00Z", Name="Disclaimer", ApplyHtmlDisclaimerText="...")),
            0,
        ),
    ),
)
