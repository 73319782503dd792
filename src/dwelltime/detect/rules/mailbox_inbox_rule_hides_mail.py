"""Inbox rules that hide mail from the mailbox owner: delete it, mark it read, or bury it.

The classic BEC move: after reading the victim's mail, the intruder adds a rule with a
throw-away name ("." or "..") that moves every message mentioning invoices, payments or
passwords into a folder nobody opens (RSS Subscriptions, Conversation History) and marks
it read, so that the victim never sees the partner's "did you change your bank account?"
reply or the help desk's warning.  People write rules too, but theirs file newsletters
into folders they then read; what gives the intruder away is *hiding* combined with a
*topic* (money, credentials, security) or with a hideout folder and a meaningless name.

Both rule shapes are read: the cmdlet form (New-/Set-InboxRule, parameters such as
MoveToFolder, MarkAsRead, DeleteMessage, SubjectOrBodyContainsWords) and Outlook's
UpdateInboxRules (RuleActions / RuleCondition text).
"""

from __future__ import annotations

from datetime import timedelta

from dwelltime.detect.base import Case, Detection, Keep
from dwelltime.detect.cases import ev

#: Folders people do not open: mail moved there is as good as deleted.
_HIDEOUT = (
    "rss|rss feeds|rss subscriptions|rss フィード|conversation history|会話の履歴|deleted items|削除済みアイテム"
    "|junk|junk e-?mail|junk mail|迷惑メール|sync issues|同期の問題|notes|メモ|journal|履歴|outbox|送信トレイ"
)
#: Topics intruders want the victim not to see (payment fraud, credential and security warnings).
_TOPICS = (
    "invoice|payment|pay ?roll|remittance|wire|bank|iban|swift|transfer|password|passcode|security|verif"
    "|mfa|2fa|phish|hack|compromis|suspicious|fraud|scam|helpdesk|help desk"
    "|請求|振込|振り込|送金|入金|支払|口座|見積|パスワード|セキュリティ|不審|詐欺|なりすまし"
)

_QUERY = f"""
WITH rules AS (
    SELECT event_uid, time, user, coalesce(mailbox, user) AS owner, src_ip, src_net_class, src_as_org,
        coalesce(target, params['RuleName'], params['Name'], '') AS rule_name,
        lower(trim(split_part(replace(coalesce(params['MoveToFolder'], ''), chr(92), '/'), '/', -1))) AS move_leaf,
        lower(coalesce(params['DeleteMessage'], '')) = 'true'
            OR lower(coalesce(params['SoftDeleteMessage'], '')) = 'true'
            OR lower(coalesce(params['RuleActions'], '')) LIKE '%delete%' AS deletes,
        lower(coalesce(params['MarkAsRead'], '')) = 'true'
            OR lower(coalesce(params['RuleActions'], '')) LIKE '%markasread%'
            OR lower(coalesce(params['RuleActions'], '')) LIKE '%mark as read%' AS marks_read,
        lower(concat_ws(' ', params['SubjectContainsWords'], params['SubjectOrBodyContainsWords'],
            params['BodyContainsWords'], params['HeaderContainsWords'], params['FromAddressContainsWords'],
            params['RuleCondition'])) AS words,
        lower(coalesce(params['RuleActions'], '')) AS actions_text
    FROM events
    WHERE event_class = 'mailbox_change' AND action = 'inbox_rule' AND outcome <> 'failure'
),
seen_folders AS (
    SELECT owner, leaf, min(time) AS first_seen
    FROM (
        SELECT coalesce(mailbox, user) AS owner, time,
            lower(trim(split_part(replace(f, chr(92), '/'), '/', -1))) AS leaf
        FROM (SELECT mailbox, user, time, unnest(folders) AS f FROM events
              WHERE event_class = 'mailbox_access' AND folders IS NOT NULL)
    ) x
    GROUP BY owner, leaf
),
folder_history AS (
    SELECT owner, min(first_seen) AS since FROM seen_folders GROUP BY owner
),
judged AS (
    SELECT r.*,
        r.move_leaf <> '' AND regexp_matches(r.move_leaf, '^({_HIDEOUT})$')
            OR regexp_matches(r.actions_text, '{_HIDEOUT.replace("|notes|メモ|journal|履歴", "")}') AS hideout,
        r.move_leaf <> '' AND regexp_matches(r.move_leaf, 'arch?iv|アーカイブ|^[^a-z0-9]{{0,2}}$') AS archive_like,
        r.move_leaf <> '' AND h.since < r.time - INTERVAL 7 DAY AND s.leaf IS NULL AS unseen_folder,
        regexp_matches(r.words, '{_TOPICS}') AS topic,
        regexp_extract(r.words, '({_TOPICS})', 1) AS topic_word,
        length(trim(r.rule_name)) <= 2 OR regexp_matches(r.rule_name, '^[ .,;:_~!?*#|/-]+$') AS junk_name
    FROM rules r
    LEFT JOIN folder_history h ON h.owner = r.owner
    LEFT JOIN seen_folders s ON s.owner = r.owner AND s.leaf = r.move_leaf AND s.first_seen < r.time
)
SELECT
    owner AS entity,
    'user' AS entity_type,
    time,
    (CASE WHEN topic THEN 0.4 ELSE 0.0 END) + (CASE WHEN deletes OR hideout THEN 0.3 ELSE 0.0 END)
        + (CASE WHEN marks_read THEN 0.1 ELSE 0.0 END) + (CASE WHEN junk_name THEN 0.1 ELSE 0.0 END)
        + (CASE WHEN unseen_folder OR archive_like THEN 0.1 ELSE 0.0 END) AS score,
    [event_uid] AS event_uids,
    CASE WHEN src_ip IS NULL THEN [] ELSE [src_ip] END AS src_ips,
    'inbox rule "' || rule_name || '" on ' || owner || ' (set by ' || coalesce(user, '?') || ' from '
        || coalesce(src_ip, 'unknown address')
        || coalesce(' ' || src_as_org, '') || coalesce(', ' || src_net_class, '') || ') hides mail: '
        || concat_ws(', ',
            CASE WHEN deletes THEN 'deletes it' END,
            CASE WHEN marks_read THEN 'marks it read' END,
            CASE WHEN move_leaf <> '' THEN 'moves it to "' || move_leaf || '"'
                || CASE WHEN hideout THEN ' (a folder people do not open)'
                        WHEN unseen_folder THEN ' (a folder the owner never opened in the past)' ELSE '' END END,
            CASE WHEN move_leaf = '' AND hideout THEN 'moves it to a folder people do not open' END)
        || CASE WHEN topic THEN '; filters on "' || topic_word || '" (words: ' || substr(words, 1, 120) || ')'
                ELSE '' END
        || CASE WHEN junk_name THEN '; throw-away rule name' ELSE '' END AS explanation
FROM judged
WHERE (topic AND (deletes OR marks_read OR hideout OR unseen_folder OR archive_like))
   OR (hideout AND (junk_name OR marks_read OR deletes))
   OR (deletes AND junk_name)
"""

