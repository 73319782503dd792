"""First successful sign-in over a legacy or scriptable protocol, from outside the org's networks.

IMAP, POP3, SMTP AUTH, EWS and Entra's "other clients" accept a bare password (no
MFA, no device), which is why mail thieves prefer them to download whole mailboxes
with scripts.  Most users never touch them; the first time one does, from a network
that is not the org's own (not private, not an AS that three or more users already
sign in from), deserves a look.  A user who already used the protocol, or whose
history is shorter than the learning period, is left alone.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dwelltime.detect.base import Case, Detection, Keep
from dwelltime.detect.cases import ev
from dwelltime.detect.rules._signin import NET, NET_TEXT, ORG_NETS, USER_SINCE, hhmm

LEARNING_DAYS = 7
LEGACY = "('imap', 'pop3', 'smtp', 'submission', 'ews', 'legacy')"

_QUERY = f"""
WITH {ORG_NETS},
{USER_SINCE},
legacy AS (
    SELECT *, {NET} AS netkey, {NET_TEXT} AS where_text,
        ROW_NUMBER() OVER (PARTITION BY user, protocol ORDER BY time, event_uid) AS nth_for_protocol
    FROM logins
    WHERE outcome = 'success' AND protocol IN {LEGACY}
)
SELECT
    l.user AS entity,
    'user' AS entity_type,
    l.time,
    CASE WHEN l.net IN ('hosting', 'tor', 'vpn') THEN 1.0 ELSE 0.6 END AS score,
    [l.event_uid] AS event_uids,
    CASE WHEN l.src_ip IS NULL THEN [] ELSE [l.src_ip] END AS src_ips,
    'first ' || upper(l.protocol) || ' sign-in of this user in '
        || CAST(CAST(floor((epoch(l.time) - epoch(u.since)) / 86400) AS BIGINT) AS VARCHAR)
        || ' days of history, at ' || {hhmm("l.time")} || ' from ' || coalesce(l.src_ip, '?') || ', '
        || l.where_text || ', not one of the org''s networks' AS explanation
FROM legacy l
JOIN user_since u ON u.user = l.user
LEFT JOIN org_nets n ON n.netkey = l.netkey
WHERE l.nth_for_protocol = 1
  AND u.since <= l.time - INTERVAL {LEARNING_DAYS} DAY
  AND l.net NOT IN ('private', 'reserved')
  AND (n.org_since IS NULL OR n.org_since >= l.time)
"""

_USER = "tanaka-a"
_HOME: dict[str, Any] = {
    "src_ip": "203.0.113.10",
    "src_asn": 4713,
    "src_as_org": "NTT OCN",
    "src_net_class": "isp",
    "src_country": "JP",
}
_GMO: dict[str, Any] = {
    "src_ip": "163.44.170.143",
    "src_asn": 7506,
    "src_as_org": "GMO Internet",
    "src_net_class": "hosting",
    "src_country": "JP",
}
_LAN: dict[str, Any] = {"src_ip": "10.1.2.3", "src_net_class": "private"}


def _login(time: str, protocol: str, *, user: str = _USER, **net: object) -> dict[str, object]:
    return ev(time, event_class="auth", action="login", outcome="success", user=user, protocol=protocol, **net)


_FAILED_GUESS = ev(
    "2024-03-31T17:42:10Z", event_class="auth", action="login", outcome="failure", user=_USER, protocol="imap", **_GMO
)
_BROWSER = tuple(_login(f"2024-04-{d:02d}T00:30:00Z", "browser", **_HOME) for d in range(1, 10))

DETECTION = Detection(
    id="dt.signin.legacy_protocol_first_use",
    title="First use of IMAP/POP/SMTP AUTH/EWS by a user, from outside the org",
    techniques=("T1078", "T1114.002"),
    severity="medium",
    event_classes=("auth",),
    description=(
        "A user's first successful sign-in over IMAP, POP3, SMTP AUTH, EWS or Entra's legacy 'other clients' in "
        f"the stored history, after a learning period of {LEARNING_DAYS} days of the user's history, from a network "
        "that is not private and not one of the org's (an AS three or more users signed in from before). These "
        "protocols take a bare password and are how mailboxes are downloaded by scripts. Triage: did the user set "
        "up a mail client? Check the network and what was fetched (mailbox_access events of the session)."
    ),
    query=_QUERY,
    # first success per user and protocol, per network and user (org networks)
    lookback=timedelta(0),
    keep=(Keep("outcome = 'success'", ("user, protocol", f"{NET}, user"), relation="logins"),),
    positives=(
        Case(
            "first IMAP login, from a hosting network, after only failed guesses were seen",
            (_FAILED_GUESS, *_BROWSER, _login("2024-04-08T02:32:45Z", "imap", **_GMO)),
            1,
        ),
    ),
    negatives=(
        Case(
            "a user who reads mail over IMAP every day",
            (
                *(_login(f"2024-04-{d:02d}T00:30:00Z", "imap", **_HOME) for d in range(1, 10)),
                _login("2024-04-10T02:00:00Z", "imap", **_GMO),
            ),
            0,
        ),
        Case("first IMAP login from the office LAN", (*_BROWSER, _login("2024-04-10T02:00:00Z", "imap", **_LAN)), 0),
        Case("first IMAP login of a user in their first week", (_login("2024-04-08T02:32:45Z", "imap", **_GMO),), 0),
    ),
)
