"""Mail read by an application never seen reading this user's mail, and rare in the organisation.

Every way of stealing mail without the user's own client shows up as a new reader: an
app the victim was tricked into consenting to, a stolen refresh token replayed through
Graph or EWS, a scriptable Microsoft tool (Azure PowerShell, Graph PowerShell, Azure CLI)
pointed at the mailbox.  People's readers change too (a new phone, the new Outlook), but
those are the organisation's common mail clients: either a known first-party mail client
or an app many colleagues already read mail with.  What remains is a reader that is new
for the user *and* rare in the organisation.
"""

from __future__ import annotations

from datetime import timedelta

from dwelltime.detect.base import Case, Detection, Keep
from dwelltime.detect.cases import ev

#: Microsoft's own mail clients (application ids): a user moving to one of them is a new device, not an intruder.
#: Deliberately absent: the scriptable first-party tools (Azure PowerShell 1950a258-..., Azure CLI 04b07795-...,
#: Graph PowerShell 14d82eec-..., Graph Explorer de8bc8b5-...), which token thieves use to read mail.
MAIL_CLIENTS = (
    "00000002-0000-0ff1-ce00-000000000000",  # Office 365 Exchange Online (OWA, server-side)
    "d3590ed6-52b3-4102-aeff-aad2292ab01c",  # Microsoft Office (Outlook desktop)
    "27922004-5251-4030-b22d-91ecd9a37ea4",  # Outlook Mobile
    "f8d98a96-0999-43f5-8af3-69971c7bb423",  # iOS Accounts (Apple Mail)
    "9199bf20-a13f-4107-85dc-02114787ef48",  # One Outlook Web
    "5d661950-3475-41cd-a2c3-d671a3162bc1",  # Outlook for Windows (new Outlook)
    "bc59ab01-8403-45c6-8796-ac3ef710b3e3",  # Outlook Online Add-in App
    "1fec8e78-bce4-4aaf-ab1b-5451cc387264",  # Microsoft Teams
    "5e3ce6c0-2b1f-4285-8d4b-75ee78787346",  # Microsoft Teams web
)
#: Of those, the ones that legitimately read mail over the REST/Graph API (the others use MAPI, OWA or ActiveSync).
_REST_CLIENTS = (
    "27922004-5251-4030-b22d-91ecd9a37ea4",
    "5d661950-3475-41cd-a2c3-d671a3162bc1",
    "bc59ab01-8403-45c6-8796-ac3ef710b3e3",
    "1fec8e78-bce4-4aaf-ab1b-5451cc387264",
    "5e3ce6c0-2b1f-4285-8d4b-75ee78787346",
)
_SCRIPTED = (
    "1950a258-227b-4e31-a9cf-717495945fc2",  # Microsoft Azure PowerShell
    "04b07795-8ddb-461a-bbee-02f9e1bf7b46",  # Microsoft Azure CLI
    "14d82eec-204b-4c2f-b7e8-296a70dab67e",  # Microsoft Graph PowerShell
    "de8bc8b5-d9f9-48b1-a8ad-b748da725064",  # Graph Explorer
)


def _sql_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


_QUERY = f"""
WITH reads AS (
    SELECT event_uid, time, user, src_ip, src_net_class, src_as_org, client_app, app_name, item_count,
        lower(app_id) AS app, coalesce(protocol, '?') AS proto
    FROM events
    WHERE event_class = 'mailbox_access' AND action IN ('mail_read', 'mail_sync')
      AND user IS NOT NULL AND app_id IS NOT NULL AND app_id <> ''
),
org AS (
    SELECT min(time) AS since FROM events
),
user_history AS (
    SELECT user, min(time) AS since FROM reads GROUP BY user
),
pairs AS (
    SELECT user, app, proto, min(time) AS first_time, min_by(event_uid, time) AS first_uid
    FROM reads GROUP BY user, app, proto
),
ranked AS (
    SELECT p.*,
        count(*) OVER (PARTITION BY app, proto ORDER BY first_time
                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS earlier_users
    FROM pairs p
)
SELECT
    r.user AS entity,
    'user' AS entity_type,
    r.time AS time,
    CASE WHEN r.src_net_class IN ('hosting', 'vpn', 'tor') THEN 0.9 ELSE 0.6 END
        + CASE WHEN r.app IN {_sql_list(_SCRIPTED)} THEN 0.1 ELSE 0.0 END AS score,
    [r.event_uid] AS event_uids,
    CASE WHEN r.src_ip IS NULL THEN [] ELSE [r.src_ip] END AS src_ips,
    'mail of ' || r.user || ' read by app ' || coalesce(r.app_name || ' ', '') || r.app || ' over ' || r.proto
        || CASE WHEN r.app IN {_sql_list(_SCRIPTED)} THEN ' (a scriptable Microsoft tool)'
                WHEN r.app IN {_sql_list(MAIL_CLIENTS)} THEN ' (a mail client id used through the API: token replay?)'
                ELSE '' END
        || ' for the first time in ' || CAST(date_diff('day', h.since, r.time) AS VARCHAR)
        || ' days of this user''s mail access; ' || CAST(k.earlier_users AS VARCHAR)
        || ' other user(s) ever read mail with it this way; client ' || coalesce(r.client_app, '?')
        || '; from ' || coalesce(r.src_ip, 'unknown address') || coalesce(' ' || r.src_as_org, '')
        || coalesce(' (' || r.src_net_class || ')', '')
        || coalesce('; ' || CAST(r.item_count AS VARCHAR) || ' item(s)', '') AS explanation
FROM reads r
JOIN ranked k ON k.user = r.user AND k.app = r.app AND k.proto = r.proto AND k.first_uid = r.event_uid
JOIN user_history h ON h.user = r.user
CROSS JOIN org o
WHERE k.earlier_users < 3
  AND (r.app NOT IN {_sql_list(MAIL_CLIENTS)}
       OR (r.proto IN ('rest', 'ews') AND r.app NOT IN {_sql_list(_REST_CLIENTS)}))
  AND r.time >= h.since + INTERVAL 7 DAY
  AND r.time >= o.since + INTERVAL 7 DAY
"""

