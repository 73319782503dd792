"""On Postfix, one outside address suddenly rides along on the mail of many different senders.

An intruder with root on the MTA does not need anyone's password to read mail: one line
of ``recipient_bcc_maps`` / ``sender_bcc_maps`` / ``always_bcc`` (the on-prem cousin of an
Exchange journal or transport rule) copies every message to an address outside.  In the
Postfix log the copy shows up as one more ``to=`` on messages whose real recipients are
someone else, from sender after sender.  People's genuine new outside contacts look
different: the first messages to a new partner address come from one or two colleagues,
and the address is the main recipient.  So: an address outside the organisation's
domains, never seen as a recipient before, that appears within a day as one of several
recipients on messages of at least three different senders.  High.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dwelltime.detect.base import Case, Detection, Keep
from dwelltime.detect.cases import ev

#: Distinct senders whose messages must carry the new outside address, within WINDOW_HOURS of its first sighting.
MIN_SENDERS = 5
WINDOW_HOURS = 24
#: Days of Postfix history before an address can count as never seen (every address is new at first).
LEARNING_DAYS = 7

_QUERY = f"""
WITH msgs AS (
    SELECT event_uid, time, lower(sender) AS sender, user, recipients, src_ip, observer
    FROM events
    WHERE event_class = 'mail_flow' AND action = 'deliver' AND source_format = 'postfix'
      AND sender LIKE '%@%' AND recipients IS NOT NULL
),
org_domains AS (
    -- Domains the organisation sends from with authenticated (SASL) users, and since when.
    SELECT split_part(sender, '@', 2) AS domain, MIN(time) AS first_time
    FROM msgs WHERE user IS NOT NULL GROUP BY split_part(sender, '@', 2)
),
pairs AS (
    SELECT event_uid, time, sender, src_ip, observer, array_length(recipients) AS n_rcpts, lower(rcpt) AS rcpt
    FROM msgs
    CROSS JOIN UNNEST(recipients) AS r(rcpt)
),
outside AS (
    SELECT p.*
    FROM pairs p
    JOIN org_domains s ON s.domain = split_part(p.sender, '@', 2) AND s.first_time <= p.time
    LEFT JOIN org_domains o ON o.domain = split_part(p.rcpt, '@', 2) AND o.first_time <= p.time
    WHERE o.domain IS NULL AND p.rcpt LIKE '%@%'
),
first_seen AS (
    SELECT rcpt, MIN(time) AS first_time FROM pairs GROUP BY rcpt
),
riders AS (
    SELECT o.*, f.first_time
    FROM outside o
    JOIN first_seen f ON f.rcpt = o.rcpt
    WHERE o.n_rcpts >= 2 AND o.time <= f.first_time + INTERVAL {WINDOW_HOURS} HOUR
      AND f.first_time >= (SELECT MIN(time) FROM msgs) + INTERVAL {LEARNING_DAYS} DAY
),
sender_firsts AS (
    SELECT rcpt, sender, MIN(time) AS time, MIN(event_uid) AS event_uid
    FROM riders GROUP BY rcpt, sender
),
ordered AS (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY rcpt ORDER BY time, sender) AS nth_sender FROM sender_firsts
),
completing AS (
    SELECT rcpt, time FROM ordered WHERE nth_sender = {MIN_SENDERS}
),
evidence AS (
    SELECT c.rcpt, c.time,
        list(DISTINCT r.event_uid) AS uids,
        list(DISTINCT r.src_ip) AS ips,
        COUNT(DISTINCT r.event_uid) AS messages,
        COUNT(DISTINCT r.sender) AS senders,
        nullif(array_to_string(list_sort(list(DISTINCT r.sender)), ', '), '') AS sender_list,
        MIN(r.first_time) AS first_time,
        MIN(r.observer) AS mta
    FROM completing c
    JOIN riders r ON r.rcpt = c.rcpt AND r.time <= c.time
    GROUP BY c.rcpt, c.time
)
SELECT
    coalesce(mta, 'postfix') AS entity,
    'host' AS entity_type,
    time AS time,
    LEAST(1.0, 0.7 + 0.05 * (messages - {MIN_SENDERS})) AS score,
    uids AS event_uids,
    coalesce(ips, []) AS src_ips,
    'on ' || coalesce(mta, 'the Postfix MTA') || ', outside address ' || rcpt
        || ' was added as an extra recipient to ' || CAST(messages AS VARCHAR)
        || ' messages of ' || CAST(senders AS VARCHAR) || ' different senders (' || sender_list || ') within '
        || CAST(round((epoch(time) - epoch(first_time)) / 3600.0, 1) AS VARCHAR) || ' h of its first appearance at '
        || strftime(first_time, '%Y-%m-%d %H:%M') || ' UTC; it never received mail from the organisation before. '
        || 'Look for recipient_bcc_maps, sender_bcc_maps or always_bcc in the Postfix configuration.'
        AS explanation
