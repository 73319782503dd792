"""A burst of mail from one account to many recipients it has never written to.

Lateral phishing (Ho et al., USENIX Security 2019) is sent from a compromised account to
colleagues and partners; what set it apart from the account's own mail was the
recipients: many at once, and people the sender had never or rarely written to.  People
write to new people every day, but one or two at a time; ten or more first-time
recipients within an hour, making up most of that hour's recipients, is a campaign.
Recipients come from the MTA (Postfix) log or from any send record that carries them.

Ho et al.'s third decisive feature is the timing: lateral phishing follows the account's
takeover.  A burst that comes within a day after the sender's first successful sign-in
from a network new to them (and not one the organisation's people use) scores higher and
says so, with the sign-in.  The fourth, links in the body, is not in any log dwelltime
reads (MTA, audit and sign-in logs carry no bodies); ``dwelltime scope`` reads them from
the mailbox once an incident is open.
"""

from __future__ import annotations

from datetime import timedelta

from dwelltime.detect.base import Case, Detection, Keep
from dwelltime.detect.cases import ev, signin
from dwelltime.detect.rules._signin import NET, NET_TEXT, ORG_NETS, hhmm

#: How long after an anomalous sign-in a burst counts as following it.
AFTER_SIGNIN_HOURS = 24

_QUERY = f"""
WITH sent AS (
    SELECT event_uid, time, src_ip, src_net_class, src_as_org, subject, lower(user) AS login,
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
    SELECT s.event_uid, s.time, s.snd, s.login, s.src_ip, s.src_net_class, s.src_as_org, s.subject,
        count(*) AS rcpts,
        sum(CASE WHEN p.first_time = s.time THEN 1 ELSE 0 END) AS new_rcpts
    FROM (SELECT event_uid, time, snd, login, src_ip, src_net_class, src_as_org, subject,
                 lower(unnest(recipients)) AS rcpt
          FROM sent) s
    JOIN pairs p ON p.snd = s.snd AND p.rcpt = s.rcpt
    GROUP BY s.event_uid, s.time, s.snd, s.login, s.src_ip, s.src_net_class, s.src_as_org, s.subject
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
),
{ORG_NETS},
-- A sign-in is anomalous here when it is the user's first success from its network, the
-- user had signed in before (not their first day), and the network was not (yet) one the
-- organisation's people use.
new_net_signins AS (
    SELECT lower(l.user) AS login, l.time, l.src_ip, l.event_uid, {NET_TEXT} AS net_text
    FROM logins l
    JOIN user_net_first f ON f.user = l.user AND f.netkey = {NET} AND f.first_time = l.time
    JOIN org_nets o ON o.netkey = f.netkey
    WHERE l.outcome = 'success' AND l.net <> 'private'
      AND (o.org_since IS NULL OR o.org_since > l.time)
      AND EXISTS (SELECT 1 FROM user_net_first e WHERE e.user = l.user AND e.first_time < l.time)
),
fires AS (
    SELECT c.*
    FROM crossing c
    JOIN senders s ON s.snd = c.snd
    WHERE c.new_hour >= 10 AND coalesce(c.previous_new_hour, 0) < 10
      AND c.new_hour >= 0.7 * c.all_hour
      AND c.time >= s.since + INTERVAL 7 DAY
      AND c.earlier_messages >= 5
),
after_signin AS (
    SELECT event_uid, signin_time, signin_uid, signin_ip, net_text
    FROM (
        SELECT f.event_uid, n.time AS signin_time, n.event_uid AS signin_uid, n.src_ip AS signin_ip, n.net_text,
            ROW_NUMBER() OVER (PARTITION BY f.event_uid ORDER BY n.time DESC, n.event_uid) AS latest
        FROM fires f
        JOIN new_net_signins n ON n.login = f.login AND n.time <= f.time
            AND n.time > f.time - INTERVAL {AFTER_SIGNIN_HOURS} HOUR
    ) ranked
    WHERE latest = 1
)
SELECT
    c.snd AS entity,
    'user' AS entity_type,
    c.time AS time,
    least(1.0, c.new_hour / 30.0 + 0.4 + CASE WHEN a.event_uid IS NULL THEN 0.0 ELSE 0.3 END) AS score,
    CASE WHEN a.event_uid IS NULL THEN [c.event_uid] ELSE [a.signin_uid, c.event_uid] END AS event_uids,
    CASE WHEN a.signin_ip IS NULL OR a.signin_ip = c.src_ip
         THEN (CASE WHEN c.src_ip IS NULL THEN [] ELSE [c.src_ip] END)
         WHEN c.src_ip IS NULL THEN [a.signin_ip]
         ELSE [c.src_ip, a.signin_ip] END AS src_ips,
    c.snd || ' wrote to ' || CAST(c.new_hour AS VARCHAR) || ' first-time recipients in the last hour ('
        || CAST(c.all_hour AS VARCHAR) || ' recipients in ' || CAST(c.messages_hour AS VARCHAR)
        || ' message(s)); ' || CAST(c.earlier_messages AS VARCHAR) || ' earlier messages over '
        || CAST(date_diff('day', s.since, c.time) AS VARCHAR) || ' days of history'
        || coalesce('; subject "' || substr(c.subject, 1, 80) || '"', '')
        || '; from ' || coalesce(c.src_ip, 'unknown address') || coalesce(' ' || c.src_as_org, '')
        || coalesce(' (' || c.src_net_class || ')', '')
        || coalesce('; ' || CAST(date_diff('minute', a.signin_time, c.time) AS VARCHAR)
                    || ' min after the account''s first sign-in from ' || a.net_text || ' at '
                    || {hhmm("a.signin_time")}, '') AS explanation
FROM fires c
JOIN senders s ON s.snd = c.snd
LEFT JOIN after_signin a ON a.event_uid = c.event_uid
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


def _signin(time: str, ip: str, asn: int, as_org: str, net_class: str) -> dict[str, object]:
    return signin(time, "sasaki-n", ip, asn, as_org, net_class, protocol="smtp")


#: The account's usual sign-ins (home ISP), then one from a VPS two hours before the burst.
TAKEOVER = (
    *(_signin(f"2024-04-{d:02d}T00:30:00Z", "203.0.113.7", 2516, "KDDI", "isp") for d in range(1, 12)),
    _signin("2024-04-13T10:35:00Z", "198.51.100.9", 14061, "DigitalOcean", "hosting"),
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
    # every sent message: first-time recipients are per (sender, recipient), inside lists;
    # the sign-ins of the last day in full, and each user's first success per network before that
    lookback=timedelta(hours=AFTER_SIGNIN_HOURS),
    keep=(
        Keep(
            "((event_class = 'mail_send' AND user IS NOT NULL) OR (event_class = 'mail_flow' AND user IS NOT NULL"
            " AND sender IS NOT NULL)) AND recipients IS NOT NULL AND len(recipients) > 0"
        ),
        Keep("outcome = 'success'", (f"user, {NET}",), relation="logins"),
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
        Case(
            "the same burst two hours after the account's first sign-in from a VPS",
            (
                *_USUAL,
                *TAKEOVER,
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
