"""A user's sign-ins from one network keep a clock: a script collecting mail on a schedule.

The NISC intruders read mail over IMAP for months on a rhythm: a session every few hours
of the operator's working day, give or take some minutes, week after week.  People do not
sign in like that (their intervals spread as widely as their days do), but devices do: a
phone polls from its carrier, an Outlook on the office LAN refreshes every hour, a laptop
at home renews its tokens.  So the rhythm alone is not the alarm; a rhythm from a network
the user's devices do not live on is: a rented server or Tor, or a network the user first
used in the last two weeks after a long history without it, that is not the organisation's
own (three or more people), a mobile carrier, a private range or a commercial VPN exit (a
VPN carries its customers' own mail clients, polling on their schedules: measured on the
simulator, VPN users' IMAP clients made this alert, and with it false incidents).

A visit is a successful sign-in, or an Exchange MailItemsAccessed read (Bind) from an
address: a script holding a stolen token signs in once and then only reads, on its timer.

The rhythm is measured by :func:`dwelltime.detect.models.periodicity.periodicity` over the
pair's last :data:`WINDOW` sessions as each session arrives (only the past, so replay gives
the same alert times); one alert per user and network, at the first session at which the
rhythm holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from dwelltime.detect.base import Case, Detection
from dwelltime.detect.cases import ev, signin
from dwelltime.detect.models.periodicity import Periodicity, RhythmRule, first_rhythms
from dwelltime.detect.rules._signin import NET, ORG_NETS
from dwelltime.detect.scoring import float_column, int_column, utc

#: Sessions over which the rhythm is measured (intervals = WINDOW - 1).
WINDOW = 17
#: Rhythm score (1 - spread / a person's spread) and share of intervals that are whole beats.
MIN_SCORE = 0.7
MIN_FIT = 0.5
#: Beats between 40 minutes and 12 hours.  Faster is what mail clients do on their own (Thunderbird
#: checks every 10 min, Outlook every 30; commercial VPN exits sit in hosting networks, so a VPN
#: user's client looks like a VPS polling: measured on the simulator, VPN users' IMAP clients at
#: 19-28 min made this alert); daily is a person's day.  A script as fast as a mail client is left
#: to the other detections.
MIN_PERIOD_S = 2400.0
MAX_PERIOD_S = 12 * 3600.0
#: A network is "new" for this long after the user's first sign-in from it, if they had this much history before.
NEW_FOR = timedelta(days=14)
HISTORY_BEFORE = timedelta(days=7)
#: A sign-in this soon after the pair's previous one is the same visit.
SAME_VISIT_S = 60.0
RHYTHM = RhythmRule(WINDOW, MIN_SCORE, MIN_FIT, MIN_PERIOD_S, MAX_PERIOD_S, SAME_VISIT_S)

#: What counts as a visit: a successful sign-in, or a read of mail recorded without one
#: (Exchange's MailItemsAccessed Bind records: a stolen token read through Graph or EWS on a
#: timer signs in once, then only reads).  Dovecot reads follow their own logins, which count.
#: Sync records are left out: a mail client keeping its folders in step is periodic by design.
VISITS = """
visits AS (
    SELECT user, time, event_uid, src_ip, asn, as_org, net, country, outcome FROM logins
    UNION ALL
    SELECT user, time, event_uid, src_ip, src_asn AS asn, src_as_org AS as_org,
        coalesce(src_net_class, 'unknown') AS net, src_country AS country, 'success' AS outcome
    FROM events
    WHERE event_class = 'mailbox_access' AND action = 'mail_read' AND source_format <> 'dovecot'
      AND user IS NOT NULL AND src_ip IS NOT NULL
)"""

_INPUT = f"""
WITH {VISITS},
{ORG_NETS.replace("FROM logins", "FROM visits")},
user_first AS (
    SELECT user, min(time) AS since FROM visits WHERE outcome = 'success' GROUP BY user
),
candidates AS (
    -- Only pairs that could ever alert: enough sessions, and a network that is of a suspect
    -- class or came after a week of the user's history (each a fact about the past whenever
    -- it holds; the scorer checks the rest session by session).
    SELECT l.user, l.time, l.event_uid, l.src_ip, l.as_org, l.net, f.netkey,
        f.first_time AS net_first, o.org_since, u.since AS user_since,
        count(*) OVER (PARTITION BY l.user, f.netkey) AS sessions
    FROM visits l
    JOIN user_net_first f ON f.user = l.user AND f.netkey = {NET.replace("asn", "l.asn")}
    JOIN org_nets o ON o.netkey = f.netkey
    JOIN user_first u ON u.user = l.user
    WHERE l.outcome = 'success' AND l.net NOT IN ('private', 'mobile', 'vpn')
      AND (l.net IN ('hosting', 'tor') OR f.first_time >= u.since + INTERVAL {HISTORY_BEFORE.days} DAY)
)
SELECT user, time, event_uid, src_ip, as_org, net, net_first,
    dense_rank() OVER (ORDER BY user, netkey) AS pair,
    epoch(time) AS t, epoch(net_first) AS t_net_first, epoch(org_since) AS t_org_since, epoch(user_since) AS t_since