FROM evidence
"""


def _mail(time: str, sender: str, *recipients: str) -> dict[str, Any]:
    return ev(
        time,
        event_class="mail_flow",
        action="deliver",
        source_format="postfix",
        sender=sender,
        user=sender.split("@")[0],
        recipients=list(recipients),
        src_ip="10.20.0.9",
        observer="mta01",
    )


_D = "agency.example.jp"
_STAFF = ("c.ito", "t.saito", "a.sato", "k.mori", "y.abe")
_HISTORY = (
    _mail("2024-04-01T01:00:00Z", f"c.ito@{_D}", f"t.saito@{_D}", "laura.wilson@partner.example.kr"),
    _mail("2024-04-01T02:00:00Z", f"t.saito@{_D}", f"c.ito@{_D}"),
    _mail("2024-04-02T01:00:00Z", f"a.sato@{_D}", f"c.ito@{_D}", f"t.saito@{_D}"),
    _mail("2024-04-08T01:00:00Z", f"k.mori@{_D}", f"y.abe@{_D}"),
    _mail("2024-04-08T02:00:00Z", f"y.abe@{_D}", f"k.mori@{_D}"),
)


def _burst(day: str, *extra: str, to: str | None = None) -> tuple[dict[str, Any], ...]:
    """One message from each of five colleagues, to a colleague (or ``to``) plus ``extra``."""
    return tuple(
        _mail(f"{day}T0{i + 1}:00:00Z", f"{s}@{_D}", to or f"{_STAFF[i - 1]}@{_D}", *extra)
        for i, s in enumerate(_STAFF)
    )


_SPY = "archive-sync@mailbox-keep.example.net"

DETECTION = Detection(
    id="dt.onprem.postfix_external_bcc",
    title="Postfix: a new outside address silently copied on many senders' mail",
    techniques=("T1114.003", "T1020"),
    severity="high",
    event_classes=("mail_flow",),
    description=(
        "On Postfix, an address outside the organisation's sending domains that was never a recipient before "
        f"appears, within {WINDOW_HOURS} h of its first sighting, as one of several recipients on messages from at "
        f"least {MIN_SENDERS} different senders: the mark of recipient_bcc_maps / sender_bcc_maps / always_bcc or a "
        "content filter copying mail out. A new partner contact is usually the main recipient of one or two "
        f"colleagues. Learning period: the first {LEARNING_DAYS} days of Postfix data. Triage: grep main.cf and "
        "the bcc maps for the address, check who changed the MTA "
        "configuration and when, and how much mail already went to it."
    ),
    query=_QUERY,
    # every Postfix delivery (first sight of a recipient is inside recipient lists)
    lookback=timedelta(0),
    keep=(
        Keep(
            "event_class = 'mail_flow' AND action = 'deliver' AND source_format = 'postfix' AND sender LIKE '%@%'"
            " AND recipients IS NOT NULL"
        ),
    ),
    positives=(Case("an outside copy on five colleagues' internal mail", (*_HISTORY, *_burst("2024-04-09", _SPY)), 1),),
    negatives=(
        Case(
            "a new partner address written to by five colleagues as the only recipient",
            (*_HISTORY, *_burst("2024-04-09", to="kim@newpartner.example.kr")),
            0,
        ),
        Case(
            "an old partner contact copied by many",
            (*_HISTORY, *_burst("2024-04-09", "laura.wilson@partner.example.kr")),
            0,
        ),
        Case("internal distribution to a new colleague", (*_HISTORY, *_burst("2024-04-09", f"new.hire@{_D}")), 0),
        Case("an outside copy inside the learning period", (*_HISTORY[:3], *_burst("2024-04-03", _SPY)), 0),
    ),
)
