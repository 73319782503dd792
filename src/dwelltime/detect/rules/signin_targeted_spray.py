"""A password spray that walks the organisation's real accounts: someone has the directory.

The internet guesses passwords all day (``admin``, ``info``, ``test``, a few real
addresses scraped from the web), a handful of attempts per source; that stays low
(dt.signin.password_spray).  A spray kit fed a harvested address list is different: in
one burst from one source it tries one password on many accounts that really exist —
accounts with a history of successful sign-ins in this organisation — and few that do
not, because the operator has the directory (a previous breach, a phished address book, a GAL export).
Such a campaign usually comes back round after round, hours apart to stay under lockout,
until one account has the season's password; waiting for that success (what
dt.signin.success_after_spray sees) is waiting hours for the breach.  High, on the
source: an incident should open at the first round.  Real accounts are known from the
logs themselves (a successful sign-in before the burst), so the rule adapts to any
organisation's size and naming, and the vendor's "no such user" errors never count.
"""

from __future__ import annotations

from datetime import timedelta

from dwelltime.detect.base import Case, Detection, Keep
from dwelltime.detect.cases import ev
from dwelltime.detect.rules._signin import SPRAY, SPRAY_ACCOUNTS, SPRAY_PER_ACCOUNT, hhmm
from dwelltime.detect.rules.signin_password_spray import _DOMAIN, _NAMES, _office_morning, _spray

#: Distinct accounts with a sign-in history that one burst must reach.
KNOWN_ACCOUNTS = SPRAY_ACCOUNTS
#: Share of the accounts tried so far that exist: a directory, not a dictionary of names.
KNOWN_SHARE = 0.75
#: ... and of all the organisation's accounts known so far: a campaign, not a scan that
#: happened to hit a few real names (on-prem logs often do not show the names that do
#: not exist, so the share alone cannot tell).
ORG_SHARE = 0.25

_QUERY = f"""
WITH {SPRAY},
known AS (
    SELECT user, min(time) AS since FROM logins WHERE outcome = 'success' GROUP BY user
),
known_firsts AS (
    SELECT f.*,
        ROW_NUMBER() OVER (PARTITION BY f.source, f.burst ORDER BY f.time, f.event_uid) AS nth_known
    FROM first_fails f
    JOIN known k ON k.user = f.user AND k.since < f.time
),
org_known AS (
    SELECT f.event_uid, COUNT(*) AS accounts
    FROM known_firsts f
    JOIN known k ON k.since < f.time
    WHERE f.nth_known >= {KNOWN_ACCOUNTS}
    GROUP BY f.event_uid
),
reaching AS (
    SELECT f.*, o.accounts AS org_accounts,
        ROW_NUMBER() OVER (PARTITION BY f.source, f.burst ORDER BY f.time, f.event_uid) AS nth_hit
    FROM known_firsts f
    JOIN org_known o ON o.event_uid = f.event_uid
    WHERE f.nth_known >= {ORG_SHARE} * o.accounts
      AND f.attempts_so_far <= {SPRAY_PER_ACCOUNT} * f.nth_account
      AND f.nth_known >= {KNOWN_SHARE} * f.nth_account
),
candidates AS (
    SELECT source, burst, burst_start, time AS alert_time, attempts_so_far, nth_account, nth_known, org_accounts,
        asn, as_org, net, country
    FROM reaching
    WHERE nth_hit = 1
),
org_use AS (
    SELECT c.source, c.burst, COUNT(DISTINCT s.user) AS ok_users
    FROM candidates c
    JOIN attempts s
      ON s.source = c.source AND s.outcome = 'success'
     AND s.time <= c.alert_time AND s.time > c.alert_time - INTERVAL 24 HOUR
    GROUP BY c.source, c.burst
),
evidence AS (
    SELECT c.source, c.burst, array_agg(k.event_uid) AS uids, array_agg(DISTINCT k.src_ip) AS ips
    FROM candidates c
    JOIN known_firsts k ON k.source = c.source AND k.burst = c.burst AND k.nth_known <= c.nth_known
    GROUP BY c.source, c.burst
)
SELECT
    c.source AS entity,
    'host' AS entity_type,
    c.alert_time AS time,
    least(1.0, CAST(nth_account AS DOUBLE) / attempts_so_far) AS score,
    e.uids AS event_uids,
    e.ips AS src_ips,
    'targeted password spray from ' || c.source || ' (' || coalesce(c.as_org, '?') || ', ' || c.net || ', '
        || coalesce(c.country, '??') || '): ' || CAST(c.nth_known AS VARCHAR) || ' accounts that exist in the '
        || 'organisation (each with successful sign-ins before; ' || CAST(c.org_accounts AS VARCHAR)
        || ' known in all) failed within '
        || CAST(CAST(round((epoch(c.alert_time) - epoch(c.burst_start)) / 60.0) AS BIGINT) AS VARCHAR)
        || ' min, ' || CAST(c.attempts_so_far AS VARCHAR) || ' attempts on ' || CAST(c.nth_account AS VARCHAR)
        || ' accounts in all, from ' || CAST(len(e.ips) AS VARCHAR) || ' address(es), started '
        || {hhmm("c.burst_start")} || '. The source has the directory: block it, look for any success from it, '
        || 'expect more rounds' AS explanation
FROM candidates c
JOIN evidence e ON e.source = c.source AND e.burst = c.burst
LEFT JOIN org_use o ON o.source = c.source AND o.burst = c.burst
WHERE coalesce(o.ok_users, 0) * 3 < {KNOWN_ACCOUNTS}
"""


