"""Compliance (eDiscovery) search, search export or mailbox export by an actor who has not done it before.

A content search with an export, or New-MailboxExportRequest to a PST, copies whole
mailboxes out in minutes: the insider's and the intruder-with-admin-rights' shortcut
(often right after granting themselves the "Mailbox Import Export" role).  In a given
organisation the same one or two compliance officers run these searches again and again,
so the actor is what matters: someone doing it for the first time is worth a question,
someone who does it routinely is not.
"""

from __future__ import annotations

from datetime import timedelta

from dwelltime.detect.base import Case, Detection, Keep
from dwelltime.detect.cases import ev
from dwelltime.detect.rules._admin import MAILBOXES

_QUERY = f"""
WITH ops AS (
    SELECT event_uid, time, user, src_ip, src_net_class, src_as_org, action, operation, target, mailbox,
        {MAILBOXES} AS mailboxes,
        action = 'mailbox_export' OR lower(coalesce(params['Export'], '')) = 'true'
            OR operation IN ('SearchExported', 'SearchExportDownloaded') AS exports,
        action = 'mailbox_export' AND mailbox IS NOT NULL AND mailbox <> user AS others
    FROM events
    WHERE event_class = 'admin' AND action IN ('compliance_search', 'mailbox_export')
      AND outcome <> 'failure' AND user IS NOT NULL
),
org AS (
    SELECT min(time) AS since FROM events
),
actors AS (
    SELECT user, min(time) AS first_time FROM ops GROUP BY user
),
roles AS (
    SELECT coalesce(lower(params['User']), target) AS grantee, user AS granter, time
    FROM events
    WHERE action = 'New-ManagementRoleAssignment'
      AND lower(coalesce(params['Role'], '')) IN ('mailbox import export', 'mailbox search', 'ediscovery manager',
                                                   'ediscoverymanager', 'compliance search')
),
session AS (
    SELECT o.*, a.first_time,
        sum(o.mailboxes) OVER (PARTITION BY o.user ORDER BY o.time, o.event_uid
                               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS mailboxes_so_far,
        sum(CASE WHEN o.exports THEN 1 ELSE 0 END) OVER (PARTITION BY o.user ORDER BY o.time, o.event_uid
                               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS exports_so_far
    FROM ops o JOIN actors a ON a.user = o.user CROSS JOIN org
    WHERE o.time < a.first_time + INTERVAL 1 DAY AND a.first_time >= org.since + INTERVAL 2 DAY
),
granted AS (
    SELECT s.event_uid, max(r.time) AS role_time, max(CASE WHEN r.granter = s.user THEN 1 ELSE 0 END) AS self_granted
    FROM session s JOIN roles r ON r.grantee = s.user AND r.time < s.time AND r.time >= s.time - INTERVAL 7 DAY
    GROUP BY s.event_uid
)
SELECT
    s.user AS entity,
    'user' AS entity_type,
    s.time AS time,
    least(1.0, 0.4 + CASE WHEN s.exports THEN 0.2 ELSE 0.0 END + CASE WHEN s.others THEN 0.1 ELSE 0.0 END
        + CASE WHEN s.mailboxes_so_far >= 5 THEN 0.2 ELSE 0.0 END
        + CASE WHEN g.event_uid IS NOT NULL THEN 0.1 ELSE 0.0 END) AS score,
    [s.event_uid] AS event_uids,
    CASE WHEN s.src_ip IS NULL THEN [] ELSE [s.src_ip] END AS src_ips,
    s.user || ' ran ' || s.operation || CASE WHEN s.target IS NOT NULL THEN ' (' || s.target || ')' ELSE '' END
        || ': first compliance search or mailbox export by this actor in the stored history'
        || '; ' || CAST(s.mailboxes_so_far AS VARCHAR) || ' mailbox location(s) and '
        || CAST(s.exports_so_far AS VARCHAR) || ' export(s) since ' || strftime(s.first_time, '%Y-%m-%d %H:%M UTC')
        || CASE WHEN s.others THEN '; exports the mailbox of ' || s.mailbox ELSE '' END
        || CASE WHEN g.event_uid IS NOT NULL THEN '; the actor was given a search/export role at '
            || strftime(g.role_time, '%Y-%m-%d %H:%M UTC')
            || CASE WHEN g.self_granted = 1 THEN ' (self-granted)' ELSE '' END ELSE '' END
        || '; from ' || coalesce(s.src_ip, 'unknown address') || coalesce(' ' || s.src_as_org, '')
        || coalesce(' (' || s.src_net_class || ')', '') AS explanation
FROM session s
LEFT JOIN granted g ON g.event_uid = s.event_uid
WHERE s.time = s.first_time OR s.exports
"""

