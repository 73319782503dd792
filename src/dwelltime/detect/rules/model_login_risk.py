"""A successful sign-in far likelier under "an attacker" than under the user's own history (login risk model).

The rules judge one feature at a time (a new AS, a new protocol, a far-away country); a
person's ordinary change of habits trips one of them now and then, and a careful intruder
trips none.  The model (:mod:`dwelltime.detect.models.login_risk`, after Freeman et al.)
weighs every feature of the sign-in together against the user's history and the
organisation's: network (country, AS, address), user agent (OS, browser, string), client
or protocol, and hour of the week.  It alerts when the likelihood ratio is at least
:data:`ALERT_AT` (log10), and says which features made it so and from what counts.

Replay-safe: the model scores every sign-in against what was learned strictly before it,
and sign-ins it finds strange are not learned, so an intruder's months of access never
become "the user's normal".  It reads all sign-ins on every run (no lookback); the
vectorised replay scores a million sign-ins in seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from dwelltime.detect.base import Case, Detection
from dwelltime.detect.cases import signin
from dwelltime.detect.models.login_replay import replay
from dwelltime.detect.models.login_risk import LEARN_BELOW, LEVELS

#: log10 likelihood ratio at which a sign-in alerts: the model's learn filter threshold, so
#: what alerts is exactly what is kept out of the user's baseline.
ALERT_AT = LEARN_BELOW
#: How each level is named in explanations.
_NAMES = {
    "country": "country",
    "asn": "network",
    "ip": "address",
    "os": "OS",
    "browser": "browser",
    "agent": "user agent",
    "client": "client",
    "hour": "hour",
}

INPUT_SQL = """
SELECT user, CAST(epoch_us(time) AS BIGINT) AS time_us, time, event_uid, country, asn, as_org, src_ip AS ip, net,
    user_agent AS agent, protocol AS client
FROM logins
WHERE outcome = 'success'
"""


def model_input(rows: pa.Table) -> pa.Table:
    """The replay's input (see :func:`dwelltime.detect.models.login_replay.replay`) from rows of :data:`INPUT_SQL`."""
    return pa.table(
        {
            "user": rows.column("user"),
            "time_us": rows.column("time_us"),
            "country": rows.column("country"),
            "asn": rows.column("asn").cast(pa.int64()),
            "ip": rows.column("ip"),
            "net_class": rows.column("net"),
            "agent": rows.column("agent"),
            "client": rows.column("client"),
        }
    )


def _score(con: duckdb.DuckDBPyConnection, query: str) -> Sequence[tuple[object, ...]]:
    rows = con.sql(query).to_arrow_table()
    if rows.num_rows == 0:
        return []
    result = replay(model_input(rows))
    hits = _first_per_network(rows, np.flatnonzero(result.score >= ALERT_AT))
    if len(hits) == 0:
        return []
    picked = rows.take(pa.array(hits))
    columns = {name: picked.column(name).to_pylist() for name in ("user", "time", "event_uid", "ip", "as_org", "net")}
    values = _level_values(picked)
    out: list[tuple[object, ...]] = []
    for row, (index, details) in enumerate(zip(hits.tolist(), result.details(hits), strict=True)):
        parts = sorted(
            ((details[level].log_ratio, level) for level in LEVELS if details[level].log_ratio > 0.3),
            reverse=True,
        )
        explained = []
        for ratio, level in parts[:4]:
            c_u, n_u, c_o = details[level].user_count, details[level].user_total, details[level].org_count
            explained.append(
                f"{_NAMES[level]} {values[level][row]}: {c_u} of the user's {n_u:,} sign-ins, "
                f"used by {c_o:,} other {'person' if c_o == 1 else 'people'} (x{10**ratio:,.0f})"
            )
        when = columns["time"][row]
        if isinstance(when, datetime) and when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        score = float(result.score[index])
        ip = columns["ip"][row]
        text = (
            f"sign-in {10**score:,.0f} times likelier an attacker's than {columns['user'][row]}'s "
            f"(log10 ratio {score:.1f}) from {ip or 'unknown address'}"
            + (f" {columns['as_org'][row]}" if columns["as_org"][row] else "")
            + f" ({columns['net'][row]}); "
            + "; ".join(explained)
        )
        out.append(
            (
                columns["user"][row],
                "user",
                when,
                min(1.0, score / 10.0),
                [columns["event_uid"][row]],
                [ip] if ip else [],
                text,
            )
        )
    return out


def risk_of(score: float) -> int:
    """Risk points of an alert from its score (the log10 likelihood ratio over 10, at most 1).

    10 points at the alert threshold (10^4), 5 more per order of magnitude, at most 25 (a
    medium alert's): a likelier-attacker sign-in weighs more, but a sign-in's context alone
    never opens an incident.  Half the mailbox profile's slope, because people's ordinary
    changes (a trip abroad on a new laptop) produce this evidence too, while reading the
    folders one never reads is what an intruder is there for.

    >>> risk_of(0.4), risk_of(0.5), risk_of(0.6), risk_of(0.75), risk_of(1.0)
    (10, 15, 20, 25, 25)
    """
    return int(max(10, min(25, round(10 + 5 * (10 * score - ALERT_AT)))))


