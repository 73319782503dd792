"""Someone other than the owner is given access to a mailbox: full access, send-as, or the Inbox itself.

Delegation is persistence that survives a password reset: the intruder grants FullAccess
or SendAs on the victim's mailbox to another account they hold, or opens the Inbox to
Default / Anonymous so that any account in the tenant can read it.  Shared mailboxes and
assistants make delegation common, but it is done by a few administrators over and over,
and it almost never opens an Inbox to everyone; a grant by someone who does not do it
routinely, or one that opens mail folders to Default/Anonymous, is worth a question.
"""

from __future__ import annotations

from datetime import timedelta

from dwelltime.detect.base import Case, Detection, Keep
from dwelltime.detect.cases import ev

_QUERY = """
WITH grants AS (
    SELECT event_uid, time, user, src_ip, src_net_class, src_as_org, action, operation,
        lower(coalesce(mailbox, split_part(coalesce(params['Identity'], ''), ':', 1))) AS owner,
        lower(trim(coalesce(target, params['User'], params['Trustee'], params['GrantSendOnBehalfTo'], ''))) AS grantee,
        lower(coalesce(params['AccessRights'],
                       CASE WHEN action = 'recipient_permission' THEN 'sendas' END,
                       CASE WHEN params['GrantSendOnBehalfTo'] IS NOT NULL THEN 'sendonbehalf' END,
                       'delegate')) AS rights,
        lower(trim(split_part(replace(coalesce(params['Identity'], ''), chr(92), '/'), '/', -1))) AS folder_leaf
    FROM events
    WHERE event_class = 'mailbox_change' AND outcome <> 'failure'
      AND (action IN ('mailbox_permission', 'recipient_permission', 'folder_permission')
           OR (action = 'admin_change' AND params['GrantSendOnBehalfTo'] IS NOT NULL))
      AND NOT regexp_matches(lower(coalesce(operation, '')), 'remove|delete|revoke')
      AND lower(coalesce(params['Deny'], 'false')) <> 'true'
),
judged AS (
    SELECT *,
        grantee IN ('default', 'anonymous', 'everyone', '既定', '匿名') AS to_everyone
    FROM grants
    WHERE grantee <> '' AND grantee <> owner AND grantee <> split_part(owner, '@', 1)
      AND grantee NOT IN ('nt authority\\self', 'self')
      AND NOT regexp_matches(rights, '^(none|availabilityonly|limiteddetails)$')
      AND (action <> 'folder_permission'
           OR NOT regexp_matches(folder_leaf, 'calendar|予定表|contacts|連絡先|^$'))
),
org AS (
    SELECT min(time) AS since FROM events
),
routine AS (
    SELECT j.event_uid, count(*) AS earlier
    FROM judged j JOIN grants g ON g.user = j.user AND g.time < j.time - INTERVAL 1 DAY
    GROUP BY j.event_uid
)
SELECT
    j.owner AS entity,
    'user' AS entity_type,
    j.time AS time,
    CASE WHEN j.to_everyone THEN 0.9 WHEN j.rights LIKE '%fullaccess%' OR j.rights LIKE '%sendas%' THEN 0.7 ELSE 0.5 END
        AS score,
    [j.event_uid] AS event_uids,
    CASE WHEN j.src_ip IS NULL THEN [] ELSE [j.src_ip] END AS src_ips,
    coalesce(j.user, '?') || ' gave ' || j.grantee || ' ' || j.rights || ' on '
        || CASE WHEN j.action = 'folder_permission' THEN 'the folder "' || j.folder_leaf || '" of '
                ELSE 'the mailbox ' END
        || j.owner || ' (' || coalesce(j.operation, j.action) || ')'
        || CASE WHEN j.to_everyone THEN '; opens it to every account in the organisation' ELSE '' END
        || '; the actor made ' || CAST(coalesce(r.earlier, 0) AS VARCHAR) || ' delegation change(s) before'
        || '; from ' || coalesce(j.src_ip, 'unknown address') || coalesce(' ' || j.src_as_org, '')
        || coalesce(' (' || j.src_net_class || ')', '') AS explanation
FROM judged j
LEFT JOIN routine r ON r.event_uid = j.event_uid
CROSS JOIN org o
WHERE j.to_everyone OR (coalesce(r.earlier, 0) < 3 AND j.time >= o.since + INTERVAL 7 DAY)
"""

