"""A password-only sign-in for an account that always passes MFA away from the org's trusted networks.

Where multi-factor authentication is enforced, a thief with a stolen password still gets
in only through a path the policy does not cover: a legacy or ROPC flow, an excluded
app, a device platform the policy forgot, a location marked trusted by mistake.  Entra
says which it was on every sign-in: ``authenticationRequirement`` is
``singleFactorAuthentication`` when no second factor was required.  An operator who
copies everything else about the victim (their ISP, their Outlook, their working hours,
as the NISC intruder did) still cannot copy the second factor, so this is what remains.

People sign in password-only legitimately too, and each way is learned, not guessed:

* from a *trusted location* (the office egress, exempted by policy): a network prefix
  (/24, IPv6 /48) from which three or more users signed in password-only is one;
* with an *excluded app*: an app that three or more other users used password-only
  from outside trusted locations;
* with a *compliant or managed device* (device-based grant): Entra marks it, so skipped;
* a user or a tenant that simply has no MFA: the user must have passed MFA on
  an earlier interactive sign-in (:data:`MIN_MFA`) and never signed in password-only outside
  trusted locations, and few other users may have (:data:`TENANT_EXEMPT_SHARE`);
  otherwise password-only is normal there and says nothing.

Only interactive sign-ins count: a refreshed token shows the requirement of the sign-in
it descends from.  One alert per user: their first password-only sign-in outside trusted
locations.  Triage: ask the user; if it was not them, revoke sessions, reset the password,
find which policy let a single factor through, and scope what the session read.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dwelltime.detect.base import Case, Detection, Keep
from dwelltime.detect.cases import signin
from dwelltime.detect.rules._signin import ORG_USERS, hhmm, org_since

#: Earlier interactive sign-ins with MFA that show the account is subject to MFA.
MIN_MFA = 1
#: A tenant where more than this share of MFA users (or more than :data:`ORG_USERS` - 1 others) have
#: signed in password-only outside trusted locations does not enforce MFA there; the rule stays silent.
TENANT_EXEMPT_SHARE = 0.05
#: Hours a password-only sign-in waits for colleagues: a new office egress (or a new trusted range) is
#: used by several users within a working day; an intruder's address is not.  The alert comes then.
CONFIRM_HOURS = 24
#: MFA sign-ins per user kept between runs, so explanations count them up to this ("20 or more").
MFA_COUNTED = 20

#: The network prefix of an address: IPv4 /24, IPv6 /48 (the first three groups as written).
PREFIX = (
    "CASE WHEN contains(src_ip, ':') THEN array_to_string(string_split(src_ip, ':')[1:3], ':')"
    " ELSE regexp_replace(src_ip, '\\.[0-9]+$', '') END"
)
_REQUIREMENT = "params['authenticationRequirement']"
#: Interactive Entra sign-ins that say whether MFA was required, outside private ranges, not device-granted.
_STRONG = f"""event_class = 'auth' AND action = 'login' AND outcome = 'success' AND user IS NOT NULL
      AND src_ip IS NOT NULL AND operation = 'SignInLogs'
      AND {_REQUIREMENT} IN ('singleFactorAuthentication', 'multiFactorAuthentication')
      AND coalesce(src_net_class, '') NOT IN ('private', 'reserved')
      AND lower(coalesce(params['deviceDetail.isCompliant'], 'false')) <> 'true'
      AND lower(coalesce(params['deviceDetail.isManaged'], 'false')) <> 'true'"""
_MFA = f"{_REQUIREMENT} = 'multiFactorAuthentication'"
_SINGLE = f"{_REQUIREMENT} = 'singleFactorAuthentication'"

_QUERY = f"""
WITH strong AS (
    SELECT event_uid, time, user, src_ip, coalesce(app_id, '') AS app, app_name, src_asn, src_as_org,
        src_net_class, src_country, {_MFA} AS mfa, {PREFIX} AS prefix
    FROM events
    WHERE {_STRONG}
),
data_end AS (
    SELECT max(time) AS t FROM events
),
mfa_rows AS (
    SELECT user, time, row_number() OVER (PARTITION BY user ORDER BY time, event_uid) AS nth
    FROM strong WHERE mfa
),
single AS (
    SELECT * FROM strong WHERE NOT mfa
),
{org_since("prefix_users", "trusted", "prefix", "prefix", "single", "TRUE").strip()},
single_trust AS (
    SELECT s.*, t.org_since AS trusted_since FROM single s LEFT JOIN trusted t ON t.prefix = s.prefix
),
candidates AS (
    SELECT c.*, c.time + INTERVAL {CONFIRM_HOURS} HOUR AS decided
    FROM single_trust c, data_end d
    WHERE (c.trusted_since IS NULL OR c.trusted_since > c.time + INTERVAL {CONFIRM_HOURS} HOUR)
      AND d.t >= c.time + INTERVAL {CONFIRM_HOURS} HOUR
),
judged AS (
    SELECT c.*,
        (SELECT count(*) FROM mfa_rows m WHERE m.user = c.user AND m.time < c.time) AS mfa_before,
        (SELECT count(*) FROM single_trust s
          WHERE s.user = c.user AND (s.time < c.time OR (s.time = c.time AND s.event_uid < c.event_uid))
            AND (s.trusted_since IS NULL OR s.trusted_since > c.decided)) AS own_before,
        (SELECT count(DISTINCT s.user) FROM single_trust s
          WHERE s.app = c.app AND s.user <> c.user AND s.time < c.decided
            AND (s.trusted_since IS NULL OR s.trusted_since > c.decided)) AS app_users,
        (SELECT count(DISTINCT s.user) FROM single_trust s
          WHERE s.user <> c.user AND s.time < c.decided
            AND (s.trusted_since IS NULL OR s.trusted_since > c.decided)) AS exempt_users,
        (SELECT count(*) FROM mfa_rows m WHERE m.nth = 1 AND m.user <> c.user AND m.time < c.decided) AS mfa_users
    FROM candidates c
)
SELECT
    user AS entity,
    'user' AS entity_type,
    decided AS time,
    CASE WHEN src_net_class IN ('hosting', 'tor', 'vpn') THEN 1.0 ELSE 0.8 END AS score,
    [event_uid] AS event_uids,
    [src_ip] AS src_ips,
    'password-only sign-in (no MFA required) to ' || coalesce(nullif(app_name, ''), nullif(app, ''), 'an app')
        || ' at ' || {hhmm("time")} || ' from ' || src_ip || ' (' || coalesce('AS' || CAST(src_asn AS VARCHAR), 'no AS')
        || ', ' || coalesce(src_as_org, '?') || ', ' || coalesce(src_net_class, '?') || ', '
        || coalesce(src_country, '??') || '); this account passed MFA on '
        || CASE WHEN mfa_before >= {MFA_COUNTED} THEN '{MFA_COUNTED} or more' ELSE CAST(mfa_before AS VARCHAR) END
        || ' earlier interactive sign-ins and never signed in password-only outside trusted locations, and in the '
        || '{CONFIRM_HOURS} h that followed no other user signed in password-only from ' || prefix
        || ' (not a trusted location) or with this app outside trusted locations' AS explanation