FROM candidates
WHERE sessions >= {WINDOW}
ORDER BY user, netkey, time, event_uid
"""


def _score(con: duckdb.DuckDBPyConnection, query: str) -> Sequence[tuple[object, ...]]:
    """First session per (user, network) at which its last WINDOW visits keep a clock, as alert rows.

    Vectorised over all pairs: visits (a sign-in a minute or more after the pair's previous
    one), the network test at each visit's time, and the robust spread of every window of
    intervals; :func:`periodicity` then confirms (period, fit, daily) only the windows whose
    spread already qualifies, which are few.
    """
    rows = con.sql(query).to_arrow_table()
    if rows.num_rows == 0:
        return []
    pair = int_column(rows, "pair")
    t = float_column(rows, "t")
    org_since = np.nan_to_num(float_column(rows, "t_org_since"), nan=np.inf)
    net_first, since = float_column(rows, "t_net_first"), float_column(rows, "t_since")
    suspect_class = np.isin(np.asarray(rows.column("net").to_pylist(), dtype=object), ["hosting", "tor"])
    adopted = (t - net_first <= NEW_FOR.total_seconds()) & (net_first - since >= HISTORY_BEFORE.total_seconds())
    unusual = (org_since > t) & (suspect_class | adopted)
    onsets = first_rhythms(
        pair,
        t,
        unusual,
        RHYTHM,
    )
    return [_alert(rows, onset.rows, onset.rhythm) for onset in onsets]


def _alert(rows: pa.Table, window: npt.NDArray[np.int64], rhythm: Periodicity) -> tuple[object, ...]:
    """The alert row for a window of visits (row indices) that keeps a clock; it fires at the last."""
    picked = rows.take(pa.array(window)).to_pylist()
    row = picked[-1]
    at = utc(row["time"])
    text = (
        f"{row['user']} signs in from {row['src_ip'] or 'unknown address'}"
        + (f" {row['as_org']}" if row["as_org"] else "")
        + f" ({row['net']}) on a clock: {rhythm.explain()} over its last {WINDOW} sessions; "
        + f"first sign-in from this network {utc(row['net_first']).strftime('%Y-%m-%d %H:%MZ')}"
    )
    uids = [str(v["event_uid"]) for v in picked]
    ips = sorted({str(v["src_ip"]) for v in picked if v["src_ip"]})
    return (row["user"], "user", at, round(rhythm.score, 3), uids, ips, text)


def _login(time: datetime, user: str, ip: str, asn: int, org: str, net: str) -> dict[str, object]:
    return signin(time.strftime("%Y-%m-%dT%H:%M:%SZ"), user, ip, asn, org, net, protocol="imap")


_T0 = datetime(2024, 5, 1, 1, 0, tzinfo=UTC)
_JITTER = (7, -12, 3, 14, -5, 0, -9, 11, 2, -14, 6, -3, 10, -7, 1, 13, -11, 4, -2, 8, -6, 12, -1, 5)


def _script(user: str, ip: str, asn: int, org: str, net: str, first_day: int) -> tuple[dict[str, object], ...]:
    """Three sessions a working day, 3 h apart give or take a quarter hour, for eight days."""
    times = [
        _T0 + timedelta(days=first_day + d, hours=3 * s, minutes=_JITTER[(d * 3 + s) % len(_JITTER)])
        for d in range(8)
        for s in range(3)
    ]
    return tuple(_login(t, user, ip, asn, org, net) for t in times)


def _token_reads(user: str, ip: str, asn: int, org: str, net: str, first_day: int) -> tuple[dict[str, object], ...]:
    """The same clock as :func:`_script`, as Exchange MailItemsAccessed reads with no sign-in (a stolen token)."""
    return tuple(
        ev(
            str(login["time"].isoformat()),  # type: ignore[attr-defined]
            event_class="mailbox_access",
            action="mail_read",
            source_format="m365-audit",
            user=user,
            src_ip=ip,
            src_asn=asn,
            src_as_org=org,
            src_net_class=net,
            client_app="Client=REST;",
            item_count=3,
        )
        for login in _script(user, ip, asn, org, net, first_day)
    )


def _person(user: str, ip: str, asn: int, org: str, net: str) -> tuple[dict[str, object], ...]:
    """A person's sign-ins: irregular gaps (minutes to a day), for three weeks."""
    rng = np.random.default_rng(11)
    gaps = rng.exponential(5 * 3600, 60)
    times = [_T0 + timedelta(seconds=float(s)) for s in np.cumsum(gaps)]
    return tuple(_login(t, user, ip, asn, org, net) for t in times)


