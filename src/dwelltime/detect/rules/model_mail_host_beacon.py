"""A mail host calls one outside address on a clock: an implant's beacon (periodicity model).

The UNC4841 implants on Barracuda gateways (SEASPY, SALTWATER, SEASIDE) call their
operators on a timer, with jitter, for months.  ``dt.network.mail_host_new_destination``
says a mail host has a new peer; this detection says the host talks to it like a
machine: its last :data:`WINDOW` connections to that address keep a rhythm (measured by
:func:`dwelltime.detect.models.periodicity.periodicity`: the intervals' robust spread under
a third of a person's, most intervals whole beats, missed beats allowed), between one
minute and twelve hours, not daily.  Mail hosts poll on schedules of their own (the
vendor's update and reputation services, NTP, a monitoring agent), so only destinations
the host first contacted after its first :data:`LEARNING_DAYS` days count, and never on
SMTP, DNS or NTP (an MTA's deliveries follow the mail, not a clock, but are left to the
rules).  Replay-safe: each window is judged at its last connection, on facts of the past.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from dwelltime.detect.base import Case, Detection
from dwelltime.detect.models.periodicity import Periodicity, RhythmRule, first_rhythms
from dwelltime.detect.rules._mailhosts import (
    EXTERNAL_CONNS,
    LEARNING_DAYS,
    MAIL_HOSTS,
    RELAY_NAMES,
    ROUTINE_PORTS,
    zeek_conn,
)
from dwelltime.detect.scoring import float_column, int_column, utc

#: Connections over which the rhythm is measured.
WINDOW = 12
MIN_SCORE = 0.7
MIN_FIT = 0.6
MIN_PERIOD_S = 60.0
MAX_PERIOD_S = 12 * 3600.0
#: Connections to the same address this close together are one call (a retry, a second channel).
SAME_VISIT_S = 20.0
RHYTHM = RhythmRule(WINDOW, MIN_SCORE, MIN_FIT, MIN_PERIOD_S, MAX_PERIOD_S, SAME_VISIT_S)

_QUERY = rf"""
WITH ext AS ({EXTERNAL_CONNS}),
relay_names AS ({RELAY_NAMES}),
mail_hosts AS ({MAIL_HOSTS}),
host_conns AS (
    SELECT e.host, e.dst_ip, e.dst_port, e.time, e.event_uid, e.up, e.down, m.first_seen
    FROM ext e
    JOIN mail_hosts m ON m.host = e.host
    WHERE e.dst_port NOT IN {ROUTINE_PORTS} AND e.service NOT IN ('dns', 'ntp', 'smtp') AND e.time >= m.mail_since
),
pairs AS (
    SELECT host, dst_ip, min(time) AS first_time, count(*) AS n, min(first_seen) AS first_seen
    FROM host_conns
    GROUP BY host, dst_ip
),
candidates AS (
    SELECT c.*, p.first_time
    FROM host_conns c
    JOIN pairs p ON p.host = c.host AND p.dst_ip = c.dst_ip
    WHERE p.n >= {WINDOW} AND p.first_time >= p.first_seen + INTERVAL {LEARNING_DAYS} DAY
),
named AS (
    -- The host's name as Postfix knew it by then (the entity the other mail-host detections use).
    SELECT c.event_uid, min(r.name) AS name
    FROM candidates c
    JOIN relay_names r ON r.ip = c.host AND r.first_time <= c.time
    GROUP BY c.event_uid
)
SELECT c.host, n.name, c.dst_ip, c.dst_port, c.time, c.event_uid, c.up, c.down,
    dense_rank() OVER (ORDER BY c.host, c.dst_ip) AS pair,
    epoch(c.time) AS t, epoch(c.first_time) AS t_first, epoch(c.first_seen) AS t_host_first
