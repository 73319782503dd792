"""A first-time actor exports other people's mail in bulk, or right after granting themselves the right to.

The insider's (or an intruder with admin rights') collection run: assign oneself the
"Mailbox Import Export" or eDiscovery role, search colleagues' mailboxes, export the
results to PST.  Compliance officers export mail too, but they hold the role for years,
are given it by someone else, and have done it before.  A first export by an actor who
gave themselves the role days or minutes before, or one spanning many mailboxes, is the
high-confidence form of :mod:`admin_compliance_search_or_export`.
"""

from __future__ import annotations

from datetime import timedelta

from dwelltime.detect.base import Case, Detection, Keep
from dwelltime.detect.cases import ev
from dwelltime.detect.rules._admin import MAILBOXES

_QUERY = f"""
WITH ops AS (
    SELECT event_uid, time, user, src_ip, src_net_class, src_as_org, action, operation, mailbox,
        {MAILBOXES} AS mailboxes,
        (action = 'mailbox_export' AND mailbox IS NOT NULL AND mailbox <> user)
            OR (action = 'compliance_search' AND (lower(coalesce(params['Export'], '')) = 'true'
                OR operation IN ('SearchExported', 'SearchExportDownloaded'))) AS exports_others
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
session AS (
    SELECT o.*, a.first_time,
        sum(o.mailboxes) OVER (PARTITION BY o.user ORDER BY o.time, o.event_uid
                               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS mailboxes_so_far
    FROM ops o JOIN actors a ON a.user = o.user CROSS JOIN org
    WHERE o.time < a.first_time + INTERVAL 1 DAY AND a.first_time >= org.since + INTERVAL 2 DAY
),
self_granted AS (
    SELECT s.event_uid, max(r.time) AS role_time, max(r.role) AS role
    FROM session s
    JOIN (SELECT user, time, lower(coalesce(params['User'], target)) AS grantee, params['Role'] AS role
          FROM events
          WHERE action = 'New-ManagementRoleAssignment'
            AND lower(coalesce(params['Role'], '')) IN ('mailbox import export', 'mailbox search',
                                                         'ediscovery manager', 'ediscoverymanager')) r
      ON r.grantee = s.user AND r.user = s.user AND r.time < s.time AND r.time >= s.time - INTERVAL 7 DAY
    GROUP BY s.event_uid
),
hits AS (
    SELECT s.*, g.role_time, g.role,
        row_number() OVER (PARTITION BY s.user ORDER BY s.time, s.event_uid) AS nth
    FROM session s LEFT JOIN self_granted g ON g.event_uid = s.event_uid
    WHERE s.exports_others AND (g.event_uid IS NOT NULL OR s.mailboxes_so_far >= 5)
)
SELECT
    user AS entity,
    'user' AS entity_type,
    time,
    CASE WHEN role_time IS NOT NULL AND mailboxes_so_far >= 5 THEN 1.0 ELSE 0.8 END AS score,
    [event_uid] AS event_uids,
    CASE WHEN src_ip IS NULL THEN [] ELSE [src_ip] END AS src_ips,
    user || ' exported other people''s mail (' || operation || coalesce(', mailbox ' || mailbox, '')
        || ') in their first day of compliance/export operations in the stored history; '
        || CAST(mailboxes_so_far AS VARCHAR) || ' mailbox location(s) searched or exported since '
        || strftime(first_time, '%Y-%m-%d %H:%M UTC')
        || CASE WHEN role_time IS NOT NULL THEN '; they granted themselves the "' || role || '" role at '
            || strftime(role_time, '%Y-%m-%d %H:%M UTC') ELSE '' END
        || '; from ' || coalesce(src_ip, 'unknown address') || coalesce(' ' || src_as_org, '')
        || coalesce(' (' || src_net_class || ')', '') AS explanation
FROM hits
WHERE nth = 1
"""

_ACTOR = "m.nakamura@agency.example.jp"
_ORG_START = ev("2024-04-01T00:00:00Z", event_class="auth", action="login", user=_ACTOR)


def _role(time: str, granter: str = _ACTOR) -> dict[str, object]:
    return ev(
        time,
        event_class="other",
        action="New-ManagementRoleAssignment",
        user=granter,
        target=_ACTOR,
        params={"Role": "Mailbox Import Export", "User": _ACTOR},
    )


def _export(time: str, mailbox: str) -> dict[str, object]:
    return ev(
        time,
        event_class="admin",
        action="mailbox_export",
        operation="New-MailboxExportRequest",
        user=_ACTOR,
        mailbox=mailbox,
        target=mailbox,
        src_ip="133.221.230.56",
        params={"Mailbox": mailbox},
    )


def _search(time: str, locations: str, export: bool) -> dict[str, object]:
    operation = "New-ComplianceSearchAction" if export else "New-ComplianceSearch"
    params = {"SearchName": "s", "Export": "True"} if export else {"Name": "s", "ExchangeLocation": locations}
    return ev(time, event_class="admin", action="compliance_search", operation=operation, user=_ACTOR, params=params)


DETECTION = Detection(
    id="dt.admin.bulk_or_self_granted_export",
    title="First-time actor exports others' mail after self-granting the export role, or in bulk",
    techniques=("T1114.002", "T1098"),
    severity="high",
    event_classes=("admin",),
    description=(
        "In an actor's first 24 hours of compliance search / export operations (nothing earlier in the stored "
        "history; learning period: the first 2 days of the organisation's data), an export of other people's mail "
        "(New-MailboxExportRequest of another mailbox, a search export action) when the actor assigned themselves "
        "the Mailbox Import Export / Mailbox Search / eDiscovery Manager role in the 7 days before, or when the "
        "searches and exports so far span 5 or more mailboxes (or the whole organisation). One alert per actor. "
        "Triage: stop the export requests, find the PST / download location, ask who approved the case."
    ),
    query=_QUERY,
    # a search/export session lasts a day from the actor's first operation; self-granted roles reach 7 days back
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
        Case(
            "self-granted role, then PST export of a colleague",
            (_ORG_START, _role("2024-04-07T06:31:48Z"), _export("2024-04-07T06:50:33Z", "t.hayashi@agency.example.jp")),
            1,
        ),
        Case(
            "organisation-wide search then export, role given long ago",
            (_ORG_START, _search("2024-04-07T06:35:45Z", "All", False), _search("2024-04-07T06:44:55Z", "", True)),
            1,
        ),
    ),
    negatives=(
        Case(
            "role granted by another administrator, one mailbox exported",
            (
                _ORG_START,
                _role("2024-04-07T06:31:48Z", granter="it.admin@agency.example.jp"),
                _export("2024-04-07T06:50:33Z", "t.hayashi@agency.example.jp"),
            ),
            0,
        ),
        Case(
            "actor who exported before (routine)",
            (
                _ORG_START,
                _export("2024-04-01T06:50:33Z", "t.hayashi@agency.example.jp"),
                _role("2024-04-09T06:31:48Z"),
                _export("2024-04-10T06:50:33Z", "a.sato@agency.example.jp"),
            ),
            0,
        ),
    ),
)