_ITO = "ito@agency.example.jp"
_OFFICE = tuple(
    _login(_T0 + timedelta(days=d, minutes=k), f"staff{k}@agency.example.jp", "10.1.0.5", 0, "LAN", "private")
    for d in range(30)
    for k in range(3)
)

DETECTION = Detection(
    id="dt.signin.periodic_access",
    title="Sign-ins on a clock from a network the user's devices do not live on (scripted collection)",
    techniques=("T1114.002", "T1078"),
    severity="low",
    event_classes=("auth",),
    description=(
        "A user's successful sign-ins from one network (AS, else address) keep a regular rhythm over their last "
        f"{WINDOW} sessions (spread of the intervals under 30% of a person's, beats between 40 minutes and 12 hours, "
        "gaps allowed), and the network is a hosting or Tor network, or one the user first used in the last "
        "two weeks after a long history without it; never the organisation's own networks, private ranges, "
        "mobile carriers or VPN exits (where people's own phones and mail clients poll on schedules of their own). "
        "Scripts that collect mail on a timer look "
        "like this; so can a new mail client on a new home connection, hence low: it corroborates. Triage: which "
        "client and protocol the sessions used, what they read (dwelltime scope), and whether the user knows it."
    ),
    query=_INPUT,
    scorer=_score,
    lookback=None,
    positives=(
        Case(
            "IMAP every 3 h of the working day from a domestic VPS",
            (*_OFFICE, *_script("ito@agency.example.jp", "203.0.113.50", 63949, "Akamai/Linode", "hosting", 10)),
            1,
        ),
        Case(
            "Graph reads every 3 h from a domestic VPS with a stolen token, no sign-in at all",
            (*_OFFICE, *_token_reads(_ITO, "203.0.113.50", 63949, "Akamai/Linode", "hosting", 10)),
            1,
        ),
    ),
    negatives=(
        Case(
            "a person on a cloud desktop signing in whenever they work",
            (*_OFFICE, *_person(_ITO, "203.0.113.50", 63949, "Akamai/Linode", "hosting")),
            0,
        ),
        Case(
            "a VPN user's own mail client polling every 3 h through the VPN",
            (*_OFFICE, *_script(_ITO, "198.51.100.20", 9009, "M247", "vpn", 10)),
            0,
        ),
        Case(
            "the same clock from the office LAN (a mail client polling)",
            (*_OFFICE, *_script("staff1@agency.example.jp", "10.1.0.5", 0, "LAN", "private", 10)),
            0,
        ),
        Case(
            "the same clock from the user's home ISP of a month",
            (
                *_OFFICE,
                *(
                    _login(
                        _T0 + timedelta(days=d, hours=12), "ito@agency.example.jp", "203.0.113.77", 2516, "KDDI", "isp"
                    )
                    for d in range(0, 10)
                ),
                *_script("ito@agency.example.jp", "203.0.113.77", 2516, "KDDI", "isp", 10),
            ),
            0,
        ),
    ),
)