FROM candidates c
LEFT JOIN named n ON n.event_uid = c.event_uid
ORDER BY c.host, c.dst_ip, c.time, c.event_uid
"""


def _score(con: duckdb.DuckDBPyConnection, query: str) -> Sequence[tuple[object, ...]]:
    """First connection per (mail host, new outside address) at which its last WINDOW calls keep a clock."""
    rows = con.sql(query).to_arrow_table()
    if rows.num_rows == 0:
        return []
    # The query kept only destinations new after the learning period: every visit is eligible.
    onsets = first_rhythms(
        int_column(rows, "pair"), float_column(rows, "t"), np.ones(rows.num_rows, dtype=bool), RHYTHM
    )
    return [_alert(rows, onset.rows, onset.rhythm) for onset in onsets]


def _alert(rows: pa.Table, window: npt.NDArray[np.int64], rhythm: Periodicity) -> tuple[object, ...]:
    picked = rows.take(pa.array(window)).to_pylist()
    last = picked[-1]
    at = utc(last["time"])
    first = datetime.fromtimestamp(float(last["t_first"]), UTC)
    day = int((float(last["t_first"]) - float(last["t_host_first"])) // 86400)
    up = int(np.median([v["up"] for v in picked]))
    host = f"{last['name']} ({last['host']})" if last["name"] else last["host"]
    text = (
        f"mail host {host} calls {last['dst_ip']}:{last['dst_port']} on a clock: {rhythm.explain()} "
        f"over its last {WINDOW} connections (median {up:,} bytes up); first contact {first:%Y-%m-%d %H:%MZ}, "
        f"day {day} of the host's history"
    )
    return (
        last["name"] or last["host"],
        "host",
        at,
        round(rhythm.score, 3),
        [str(v["event_uid"]) for v in picked],
        [str(last["dst_ip"])],
        text,
    )


# --------------------------------------------------------------------------- cases

_T0 = datetime(2024, 5, 1, tzinfo=UTC)
_JITTER = (0.04, -0.08, 0.02, 0.09, -0.03, 0.0, -0.06, 0.07, 0.01, -0.09, 0.05, -0.02, 0.08, -0.05)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _history() -> list[dict[str, Any]]:
    """A week of an MTA's ordinary traffic: deliveries to MX hosts, the vendor's update service hourly."""
    out = []
    for hour in range(0, 24 * 8, 3):
        out.append(zeek_conn(_iso(_T0 + timedelta(hours=hour, minutes=7)), "198.51.100.25", 25, "smtp"))
    for hour in range(24 * 8):
        out.append(zeek_conn(_iso(_T0 + timedelta(hours=hour, minutes=1)), "192.0.2.80", 443, "ssl"))
    return out


def _clock(dst: str, port: int, service: str, start: datetime, period_s: float, count: int) -> list[dict[str, Any]]:
    """``count`` calls, each sleeping the period give or take its jitter (as implants do)."""
    offsets = np.cumsum([period_s * (1 + _JITTER[k % len(_JITTER)]) for k in range(count)]).tolist()
    return [zeek_conn(_iso(start + timedelta(seconds=s)), dst, port, service, up=300, down=200) for s in offsets]


def _irregular(dst: str, start: datetime, count: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(5)
    offsets = np.cumsum(rng.exponential(1800, count)).tolist()
    return [zeek_conn(_iso(start + timedelta(seconds=s)), dst, 443, "ssl") for s in offsets]


_DAY6 = _T0 + timedelta(days=6, hours=2)

DETECTION = Detection(
    id="dt.network.mail_host_beacon",
    title="A mail host calls a new outside address on a clock (implant beacon)",
    techniques=("T1071.001", "T1029"),
    severity="medium",
    event_classes=("network",),
    description=(
        f"A host that behaves as a mail host (SMTP to the outside, or a Postfix relay) connects to one outside "
        f"address it first contacted after its first {LEARNING_DAYS} days, and its last {WINDOW} connections keep a "
        "rhythm: the intervals' spread under a third of a person's, most of them whole beats (missed beats allowed), "
        "a beat between a minute and twelve hours, not daily; SMTP, DNS and NTP are never judged. Gateway implants "
        "call home like this. Triage: the address's owner and what else contacts it, the TLS server name and "
        "certificate, the bytes each way (a beacon is small; a staged upload on the same channel is not), and the "
        "appliance's integrity (vendor advisories, unexpected processes)."
    ),
    query=_QUERY,
    scorer=_score,
    lookback=None,
    positives=(
        Case(
            "a gateway calling a new address every 10 minutes, jitter under 10%",
            (*_history(), *_clock("203.0.113.9", 443, "ssl", _DAY6, 600, 14)),
            1,
        ),
    ),
    negatives=(
        Case("the vendor's update service hourly since the start", tuple(_history()), 0),
        Case(
            "a new address contacted at irregular times",
            (*_history(), *_irregular("203.0.113.9", _DAY6, 20)),
            0,
        ),
        Case(
            "deliveries on a clock to a new MX (SMTP is not judged)",
            (*_history(), *_clock("203.0.113.25", 25, "smtp", _DAY6, 600, 14)),
            0,
        ),
        Case(
            "a clock to a new address during the learning period",
            (*_history(), *_clock("203.0.113.9", 443, "ssl", _T0 + timedelta(hours=30), 600, 14)),
            0,
        ),
    ),
)