def _first_per_network(rows: pa.Table, hits: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """The first alerting sign-in of each (user, AS or address): one alert per strange network.

    A flagged network is never learned, so each later sign-in from it scores as high; the
    first says all there is to say (and repeated alerts would pile up risk on one oddity).
    """
    if len(hits) == 0:
        return hits
    picked = rows.select(["user", "time_us", "asn", "ip"]).take(pa.array(hits)).to_pylist()
    order = sorted(range(len(hits)), key=lambda i: (picked[i]["time_us"], i))
    seen: set[tuple[object, object]] = set()
    kept = []
    for i in order:
        row = picked[i]
        key = (row["user"], row["asn"] if row["asn"] is not None else row["ip"])
        if key not in seen:
            seen.add(key)
            kept.append(hits[i])
    return np.array(sorted(kept), dtype=np.int64)


def _level_values(picked: pa.Table) -> dict[str, list[object]]:
    from dwelltime.detect.models.login_risk import agent_levels, hour_of_week

    agents = picked.column("agent").to_pylist()
    families = [agent_levels(a) for a in agents]
    seconds = pc.divide(picked.column("time_us"), 1_000_000).to_pylist()
    asn = picked.column("asn").to_pylist()
    return {
        "country": picked.column("country").to_pylist(),
        "asn": [None if a is None else f"AS{a}" for a in asn],
        "ip": picked.column("ip").to_pylist(),
        "os": [f[0] for f in families],
        "browser": [f[1] for f in families],
        "agent": [f[2] for f in families],
        "client": picked.column("client").to_pylist(),
        "hour": [None if s is None else _hour_text(hour_of_week(float(s))) for s in seconds],
    }


def _hour_text(hour: int) -> str:
    return f"{('Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun')[hour // 24]} {hour % 24:02d}h UTC"


_BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"


def _signin(
    time: str, user: str, ip: str, asn: int, org: str, net: str, agent: str, protocol: str, country: str = "JP"
) -> dict[str, object]:
    return signin(time, user, ip, asn, org, net, country, user_agent=agent, protocol=protocol)


#: Four weeks of six colleagues signing in from the office ISP at 09:xx JST on weekdays.
_HISTORY = tuple(
    _signin(
        f"2024-05-{d:02d}T00:{10 + k:02d}:00Z",
        f"user{k}@agency.example.jp",
        f"203.0.113.{k}",
        2516,
        "KDDI",
        "isp",
        _BROWSER,
        "browser",
    )
    for d in range(1, 29)
    if datetime(2024, 5, d).weekday() < 5
    for k in range(6)
)

DETECTION = Detection(
    id="dt.signin.login_risk",
    title="Sign-in far likelier an attacker's than the user's (login risk model)",
    techniques=("T1078", "T1078.004"),
    severity="low",
    event_classes=("auth",),
    description=(
        "Scores each successful sign-in with a likelihood ratio: how probable its network (country, AS, address), "
        "user agent (OS, browser, string), client and hour of week are for an attacker versus for this user, with "
        "the user's history smoothed towards the organisation's (Witten-Bell) and strange sign-ins kept out of the "
        "baseline. Alerts at a ratio of 10,000 or more, once per user and network. "
        "Low: it weighs many small oddities, and a person's trip abroad on a new laptop can reach it; it speeds up "
        "incidents that other signals open. Risk grows with the ratio, from 10 points at 10,000 to 25 at 10^7 or "
        "more (risk_of), so alone it never opens an incident. Triage: the explanation lists each unusual feature "
        "with the user's and the organisation's counts; ask the user about that sign-in."
    ),
    query=INPUT_SQL,
    scorer=_score,
    risk_of=risk_of,
    lookback=None,
    positives=(
        Case(
            "a script on a VPS abroad signs in over IMAP at 03:00 JST",
            (
                *_HISTORY,
                _signin(
                    "2024-05-29T18:05:00Z",
                    "user2@agency.example.jp",
                    "198.51.100.9",
                    14061,
                    "DigitalOcean",
                    "hosting",
                    "python-requests/2.31",
                    "imap",
                    "SG",
                ),
            ),
            1,
        ),
    ),
    negatives=(
        Case(
            "a new address in the office ISP and a colleague's usual sign-ins",
            (
                *_HISTORY,
                _signin(
                    "2024-05-29T00:12:00Z",
                    "user2@agency.example.jp",
                    "203.0.113.77",
                    2516,
                    "KDDI",
                    "isp",
                    _BROWSER,
                    "browser",
                ),
            ),
            0,
        ),
        Case(
            "the user's phone on the mobile carrier in the evening",
            (
                *_HISTORY,
                _signin(
                    "2024-05-29T11:40:00Z",
                    "user2@agency.example.jp",
                    "192.0.2.44",
                    2516,
                    "KDDI",
                    "mobile",
                    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Safari/604.1",
                    "browser",
                ),
            ),
            0,
        ),
    ),
)