FROM judged
WHERE mfa_before >= {MIN_MFA}
  AND own_before = 0
  AND app_users < {ORG_USERS}
  AND exempt_users < greatest({ORG_USERS}, {TENANT_EXEMPT_SHARE} * mfa_users)
"""

_USER = "k.okada@agency.example.jp"
_OTHER = "m.ito@agency.example.jp"
_OUTLOOK = "d3590ed6-52b3-4102-aeff-aad2292ab01c"
_TEAMS = "1fec8e78-bce4-4aaf-ab1b-5451cc387264"
_HOME = ("114.167.11.37", 4713, "NTT OCN", "isp")
_PROXY = ("153.249.235.37", 4713, "NTT OCN", "isp")
_OFFICE = ("203.0.113.10", 2516, "KDDI", "isp")


def _signin(
    time: str,
    user: str,
    where: tuple[str, int, str, str],
    mfa: bool,
    *,
    app: str = _OUTLOOK,
    interactive: bool = True,
    compliant: bool = False,
) -> dict[str, Any]:
    params = {
        "authenticationRequirement": "multiFactorAuthentication" if mfa else "singleFactorAuthentication",
        "deviceDetail.isCompliant": "true" if compliant else "false",
    }
    return signin(
        time,
        user,
        *where,
        app_id=app,
        operation="SignInLogs" if interactive else "NonInteractiveUserSignInLogs",
        params=params,
    )


#: The victim: MFA from home on three days, password-only from the office (a trusted location,
#: where three colleagues sign in password-only too).
_HISTORY = (
    *(_signin(f"2024-04-0{d}T23:10:00Z", _USER, _HOME, True) for d in (1, 3, 5)),
    *(
        _signin(f"2024-04-0{d}T00:{m}0:00Z", u, _OFFICE, False)
        for d in (2, 4)
        for m, u in enumerate((_USER, _OTHER, "a.sato@agency.example.jp", "y.kato@agency.example.jp"))
    ),
)
_ATTACK = _signin("2024-04-16T05:15:37Z", _USER, _PROXY, False)
#: Data goes on past the confirmation window (a colleague's MFA sign-in from home).
_LATER = _signin("2024-04-17T23:10:00Z", _OTHER, ("198.51.100.7", 2527, "So-net", "isp"), True)

DETECTION = Detection(
    id="dt.signin.mfa_skipped",
    title="Password-only sign-in for an account that always passes MFA outside trusted locations",
    techniques=("T1078.004", "T1556.006"),
    severity="high",
    event_classes=("auth",),
    description=(
        "An interactive Entra sign-in that required no second factor (authenticationRequirement "
        "singleFactorAuthentication) for a user who passed MFA on"
        " earlier interactive sign-ins and never signed in password-only outside trusted locations, from a "
        f"network prefix that is not a trusted location ({ORG_USERS}+ users password-only from it), with an app that "
        "is not exempted (other users password-only with it), not from a compliant or managed device, in a tenant "
        "that enforces MFA. A stolen password gets through only where the policy has a gap; an operator who mimics "
        "the victim's ISP, client and hours cannot mimic the second factor. Triage: ask the user; revoke sessions, "
        "reset the password, find the policy gap, scope what the session read."
    ),
    query=_QUERY,
    lookback=timedelta(0),
    keep=(
        Keep(f"{_STRONG} AND {_MFA}", ("user",), first=MFA_COUNTED),
        Keep(f"{_STRONG} AND {_SINGLE}", (f"user, {PREFIX}, coalesce(app_id, '')",)),
    ),
    positives=(
        Case("password-only from a residential address of the victim's own ISP", (*_HISTORY, _ATTACK, _LATER), 1),
        Case(
            "password-only again later: one alert per user",
            (
                *_HISTORY,
                _ATTACK,
                _signin("2024-04-18T05:15:37Z", _USER, _PROXY, False),
                _LATER,
                _signin("2024-04-19T23:10:00Z", _OTHER, ("198.51.100.7", 2527, "So-net", "isp"), True),
            ),
            1,
        ),
    ),
    negatives=(
        Case("password-only from the office, a trusted location", (*_HISTORY,), 0),
        Case(
            "a user who never passed MFA (not subject to it)",
            (*_HISTORY[3:], _ATTACK, _LATER),
            0,
        ),
        Case(
            "a user who signed in password-only from home before (excluded from MFA)",
            (*_HISTORY, _signin("2024-03-31T23:10:00Z", _USER, _HOME, False), _ATTACK, _LATER),
            0,
        ),
        Case(
            "a compliant device (device-based grant)",
            (*_HISTORY, _signin("2024-04-16T05:15:37Z", _USER, _PROXY, False, compliant=True), _LATER),
            0,
        ),
        Case(
            "a refreshed token (non-interactive)",
            (*_HISTORY, _signin("2024-04-16T05:15:37Z", _USER, _PROXY, False, interactive=False), _LATER),
            0,
        ),
        Case("too recent to judge: the day has not passed", (*_HISTORY, _ATTACK), 0),
        Case(
            "a new office egress: colleagues sign in password-only from it the same day",
            (
                *_HISTORY,
                _ATTACK,
                *(
                    _signin(f"2024-04-16T0{6 + i}:00:00Z", u, ("153.249.235.90", 4713, "NTT OCN", "isp"), False)
                    for i, u in enumerate((_OTHER, "a.sato@agency.example.jp"))
                ),
                _LATER,
            ),
            0,
        ),
        Case(
            "a tenant that does not enforce MFA outside the office: colleagues sign in password-only from home",
            (
                *_HISTORY,
                *(
                    _signin(f"2024-04-1{i}T09:00:00Z", u, (f"198.51.{i}.7", 2527, "So-net", "isp"), False, app=_TEAMS)
                    for i, u in enumerate((_OTHER, "a.sato@agency.example.jp", "y.kato@agency.example.jp"))
                ),
                _ATTACK,
                _LATER,
            ),
            0,
        ),
        Case(
            "an app the policy exempts: three colleagues use it password-only from their homes",
            (
                *_HISTORY,
                *(
                    _signin(f"2024-04-1{i}T09:00:00Z", u, (f"198.51.{i}.7", 2527, "So-net", "isp"), False, app=_TEAMS)
                    for i, u in enumerate((_OTHER, "a.sato@agency.example.jp", "y.kato@agency.example.jp"))
                ),
                _signin("2024-04-16T05:15:37Z", _USER, _PROXY, False, app=_TEAMS),
                _LATER,
            ),
            0,
        ),
    ),
)