def _history(names: tuple[str, ...]) -> tuple[dict[str, object], ...]:
    """Each account signed in from the office the week before (they exist)."""
    return tuple(
        ev(
            f"2024-04-0{1 + n % 5}T00:{n:02d}:00Z",
            event_class="auth",
            action="login",
            outcome="success",
            user=f"{name}@{_DOMAIN}",
            src_ip="198.51.100.7",
            src_asn=4713,
            src_as_org="NTT OCN",
            src_net_class="isp",
            src_country="JP",
        )
        for n, name in enumerate(names)
    )


_IPS = ("95.216.10.1", "95.216.10.2", "95.216.10.3")

DETECTION = Detection(
    id="dt.signin.targeted_spray",
    title="Password spray walking the organisation's real accounts (a harvested directory)",
    techniques=("T1110.003", "T1589.002"),
    severity="high",
    event_classes=("auth",),
    description=(
        f"One source (a hosting or Tor AS as a whole, else one address) fails to sign in to {KNOWN_ACCOUNTS} or "
        "more distinct accounts that exist in the organisation — each with a successful sign-in before the burst "
        f"— in one burst (no gap over 30 min), with at most {SPRAY_PER_ACCOUNT} attempts per account tried, from a "
        f"source few of the org's users signed in from in the previous 24 h (not an office NAT); at least "
        f"{KNOWN_SHARE:.0%} of the accounts it tried so far exist, and they are at least {ORG_SHARE:.0%} of the "
        "accounts the organisation is known to have. Internet guessing mostly tries names that do "
        "not exist (admin, info, test) and a few real ones; a list of real accounts means the "
        "attacker has the directory and will come back until one password works. High, on the source. Triage: "
        "block the range, look for any success from it (dt.signin.success_after_spray), force a reset of the "
        "accounts that share the season's password pattern, find where the address list leaked."
    ),
    query=_QUERY,
    # every failure (bursts have no bound); first success per user; the org's successes in the 24 h before
    lookback=timedelta(hours=26),
    keep=(
        Keep("outcome = 'failure'", relation="logins"),
        Keep("outcome = 'success'", ("user",), relation="logins"),
    ),
    positives=(Case("11 real accounts, one attempt each, from Hetzner", (*_history(_NAMES), *_spray(0, _IPS)), 1),),
    negatives=(
        Case("the same spray on names that never signed in (guessing, not a directory)", _spray(0, _IPS), 0),
        Case("office NAT: 11 typos among 40 successful sign-ins", _office_morning(), 0),
        Case(
            "a dictionary: 11 real accounts among 33 names, two thirds of which do not exist",
            (
                *_history(_NAMES),
                *_spray(0, _IPS, names=tuple(n for name in _NAMES for n in (name, "x" + name, "y" + name))),
            ),
            0,
        ),
        Case(
            "11 of an organisation's 60 real accounts: a scan that hit some real names, not a campaign",
            (*_history(_NAMES), *_history(tuple(f"staff{n:02d}" for n in range(49))), *_spray(0, _IPS)),
            0,
        ),
        Case(
            "9 real accounts and 2 unknown: under the threshold of known accounts",
            (*_history(_NAMES[:9]), *_spray(0, _IPS)),
            0,
        ),
        Case(
            "4 attempts on each real account is guessing per account, not a spray",
            (*_history(_NAMES), *_spray(0, ("95.216.10.1",), per_account=4)),
            0,
        ),
    ),
)
