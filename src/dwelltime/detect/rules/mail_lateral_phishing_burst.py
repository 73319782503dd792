"""A burst of mail from one account to many recipients it has never written to.

Lateral phishing (Ho et al., USENIX Security 2019) is sent from a compromised account to
colleagues and partners; what set it apart from the account's own mail was the
recipients: many at once, and people the sender had never or rarely written to.  People
write to new people every day, but one or two at a time; ten or more first-time
recipients within an hour, making up most of that hour's recipients, is a campaign.
Recipients come from the MTA (Postfix) log or from any send record that carries them.
"""

from __future__ import annotations

from datetime import timedelta

from dwelltime.detect.base import Case, Detection, Keep
from dwelltime.detect.cases import ev

_QUERY = """
WITH sent AS (
    SELECT event_uid, time, src_ip, src_net_class, src_as_org, subject,
        lower(CASE WHEN event_class = 'mail_flow' AND sender LIKE '%@%' THEN sender ELSE user END) AS snd,
        recipients
    FROM events
    WHERE ((event_class = 'mail_send' AND user IS NOT NULL)
           OR (event_class = 'mail_flow' AND user IS NOT NULL AND sender IS NOT NULL))
      AND recipients IS NOT NULL AND len(recipients) > 0
),
pairs AS (
    SELECT snd, lower(r) AS rcpt, min(time) AS first_time
    FROM (SELECT snd, time, unnest(recipients) AS r FROM sent) x
    GROUP BY snd, lower(r)
),
per_message AS (
    SELECT s.event_uid, s.time, s.snd, s.src_ip, s.src_net_class, s.src_as_org, s.subject,
        count(*) AS rcpts,
        sum(CASE WHEN p.first_time = s.time THEN 1 ELSE 0 END) AS new_rcpts
    FROM (SELECT event_uid, time, snd, src_ip, src_net_class, src_as_org, subject, lower(unnest(recipients)) AS rcpt
          FROM sent) s
    JOIN pairs p ON p.snd = s.snd AND p.rcpt = s.rcpt
    GROUP BY s.event_uid, s.time, s.snd, s.src_ip, s.src_net_class, s.src_as_org, s.subject
),
senders AS (
    SELECT snd, min(time) AS since FROM sent GROUP BY snd
),
windowed AS (
    SELECT m.*,
        sum(new_rcpts) OVER w AS new_hour,
        sum(rcpts) OVER w AS all_hour,
        count(*) OVER w AS messages_hour,
        count(*) OVER (PARTITION BY snd ORDER BY time, event_uid ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
            AS earlier_messages
    FROM per_message m
    WINDOW w AS (PARTITION BY snd ORDER BY time RANGE BETWEEN INTERVAL 1 HOUR PRECEDING AND CURRENT ROW)
),
crossing AS (
    SELECT w.*, lag(new_hour) OVER (PARTITION BY snd ORDER BY time, event_uid) AS previous_new_hour
    FROM windowed w
)
SELECT
    c.snd AS entity,
    'user' AS entity_type,
    c.time AS time,
    least(1.0, c.new_hour / 30.0 + 0.4) AS score,
    [c.event_uid] AS event_uids,
    CASE WHEN c.src_ip IS NULL THEN [] ELSE [c.src_ip] END AS src_ips,
    c.snd || ' wrote to ' || CAST(c.new_hour AS VARCHAR) || ' first-time recipients in the last hour ('
        || CAST(c.all_hour AS VARCHAR) || ' recipients in ' || CAST(c.messages_hour AS VARCHAR)
        || ' message(s)); ' || CAST(c.earlier_messages AS VARCHAR) || ' earlier messages over '
        || CAST(date_diff('day', s.since, c.time) AS VARCHAR) || ' days of history'
        || coalesce('; subject "' || substr(c.subject, 1, 80) || '"', '')
        || '; from ' || coalesce(c.src_ip, 'unknown address') || coalesce(' ' || c.src_as_org, '')
        || coalesce(' (' || c.src_net_class || ')', '') AS explanation
FROM crossing c
JOIN senders s ON s.snd = c.snd
WHERE c.new_hour >= 10 AND coalesce(c.previous_new_hour, 0) < 10
  AND c.new_hour >= 0.7 * c.all_hour
  AND c.time >= s.since + INTERVAL 7 DAY
  AND c.earlier_messages >= 5
"""

_SENDER = "n.sasaki@agency.example.jp"


def _mail(time: str, recipients: list[str], subject: str = "hello") -> dict[str, object]:
    return ev(
        time,
        event_class="mail_flow",
        action="deliver",
        user="sasaki-n",
        sender=_SENDER,
        recipients=recipients,
        subject=subject,
        src_ip="10.10.5.20",
    )


_USUAL = tuple(
    _mail(f"2024-04-{d:02d}T01:00:00Z", [f"colleague{d % 3}@agency.example.jp", "boss@agency.example.jp"])
    for d in range(1, 10)
)

DETECTION = Detection(
    id="dt.mail.lateral_phishing_burst",
    title="Burst of mail to many first-time recipients (lateral phishing)",
    techniques=("T1534", "T1566.002"),
    severity="medium",
    event_classes=("mail_send", "mail_flow"),
    description=(
        "Within one hour an account sends to 10 or more recipients it never wrote to before in the stored history, "
        "and those first-time recipients are at least 70% of the hour's recipients. Learning period: the sender needs "
        "7 days of sending history and 5 earlier messages. Lateral phishing from a compromised account has this "
        "shape; announcements to all staff can too, so it is medium and opens an incident only with another signal "
        "(an anomalous sign-in, an inbox rule). Triage: read the subject, check for links, ask the sender."
    ),
    query=_QUERY,
    # every sent message: first-time recipients are per (sender, recipient), inside lists
    lookback=timedelta(0),
    keep=(
        Keep(
            "((event_class = 'mail_send' AND user IS NOT NULL) OR (event_class = 'mail_flow' AND user IS NOT NULL"
            " AND sender IS NOT NULL)) AND recipients IS NOT NULL AND len(recipients) > 0"
        ),
    ),
    positives=(
        Case(
            "12 partners and colleagues never written to, in two messages",
            (
                *_USUAL,
                _mail("2024-04-13T12:40:00Z", [f"p{i}@partner.example.co.jp" for i in range(6)], "Invoice for review"),
                _mail("2024-04-13T12:52:00Z", [f"x{i}@agency.example.jp" for i in range(6)], "Invoice for review"),
            ),
            1,
        ),
    ),
    negatives=(
        Case(
            "the same new recipients spread over a week",
            (
                *_USUAL,
                *(
                    _mail(f"2024-04-{10 + i}T03:00:00Z", [f"p{i}@partner.example.co.jp", f"q{i}@partner.example.co.jp"])
                    for i in range(6)
                ),
            ),
            0,
        ),
        Case(
            "a big message to people the sender writes to every day",
            (
                *tuple(
                    _mail(f"2024-04-{d:02d}T01:00:00Z", [f"team{i}@agency.example.jp" for i in range(15)])
                    for d in range(1, 10)
                ),
                _mail("2024-04-13T12:40:00Z", [f"team{i}@agency.example.jp" for i in range(15)]),
            ),
            0,
        ),
        Case(
            "a new account's first mails (learning period)",
            (
                _mail("2024-04-01T01:00:00Z", ["boss@agency.example.jp"]),
                _mail("2024-04-02T01:00:00Z", [f"x{i}@agency.example.jp" for i in range(12)]),
            ),
            0,
        ),
    ),
)