_OWNER = "n.sasaki@agency.example.jp"


def _grant(time: str, action: str, operation: str, actor: str = _OWNER, **params: str) -> dict[str, object]:
    identity = params.get("Identity", _OWNER)
    return ev(
        time,
        event_class="mailbox_change",
        action=action,
        operation=operation,
        user=actor,
        mailbox=identity.split(":", 1)[0].lower(),
        target=params.get("User") or params.get("Trustee"),
        src_ip="197.210.10.216",
        params={"Identity": identity, **params},
    )


_ADMIN = "it.admin@agency.example.jp"
_ORG_START = ev("2024-04-01T00:00:00Z", event_class="auth", action="login", user=_OWNER)

DETECTION = Detection(
    id="dt.mailbox.delegation",
    title="Mailbox delegation: full access, send-as or Inbox permission granted to another principal",
    techniques=("T1098.002",),
    severity="medium",
    event_classes=("mailbox_change",),
    description=(
        "Add-MailboxPermission (FullAccess...), Add-RecipientPermission (SendAs), Set-Mailbox -GrantSendOnBehalfTo, "
        "Gmail delegation, or a folder permission on a mail folder (not calendars or contacts) granted to a principal "
        "other than the mailbox owner. Grants opening a mail folder to Default/Anonymous always alert; other grants "
        "are ignored when the actor made 3 or more delegation changes more than a day earlier (the administrators "
        "who manage shared mailboxes); learning period: such grants in the first 7 days of the organisation's data "
        "only build that history. Triage: does the owner know the grantee, who made the change and from where; "
        "remove the permission if unexplained and check the grantee account."
    ),
    query=_QUERY,
    # every delegation change (rare): the actor's earlier changes are counted
    lookback=timedelta(days=2),
    keep=(
        Keep(
            "event_class = 'mailbox_change' AND (action IN ('mailbox_permission', 'recipient_permission',"
            " 'folder_permission') OR (action = 'admin_change' AND params['GrantSendOnBehalfTo'] IS NOT NULL))"
        ),
    ),
    positives=(
        Case(
            "Inbox opened to Default",
            (
                _ORG_START,
                _grant(
                    "2024-04-13T11:40:00Z",
                    "folder_permission",
                    "Add-MailboxFolderPermission",
                    Identity=_OWNER + ":\\Inbox",
                    User="Default",
                    AccessRights="Reviewer",
                ),
            ),
            1,
        ),
        Case(
            "FullAccess to another account",
            (
                _ORG_START,
                _grant(
                    "2024-04-13T11:40:00Z",
                    "mailbox_permission",
                    "Add-MailboxPermission",
                    User="x.helper@agency.example.jp",
                    AccessRights="FullAccess",
                ),
            ),
            1,
        ),
        Case(
            "SendAs to another account",
            (
                _ORG_START,
                _grant(
                    "2024-04-13T11:40:00Z",
                    "recipient_permission",
                    "Add-RecipientPermission",
                    Trustee="x.helper@agency.example.jp",
                    AccessRights="SendAs",
                ),
            ),
            1,
        ),
    ),
    negatives=(
        Case(
            "calendar shared with Default (free/busy detail)",
            (
                _ORG_START,
                _grant(
                    "2024-04-13T11:40:00Z",
                    "folder_permission",
                    "Set-MailboxFolderPermission",
                    Identity=_OWNER + ":\\Calendar",
                    User="Default",
                    AccessRights="Reviewer",
                ),
            ),
            0,
        ),
        Case(
            "the mail administrator's routine shared-mailbox grants (first ones in the learning period)",
            tuple(
                _grant(
                    f"2024-04-{day:02d}T02:00:00Z",
                    "mailbox_permission",
                    "Add-MailboxPermission",
                    actor=_ADMIN,
                    Identity="soumu@agency.example.jp",
                    User=f"staff{day}@agency.example.jp",
                    AccessRights="FullAccess",
                )
                for day in (1, 2, 3, 5, 12)
            ),
            0,
        ),
        Case(
            "permission removed",
            (
                _ORG_START,
                _grant(
                    "2024-04-13T11:40:00Z",
                    "mailbox_permission",
                    "Remove-MailboxPermission",
                    User="x.helper@agency.example.jp",
                    AccessRights="FullAccess",
                ),
            ),
            0,
        ),
    ),
)
