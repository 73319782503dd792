"""Password spray: one source failing against many accounts with few attempts each.

Spraying (one or two common passwords tried against every account, slowly enough to
stay under lockout) is how most cloud mailbox compromises start.  The spray itself
usually fails and, on the internet, never stops: it is context, not an incident.  So
the alert is about the *source* (entity type ``host``: the AS of a hosting or Tor
provider, since spray tools rotate addresses inside a provider, else the address) and
is low risk; what matters is :mod:`signin_success_after_spray`, which turns a success
from the same source into a high-risk alert on the user.
"""

from __future__ import annotations

from datetime import timedelta

from dwelltime.detect.base import Case, Detection, Keep
from dwelltime.detect.cases import ev
from dwelltime.detect.rules._signin import SPRAY, SPRAY_ACCOUNTS, SPRAY_PER_ACCOUNT, hhmm

_QUERY = f"""
WITH {SPRAY},
evidence AS (
    SELECT s.source, s.burst, array_agg(f.event_uid) AS uids, array_agg(DISTINCT f.src_ip) AS ips
    FROM sprays s
    JOIN first_fails f ON f.source = s.source AND f.burst = s.burst AND f.nth_account <= {SPRAY_ACCOUNTS}
    GROUP BY s.source, s.burst
)
SELECT
    s.source AS entity,
    'host' AS entity_type,
    s.alert_time AS time,
    CAST({SPRAY_ACCOUNTS} AS DOUBLE) / s.attempts_so_far AS score,
    e.uids AS event_uids,
    e.ips AS src_ips,
    'password spray from ' || s.source || ' (' || coalesce(s.as_org, '?') || ', ' || s.net || ', '
        || coalesce(s.country, '??') || '): {SPRAY_ACCOUNTS} distinct accounts failed within '
        || CAST(CAST(round((epoch(s.alert_time) - epoch(s.burst_start)) / 60.0) AS BIGINT) AS VARCHAR)
        || ' min (' || CAST(s.attempts_so_far AS VARCHAR) || ' attempts, from '
        || CAST(len(e.ips) AS VARCHAR) || ' address(es)), started ' || {hhmm("s.burst_start")}
        || '; a success from this source is what to look for' AS explanation
FROM sprays s
JOIN evidence e ON e.source = s.source AND e.burst = s.burst
"""

_DOMAIN = "agency.example.jp"
_NAMES = ("a.sato", "b.ito", "c.kato", "d.mori", "e.abe", "f.ota", "g.endo", "h.ueda", "i.noda", "j.kudo", "k.ono")


def _spray(
    start_minute: int, ips: tuple[str, ...], per_account: int = 1, names: tuple[str, ...] = _NAMES
) -> tuple[dict[str, object], ...]:
    """One failure per account (or several) from a hosting AS, a few seconds apart."""
    rows = []
    second = 0
    for n, name in enumerate(names):
        for _ in range(per_account):
            second += 7
            rows.append(
                ev(
                    f"2024-04-09T02:{start_minute + second // 60:02d}:{second % 60:02d}Z",
                    event_class="auth",
                    action="login",
                    outcome="failure",
                    user=f"{name}@{_DOMAIN}",
                    src_ip=ips[n % len(ips)],
                    src_asn=24940,
                    src_as_org="Hetzner Online GmbH",
                    src_net_class="hosting",
                    src_country="FI",
                )
            )
    return tuple(rows)


def _office_morning() -> tuple[dict[str, object], ...]:
    """An office NAT at 9:00: 40 people sign in, 11 of them mistype their password once first."""
    rows = []
    for n in range(40):
        user = f"user{n:02d}@{_DOMAIN}"
        common = {
            "event_class": "auth",
            "action": "login",
            "user": user,
            "src_ip": "198.51.100.7",
            "src_asn": 4713,
            "src_as_org": "NTT OCN",
            "src_net_class": "isp",
            "src_country": "JP",
        }
        if n < 11:
            rows.append(ev(f"2024-04-09T00:{n:02d}:10Z", outcome="failure", **common))
        rows.append(ev(f"2024-04-09T00:{n:02d}:40Z", outcome="success", **common))
    return tuple(rows)


DETECTION = Detection(
    id="dt.signin.password_spray",
    title="Password spray against many accounts from one source",
    techniques=("T1110.003",),
    severity="low",
    event_classes=("auth",),
    description=(
        f"One source (a hosting or Tor AS taken as a whole, else one address) fails to sign in to "
        f"{SPRAY_ACCOUNTS} or more distinct accounts in one burst (no gap over 30 min) with at most "
        f"{SPRAY_PER_ACCOUNT} attempts per account on average, and fewer than a third as many of the org's "
        "users signed in successfully from it in the previous 24 h (so an office NAT's morning typos do not "
        "count). Low risk on the source: internet spraying is constant. Triage: check for any success from the "
        "same source (dt.signin.success_after_spray), block the range if it persists."
    ),
    query=_QUERY,
    # every failure (bursts have no bound); the org's successes from the source in the 24 h before
    lookback=timedelta(hours=26),
    keep=(Keep("outcome = 'failure'", relation="logins"),),
    positives=(
        Case(
            "11 accounts, one attempt each, rotating 3 Hetzner addresses",
            _spray(0, ("95.216.10.1", "95.216.10.2", "95.216.10.3")),
            1,
        ),
    ),
    negatives=(
        Case("office NAT: 11 typos among 40 successful sign-ins", _office_morning(), 0),
        Case(
            "4 attempts on each of 11 accounts is guessing per account, not a spray",
            _spray(0, ("95.216.10.1",), per_account=4),
            0,
        ),
    ),
)