_ADMIN = "m.nakamura@agency.example.jp"
_OFFICER = "hr.officer@agency.example.jp"
_ORG_START = ev("2024-04-01T00:00:00Z", event_class="auth", action="login", user=_ADMIN)


def _op(time: str, action: str, operation: str, user: str = _ADMIN, **params: str) -> dict[str, object]:
    return ev(
        time,
        event_class="admin",
        action=action,
        operation=operation,
        user=user,
        target=params.get("Name") or params.get("Mailbox"),
        mailbox=params.get("Mailbox", "").lower() or None,
        src_ip="133.221.230.56",
        params=params,
    )


_FIRST = (
    ev(
        "2024-04-07T06:31:48Z",
        event_class="other",
        action="New-ManagementRoleAssignment",
        user=_ADMIN,
        target=_ADMIN,
        params={"Role": "Mailbox Import Export", "User": _ADMIN},
    ),
    _op(
        "2024-04-07T06:35:45Z",
        "compliance_search",
        "New-ComplianceSearch",
        Name="review-50",
        ExchangeLocation="t.hayashi@agency.example.jp,m.nishimura@agency.example.jp",
    ),
    _op(
        "2024-04-07T06:44:55Z", "compliance_search", "New-ComplianceSearchAction", SearchName="review-50", Export="True"
    ),
    _op("2024-04-07T06:50:33Z", "mailbox_export", "New-MailboxExportRequest", Mailbox="t.hayashi@agency.example.jp"),
)

DETECTION = Detection(
    id="dt.admin.compliance_search_or_export",
    title="Compliance search or mailbox export by a first-time actor",
    techniques=("T1114.002", "T1530"),
    severity="medium",
    event_classes=("admin",),
    description=(
        "A compliance (eDiscovery) search, a search export, or New-MailboxExportRequest by an actor with no such "
        "operation earlier in the stored history; alerts on the first operation and on each export in the actor's "
        "first 24 hours, with the number of mailboxes searched, whose mailbox was exported, and whether the actor "
        "was given (or gave themselves) the Mailbox Import Export / search role in the 7 days before. Actors who did "
        "it before never alert again. Learning period: actors seen in the first 2 days of the organisation's data "
        "are known (kept short because these operations are rare and the first-time alert is only medium). "
        "Alone it opens an incident only with another signal. Triage: "
        "is the actor a compliance officer with a ticket for this case; which mailboxes; where the export went."
    ),
    query=_QUERY,
    # a search/export session lasts a day from the actor's first operation; granted roles reach 7 days back
    lookback=timedelta(days=8),
    keep=(
        Keep(
            "event_class = 'admin' AND action IN ('compliance_search', 'mailbox_export') AND outcome"
            " <> 'failure' AND user IS NOT NULL",
            ("user",),
        ),
        Keep("action = 'New-ManagementRoleAssignment'"),
    ),
    positives=(
        Case("self-granted export role, search with export, PST export of a colleague", (_ORG_START, *_FIRST), 3),
        Case(
            "first search by a new actor, organisation-wide",
            (
                _ORG_START,
                _op(
                    "2024-04-07T06:35:45Z",
                    "compliance_search",
                    "New-ComplianceSearch",
                    Name="all",
                    ExchangeLocation="All",
                ),
            ),
            1,
        ),
    ),
    negatives=(
        Case(
            "the compliance officer's routine search, done before in the stored history",
            (
                _ORG_START,
                _op("2024-04-01T05:00:00Z", "compliance_search", "New-ComplianceSearch", user=_OFFICER, Name="HR-0"),
                _op(
                    "2024-04-01T05:10:00Z",
                    "compliance_search",
                    "New-ComplianceSearchAction",
                    user=_OFFICER,
                    Export="True",
                ),
                _op(
                    "2024-04-11T05:40:21Z",
                    "compliance_search",
                    "New-ComplianceSearch",
                    user=_OFFICER,
                    Name="HR-1",
                    ExchangeLocation="t.okamoto@agency.example.jp",
                ),
                _op(
                    "2024-04-11T05:50:00Z",
                    "compliance_search",
                    "New-ComplianceSearchAction",
                    user=_OFFICER,
                    Export="True",
                ),
            ),
            0,
        ),
        Case(
            "a failed attempt is not an operation",
            (
                _ORG_START,
                {**_op("2024-04-07T06:35:45Z", "mailbox_export", "New-MailboxExportRequest"), "outcome": "failure"},
            ),
            0,
        ),
    ),
)
