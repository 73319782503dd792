"""A mail host uploads far more to one outside network in a day than it ever did: staged mail leaving.

A mail gateway sends mail out on port 25 and, besides that, uploads little: DNS queries,
update checks, reputation lookups, kilobytes per destination per day.  An implant on the
appliance that exfiltrates mail (UNC4841 staged compressed mail and pushed it over its
TLS channel) uploads megabytes to one address in one go.  The baseline is the host's
own: per outside network and UTC day, the bytes the host sent (Zeek's orig_bytes, i.e.
client to server), over all earlier days.  SMTP is left out: big uploads to MX hosts are
the job of a mail host.  High: many times the host's largest earlier daily upload to
any destination, above a floor of megabytes, is not how appliances behave.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dwelltime.detect.base import Case, Detection, Keep
from dwelltime.detect.rules._mailhosts import (
    EXTERNAL_CONNS,
    GATEWAY,
    LEARNING_DAYS,
    MAIL_HOSTS,
    RELAY_KEY,
    RELAY_NAMES,
    zeek_conn,
)

#: Bytes the day's upload to one destination must exceed, whatever the baseline.
FLOOR_BYTES = 5_000_000
#: Multiple of the host's past p99 per-destination daily upload, and of its past maximum.
P99_FACTOR = 20
MAX_FACTOR = 2

_QUERY = f"""
WITH ext AS ({EXTERNAL_CONNS}),
relay_names AS ({RELAY_NAMES}),
mail_hosts AS ({MAIL_HOSTS}),
uploads AS (
    SELECT e.event_uid, e.time, e.host, e.dnet, e.dst_ip, e.dst_port, e.up,
        CAST(floor(epoch(e.time) / 86400) AS BIGINT) AS day,
        CAST(floor(epoch(m.first_seen) / 86400) AS BIGINT) AS first_day,
        m.mail_since
    FROM ext e
    JOIN mail_hosts m ON m.host = e.host
    WHERE e.dst_port <> 25 AND e.service <> 'smtp'
),
daily AS (
    SELECT host, dnet, day, SUM(up) AS up FROM uploads GROUP BY host, dnet, day
),
host_days AS (
    SELECT DISTINCT host, day, first_day FROM uploads
),
baseline AS (
    SELECT d.host, d.day,
        approx_quantile(p.up, 0.99) AS p99,
        MAX(p.up) AS top,
        COUNT(DISTINCT p.day) AS past_days,
        COUNT(DISTINCT p.dnet) AS past_nets
    FROM host_days d
    JOIN daily p ON p.host = d.host AND p.day < d.day
    WHERE d.day >= d.first_day + {LEARNING_DAYS}
    GROUP BY d.host, d.day
),
running AS (
    SELECT u.*,
        SUM(u.up) OVER (PARTITION BY u.host, u.dnet, u.day ORDER BY u.time, u.event_uid
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS so_far,
        ROW_NUMBER() OVER (PARTITION BY u.host, u.dnet, u.day ORDER BY u.time, u.event_uid) AS nth
    FROM uploads u
),
judged AS (
    SELECT r.*, b.p99, b.top, b.past_days, b.past_nets,
        GREATEST({FLOOR_BYTES}, {P99_FACTOR} * b.p99, {MAX_FACTOR} * b.top) AS threshold
    FROM running r
    JOIN baseline b ON b.host = r.host AND b.day = r.day
),
crossing AS (
    SELECT * FROM judged WHERE so_far > threshold AND so_far - up <= threshold AND time >= mail_since
),
evidence AS (
    SELECT c.event_uid, list(r.event_uid) AS uids,
        nullif(array_to_string(list_sort(list(DISTINCT r.dst_ip)), ','), '') AS ips
    FROM crossing c
    JOIN running r ON r.host = c.host AND r.dnet = c.dnet AND r.day = c.day AND r.nth <= c.nth AND r.up > 0
    GROUP BY c.event_uid
),
known AS (
    SELECT c.event_uid, MIN(p.day) AS since_day
    FROM crossing c
    JOIN daily p ON p.host = c.host AND p.dnet = c.dnet AND p.day < c.day
    GROUP BY c.event_uid
),
names AS (
    SELECT c.event_uid, MIN(r.name) AS name
    FROM crossing c
    JOIN relay_names r ON r.ip = c.host AND r.first_time <= c.time
    GROUP BY c.event_uid
)
SELECT
    coalesce(n.name, c.host) AS entity,
    'host' AS entity_type,
    c.time AS time,
    LEAST(1.0, 0.6 + 0.1 * ln(c.so_far / c.threshold + 1.0) + CASE WHEN k.since_day IS NULL THEN 0.2 ELSE 0.0 END)
        AS score,
    e.uids AS event_uids,
    [c.dst_ip] AS src_ips,
    'mail host ' || coalesce(n.name || ' (' || c.host || ')', c.host) || ' uploaded '
        || CAST(round(c.so_far / 1e6, 1) AS VARCHAR) || ' MB to ' || e.ips || ' (' || c.dnet || ', port '
        || CAST(c.dst_port AS VARCHAR) || ') on ' || strftime(c.time, '%Y-%m-%d') || ' UTC in '
        || CAST(c.nth AS VARCHAR) || ' connection(s); over ' || CAST(c.past_days AS VARCHAR)
        || ' earlier days its largest daily upload to any of ' || CAST(c.past_nets AS VARCHAR)
        || ' outside networks was ' || CAST(round(c.top / 1e6, 2) AS VARCHAR) || ' MB (p99 '
        || CAST(round(c.p99 / 1e6, 2) AS VARCHAR) || ' MB); '
        || CASE WHEN k.since_day IS NULL THEN 'the host never sent anything to this network before'
            ELSE 'the host has talked to this network for ' || CAST(c.day - k.since_day AS VARCHAR) || ' day(s)' END
        AS explanation
FROM crossing c
JOIN evidence e ON e.event_uid = c.event_uid
LEFT JOIN known k ON k.event_uid = c.event_uid
LEFT JOIN names n ON n.event_uid = c.event_uid
"""

_GW = GATEWAY


def _routine(day: int) -> tuple[dict[str, Any], ...]:
    """A day of a gateway: mail to partner MX (big uploads, port 25), DNS, vendor checks, one big download."""
    d = f"2024-04-{day:02d}"
    return (
        zeek_conn(f"{d}T01:00:00Z", "203.0.113.25", 25, "smtp", up=9_000_000),
        zeek_conn(f"{d}T01:00:01Z", "8.8.8.8", 53, "dns", up=60, down=200),
        *(zeek_conn(f"{d}T{h:02d}:30:00Z", "198.51.100.40", 443, "ssl", up=4_000) for h in range(0, 24, 2)),
        zeek_conn(f"{d}T03:00:00Z", "198.51.100.41", 443, "ssl", up=3_000, down=38_000_000),
    )


_BASE = tuple(e for day in range(1, 10) for e in _routine(day))

DETECTION = Detection(
    id="dt.network.mail_host_outbound_volume",
    title="Unusually large upload from a mail host to one outside network",
    techniques=("T1041", "T1030"),
    severity="high",
    event_classes=("network",),
    description=(
        "A mail host (a source that opens SMTP connections to outside MX hosts, or that Postfix names as a relay) "
        "sends one outside network (IPv4 /24), in one UTC day and on ports other than SMTP, more than "
        f"{FLOOR_BYTES // 1_000_000} MB and more than {P99_FACTOR}x the p99 and {MAX_FACTOR}x the maximum of its "
        "own earlier per-network daily uploads (Zeek orig_bytes). Learning period: the first "
        f"{LEARNING_DAYS} days of each host's Zeek history. Gateway implants exfiltrate staged mail this way. "
        "Triage: who owns the destination, whether a backup, archive or sandbox service was configured, and "
        "whether the same address gets regular small connections (a beacon) from the host."
    ),
    query=_QUERY,
    # every Zeek row (daily volume baselines); the first Postfix mention of each relay
    lookback=timedelta(0),
    keep=(
        Keep("event_class = 'network'"),
        Keep(
            "event_class = 'mail_flow' AND raw LIKE '%relay=%'",
            (RELAY_KEY,),
        ),
    ),
    positives=(
        Case(
            "48 MB pushed to an outside server over TLS",
            (*_BASE, zeek_conn("2024-04-10T05:00:00Z", "45.76.10.20", 443, "ssl", up=48_000_000, down=20_000)),
            1,
        ),
        Case(
            "the same upload split into connections alerts once, when the day's sum crosses",
            (
                *_BASE,
                *(zeek_conn(f"2024-04-10T05:0{i}:00Z", "45.76.10.20", 443, "ssl", up=2_000_000) for i in range(6)),
            ),
            1,
        ),
    ),
    negatives=(
        Case(
            "large outbound mail to a partner MX and a big signature download",
            (*_BASE, *_routine(10), zeek_conn("2024-04-10T05:00:00Z", "203.0.113.26", 25, "smtp", up=40_000_000)),
            0,
        ),
        Case(
            "a few hundred kilobytes to a new destination",
            (*_BASE, zeek_conn("2024-04-10T05:00:00Z", "45.76.10.20", 443, "ssl", up=400_000)),
            0,
        ),
        Case(
            "a big upload inside the learning period",
            (*_BASE[:30], zeek_conn("2024-04-02T05:00:00Z", "45.76.10.20", 443, "ssl", up=48_000_000)),
            0,
        ),
    ),
)