_VICTIM = "k.ishikawa@agency.example.jp"
_OUTLOOK = "d3590ed6-52b3-4102-aeff-aad2292ab01c"


def _read(
    time: str, app: str, user: str = _VICTIM, net: str = "isp", ip: str = "122.212.192.3", proto: str = "rest"
) -> dict[str, object]:
    return ev(
        time,
        event_class="mailbox_access",
        action="mail_read",
        user=user,
        app_id=app,
        protocol=proto,
        client_app="Client=MSExchangeRPC" if proto == "mapi" else "Client=REST;Client=RESTSystem;;",
        src_ip=ip,
        src_net_class=net,
        item_count=12,
    )


_HISTORY = tuple(_read(f"2024-04-{d:02d}T01:00:00Z", _OUTLOOK, proto="mapi") for d in range(1, 10))

DETECTION = Detection(
    id="dt.mailbox.new_app_reading_mail",
    title="Mail read by an application (or client id and protocol) new for the user and rare in the organisation",
    techniques=("T1114.002", "T1550.001"),
    severity="medium",
    event_classes=("mailbox_access",),
    description=(
        "MailItemsAccessed (or Gmail API reads) by an application id that never read this user's mail before and "
        "and protocol that fewer than 3 other users ever read mail with; Microsoft's own mail clients (Outlook "
        "desktop, web, mobile, Apple Mail) are ignored when they use their own protocol, not when a desktop or web "
        "client id reads through the REST/EWS API (replayed tokens); scriptable Microsoft tools (Azure/Graph "
        "PowerShell, Azure CLI) are never ignored. "
        "Learning period: 7 days of the user's mail-access history and of the organisation's data. Alone it is a "
        "medium signal; with a consent or an odd sign-in it opens an incident. Triage: what the app is, which "
        "consent or token gave it access, from which network it read (hosting is worse), which messages it read."
    ),
    query=_QUERY,
    # first read per user, and per user, app and protocol
    lookback=timedelta(0),
    keep=(
        Keep(
            "event_class = 'mailbox_access' AND action IN ('mail_read', 'mail_sync') AND user IS NOT NULL"
            " AND app_id IS NOT NULL AND app_id <> ''",
            ("user", "user, lower(app_id), coalesce(protocol, '?')"),
        ),
    ),
    positives=(
        Case(
            "consented app reads mail from a cloud host",
            (
                *_HISTORY,
                _read("2024-04-12T03:00:00Z", "88a563bb-92e5-4ada-a35c-b87707db56db", net="hosting", ip="52.168.30.27"),
            ),
            1,
        ),
        Case(
            "Azure PowerShell token reads the mailbox",
            (
                *_HISTORY,
                _read("2024-04-13T07:40:00Z", "1950a258-227b-4e31-a9cf-717495945fc2", net="hosting", ip="47.74.10.18"),
            ),
            1,
        ),
        Case(
            "Outlook desktop's client id used through the REST API from a cloud host (replayed token)",
            (*_HISTORY, _read("2024-04-13T07:36:07Z", _OUTLOOK, net="hosting", ip="47.74.10.18")),
            1,
        ),
    ),
    negatives=(
        Case(
            "user starts Outlook Mobile on a new phone",
            (*_HISTORY, _read("2024-04-12T03:00:00Z", "27922004-5251-4030-b22d-91ecd9a37ea4", net="mobile")),
            0,
        ),
        Case(
            "third-party app that many colleagues already use",
            (
                *_HISTORY,
                *(
                    _read(
                        f"2024-04-0{i}T05:00:00Z",
                        "aaaa1111-0000-0000-0000-000000000001",
                        user=f"u{i}@agency.example.jp",
                    )
                    for i in range(2, 6)
                ),
                _read("2024-04-12T03:00:00Z", "aaaa1111-0000-0000-0000-000000000001"),
            ),
            0,
        ),
        Case(
            "new staff member's first week",
            (
                _read("2024-04-01T00:00:00Z", _OUTLOOK, user="old@agency.example.jp"),
                _read("2024-04-10T01:00:00Z", _OUTLOOK, proto="mapi"),
                _read("2024-04-11T01:00:00Z", "bbbb2222-0000-0000-0000-000000000002"),
            ),
            0,
        ),
    ),
)