_OWNER = "a.sato@agency.example.jp"


def _rule(time: str, **params: str) -> dict[str, object]:
    return ev(
        time,
        event_class="mailbox_change",
        action="inbox_rule",
        operation="New-InboxRule",
        user=_OWNER,
        mailbox=_OWNER,
        target=params.get("Name"),
        src_ip="197.210.10.216",
        params=params,
    )


def _read(time: str, folder: str) -> dict[str, object]:
    return ev(time, event_class="mailbox_access", action="mail_sync", user=_OWNER, mailbox=_OWNER, folders=[folder])


_HISTORY = tuple(_read(f"2024-04-{d:02d}T01:00:00Z", f) for d in (1, 2, 3) for f in ("\\Inbox", "\\Projects"))

DETECTION = Detection(
    id="dt.mailbox.inbox_rule_hides_mail",
    title="Inbox rule hides mail (delete / mark read / bury, on money or security topics)",
    techniques=("T1564.008", "T1114"),
    severity="high",
    event_classes=("mailbox_change",),
    description=(
        "An inbox rule that deletes mail, marks it read or moves it into a folder nobody opens (RSS Subscriptions, "
        "Conversation History, Deleted Items, Junk, or a folder the owner never opened in the stored history after "
        "7 days of it), combined with a filter on money or security words (invoice, payment, wire, bank, password, "
        "security, 請求, 振込, 支払...) or with a throw-away rule name. This is how BEC actors hide the replies that "
        "would expose them. Triage: who created the rule (src_ip, network), when the owner last signed in from "
        "there, what mail the rule already moved; remove the rule and reset the session."
    ),
    query=_QUERY,
    # a folder's first access is in the first row with that exact folder list (fewer keys than folders)
    lookback=timedelta(0),
    keep=(
        Keep(
            "event_class = 'mailbox_access' AND folders IS NOT NULL",
            ("coalesce(mailbox, user), array_to_string(folders, '|')",),
        ),
    ),
    positives=(
        Case(
            "BEC rule: payment words into RSS Feeds, marked read, name '..,'",
            (
                *_HISTORY,
                _rule(
                    "2024-04-13T11:20:57Z",
                    Name="..,",
                    SubjectOrBodyContainsWords="payment;請求書;bank",
                    MoveToFolder="RSS Feeds",
                    MarkAsRead="True",
                ),
            ),
            1,
        ),
        Case(
            "rule deleting mail about passwords",
            (
                *_HISTORY,
                _rule("2024-04-13T11:20:57Z", Name="cleanup", SubjectContainsWords="password", DeleteMessage="True"),
            ),
            1,
        ),
        Case(
            "invoice mail moved to a folder the owner never opened",
            (
                *_HISTORY,
                _rule("2024-04-13T11:20:57Z", Name="inv", SubjectContainsWords="Invoice", MoveToFolder="a.sato:\\zz"),
            ),
            1,
        ),
        Case(
            "Outlook rule (UpdateInboxRules) moving to Conversation History, name '.'",
            (
                ev(
                    "2024-04-13T11:20:57Z",
                    event_class="mailbox_change",
                    action="inbox_rule",
                    operation="UpdateInboxRules",
                    user=_OWNER,
                    mailbox=_OWNER,
                    target=".",
                    params={"RuleName": ".", "RuleActions": "MoveToFolder: Conversation History; MarkAsRead"},
                ),
            ),
            1,
        ),
    ),
    negatives=(
        Case(
            "newsletters filed into a folder the owner reads",
            (
                *_HISTORY,
                _rule("2024-04-13T11:20:57Z", Name="News", FromAddressContainsWords="news", MoveToFolder="Projects"),
            ),
            0,
        ),
        Case(
            "internal redirect while on leave",
            (*_HISTORY, _rule("2024-04-13T11:20:57Z", Name="休暇中の転送", RedirectTo="b.ito@agency.example.jp")),
            0,
        ),
        Case(
            "invoices flagged but left in the Inbox",
            (
                *_HISTORY,
                _rule("2024-04-13T11:20:57Z", Name="Invoices", SubjectContainsWords="invoice", MarkImportance="High"),
            ),
            0,
        ),
        Case(
            "a new folder for a new project, no hiding words, readable name",
            (
                *_HISTORY,
                _rule(
                    "2024-04-13T11:20:57Z",
                    Name="Tender 2024",
                    FromAddressContainsWords="city.example",
                    MoveToFolder="Tender",
                ),
            ),
            0,
        ),
    ),
)
