"""Messages deleted from Sent Items minutes after they were sent.

An intruder who sends phishing or fraudulent payment requests from a victim's mailbox
deletes the sent copies so that the victim does not notice; people rarely delete what
they just sent (they recall it, or leave it).  The audit log ties the two together
through the Internet Message-ID of the sent message and of the deleted item.
"""

from __future__ import annotations

from datetime import timedelta

from dwelltime.detect.base import Case, Detection
from dwelltime.detect.cases import ev

_QUERY = """
WITH deletes AS (
    SELECT event_uid, time, user, src_ip, src_net_class, src_as_org, action, client_app, mid
    FROM (SELECT event_uid, time, user, src_ip, src_net_class, src_as_org, action, client_app, folder, folders,
                 unnest(message_ids) AS mid
          FROM events
          WHERE event_class = 'mailbox_change' AND action IN ('hard_delete', 'soft_delete', 'move_to_deleted')
            AND message_ids IS NOT NULL AND outcome <> 'failure') d
    WHERE lower(coalesce(folder, '')) LIKE '%sent%' OR lower(coalesce(folder, '')) LIKE '%送信済み%'
       OR lower(array_to_string(folders, '|')) LIKE '%sent%' OR array_to_string(folders, '|') LIKE '%送信済み%'
),
sends AS (
    SELECT event_uid, time, user, subject, unnest(message_ids) AS mid
    FROM events
    WHERE event_class = 'mail_send' AND message_ids IS NOT NULL
),
pairs AS (
    SELECT d.event_uid AS delete_uid, d.time, d.user, d.src_ip, d.src_net_class, d.src_as_org, d.action, d.client_app,
        s.event_uid AS send_uid, s.time AS sent_at, s.subject
    FROM deletes d
    JOIN sends s ON s.mid = d.mid AND s.user = d.user
    WHERE s.time <= d.time AND s.time >= d.time - INTERVAL 30 MINUTE
)
SELECT
    user AS entity,
    'user' AS entity_type,
    time,
    CASE WHEN src_net_class IN ('hosting', 'vpn', 'tor') THEN 0.9 ELSE 0.6 END AS score,
    list_distinct(list(send_uid) || list(delete_uid)) AS event_uids,
    CASE WHEN max(src_ip) IS NULL THEN [] ELSE [max(src_ip)] END AS src_ips,
    CAST(count(DISTINCT send_uid) AS VARCHAR) || ' message(s) sent by ' || user || ' deleted from Sent Items ('
        || max(action) || ') ' || CAST(CAST(round(max(epoch(time) - epoch(sent_at)) / 60.0) AS BIGINT) AS VARCHAR)
        || ' min after sending; subject "' || substr(coalesce(max(subject), ''), 1, 80) || '"; deleted from '
        || coalesce(max(src_ip), 'unknown address') || coalesce(' ' || max(src_as_org), '')
        || coalesce(' (' || max(src_net_class) || ')', '') || ' with ' || coalesce(max(client_app), '?') AS explanation
FROM pairs
GROUP BY delete_uid, user, time, src_net_class
"""

_USER = "n.sasaki@agency.example.jp"
_MID = "<TYCP236MB9223@TYCP236MB9223.PROD.OUTLOOK.COM>"


def _send(time: str, mid: str = _MID) -> dict[str, object]:
    return ev(time, event_class="mail_send", action="send", user=_USER, subject="Re: Invoice", message_ids=[mid])


def _delete(time: str, folder: str = "\\Sent Items", mid: str = _MID) -> dict[str, object]:
    return ev(
        time,
        event_class="mailbox_change",
        action="hard_delete",
        user=_USER,
        mailbox=_USER,
        folder=folder,
        folders=[folder],
        message_ids=[mid],
        src_ip="197.210.10.216",
    )


DETECTION = Detection(
    id="dt.mailbox.sent_items_deleted",
    title="Sent message deleted from Sent Items within minutes of sending",
    techniques=("T1070.008",),
    severity="medium",
    event_classes=("mailbox_change",),
    description=(
        "A message deleted (soft, hard, or moved to Deleted Items) from Sent Items at most 30 minutes after the same "
        "user sent it, matched by Internet Message-ID. Intruders delete the copies of the phishing or fraud mail they "
        "send from a victim's mailbox. Triage: read the subject and recipients (message trace), warn the recipients, "
        "and look at the sign-in that sent it; a few users do tidy their Sent Items, so check the habit first."
    ),
    query=_QUERY,
    # a send 30 minutes before the delete
    lookback=timedelta(hours=1),
    positives=(
        Case(
            "phish sent, sent copy hard-deleted two minutes later",
            (_send("2024-04-13T12:52:16Z"), _delete("2024-04-13T12:54:23Z")),
            1,
        ),
    ),
    negatives=(
        Case(
            "old sent message cleaned up the next day",
            (_send("2024-04-12T12:52:16Z"), _delete("2024-04-13T12:54:23Z")),
            0,
        ),
        Case(
            "a received message deleted from the Inbox",
            (_send("2024-04-13T12:52:16Z"), _delete("2024-04-13T12:54:23Z", folder="\\Inbox")),
            0,
        ),
        Case(
            "a different message deleted from Sent Items",
            (_send("2024-04-13T12:52:16Z"), _delete("2024-04-13T12:54:23Z", mid="<other@x>")),
            0,
        ),
    ),
)
