"""A mail gateway or MTA keeps calling an outside network it never talked to before: a beacon.

Mail gateways are appliances with a short, stable list of outside peers: DNS and NTP
servers, the vendor's update and reputation services, and the MX hosts of whoever the
organisation mails (port 25, any address on the internet).  The UNC4841 Barracuda ESG
implants (SEASPY, SALTWATER) and their kin call home from exactly such a box, to a
rented server, on a timer.  So: for a host that behaves as a mail host, a destination
network (IPv4 /24) never contacted in its history, on a port other than SMTP, DNS or
NTP, contacted again and again.  A new address of a known service (a CDN moving its
vendor's update host) is recognised by its TLS server name, when the name's domain was
already seen from the host.  High: one new peer contacted on a schedule from an
appliance that should have none is worth a person's look on its own.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dwelltime.detect.base import Case, Detection, Keep
from dwelltime.detect.cases import ev
from dwelltime.detect.rules._mailhosts import (
    EXTERNAL_CONNS,
    GATEWAY,
    LEARNING_DAYS,
    MAIL_HOSTS,
    RELAY_KEY,
    RELAY_NAMES,
    ROUTINE_PORTS,
    zeek_conn,
)

#: Connections to the new destination, and the time they must span, before it is a beacon.
MIN_CONNECTIONS = 4
MIN_SPAN_MINUTES = 30

_QUERY = rf"""
WITH ext AS ({EXTERNAL_CONNS}),
relay_names AS ({RELAY_NAMES}),
mail_hosts AS ({MAIL_HOSTS}),
sni AS (
    SELECT session_id, src_ip AS host, MIN(time) AS time,
        MIN(regexp_extract(lower(dst_host),
            '([a-z0-9-]+\.((co|ne|or|ac|go|ad|ed|gr|lg|com|net|org|gov|edu)\.)?[a-z0-9-]+)\.?$', 1)) AS domain,
        MIN(dst_host) AS server_name
    FROM events
    WHERE event_class = 'network' AND action = 'tls' AND dst_host IS NOT NULL AND session_id IS NOT NULL
    GROUP BY session_id, src_ip
),
host_conns AS (
    SELECT e.*, m.first_seen, m.mail_since, s.domain, s.server_name
    FROM ext e
    JOIN mail_hosts m ON m.host = e.host
    LEFT JOIN sni s ON s.session_id = e.session_id AND s.host = e.host
),
first_contact AS (
    SELECT host, dnet, MIN(time) AS first_time FROM host_conns GROUP BY host, dnet
),
known_domains AS (
    SELECT host, domain, MIN(time) AS first_time FROM host_conns WHERE domain IS NOT NULL GROUP BY host, domain
),
new_dests AS (
    SELECT f.host, f.dnet, f.first_time
    FROM first_contact f
    JOIN mail_hosts m ON m.host = f.host
    WHERE f.first_time >= m.first_seen + INTERVAL {LEARNING_DAYS} DAY
),
beacon_conns AS (
    SELECT c.*, n.first_time,
        ROW_NUMBER() OVER (PARTITION BY c.host, c.dnet ORDER BY c.time, c.event_uid) AS nth
    FROM host_conns c
    JOIN new_dests n ON n.host = c.host AND n.dnet = c.dnet
    LEFT JOIN known_domains k ON k.host = c.host AND k.domain = c.domain AND k.first_time < n.first_time
    WHERE c.dst_port NOT IN {ROUTINE_PORTS}
      AND c.service NOT IN ('dns', 'ntp', 'smtp')
      AND c.time >= c.mail_since
      AND k.domain IS NULL
),
completing AS (
    SELECT host, dnet, time, nth, first_time, dst_ip, dst_port
    FROM (
        SELECT *, ROW_NUMBER() OVER (PARTITION BY host, dnet ORDER BY time, event_uid) AS hit
        FROM beacon_conns
        WHERE nth >= {MIN_CONNECTIONS} AND time >= first_time + INTERVAL {MIN_SPAN_MINUTES} MINUTE
    ) q
    WHERE hit = 1
),
evidence AS (
    SELECT a.host, a.dnet,
        list(b.event_uid) AS uids,
        list(DISTINCT b.dst_ip) AS ips,
        nullif(array_to_string(list_sort(list(DISTINCT CAST(b.dst_port AS VARCHAR))), ','), '') AS ports,
        nullif(array_to_string(list_sort(list(DISTINCT b.server_name)), ','), '') AS names,
        CAST(avg(b.up) AS BIGINT) AS avg_up,
        CAST(avg(b.down) AS BIGINT) AS avg_down,
        COUNT(DISTINCT b.dst_ip) AS n_ips
    FROM completing a
    JOIN beacon_conns b ON b.host = a.host AND b.dnet = a.dnet AND b.nth <= a.nth
    GROUP BY a.host, a.dnet
),
peers AS (
    SELECT a.host, a.dnet, COUNT(DISTINCT f.dnet) AS known_nets
    FROM completing a
    JOIN first_contact f ON f.host = a.host AND f.first_time < a.first_time
    GROUP BY a.host, a.dnet
),
names AS (
    SELECT a.host, a.dnet, MIN(r.name) AS name
    FROM completing a
    JOIN relay_names r ON r.ip = a.host AND r.first_time <= a.time
    GROUP BY a.host, a.dnet
)
SELECT
    coalesce(n.name, a.host) AS entity,
    'host' AS entity_type,
    a.time AS time,
    CASE WHEN e.names IS NULL THEN 1.0 ELSE 0.8 END AS score,
    e.uids AS event_uids,
    e.ips AS src_ips,
    'mail host ' || coalesce(n.name || ' (' || a.host || ')', a.host) || ' made '
        || CAST(a.nth AS VARCHAR) || ' connections in '
        || CAST(round((epoch(a.time) - epoch(a.first_time)) / 3600.0, 1) AS VARCHAR) || ' h to '
        || a.dst_ip || ' (' || a.dnet || ') port ' || e.ports || ', '
        || coalesce('TLS server name ' || e.names, 'no TLS server name')
        || ', a network it never contacted before in '
        || CAST(CAST(floor((epoch(a.first_time) - epoch(m.first_seen)) / 86400.0) AS BIGINT) AS VARCHAR)
        || ' days of history (it knew ' || CAST(coalesce(p.known_nets, 0) AS VARCHAR) || ' outside networks); '
        || 'first contact ' || strftime(a.first_time, '%Y-%m-%d %H:%M') || ' UTC; average '
        || CAST(e.avg_up AS VARCHAR) || ' B up / ' || CAST(e.avg_down AS VARCHAR) || ' B down per connection'
        AS explanation
FROM completing a
JOIN evidence e ON e.host = a.host AND e.dnet = a.dnet
JOIN mail_hosts m ON m.host = a.host
LEFT JOIN peers p ON p.host = a.host AND p.dnet = a.dnet
LEFT JOIN names n ON n.host = a.host AND n.dnet = a.dnet
"""

_GW = GATEWAY


def _tls(time: str, dst: str, name: str, uid: str) -> dict[str, Any]:
    return ev(
        time,
        event_class="network",
        action="tls",
        source_format="zeek",
        src_ip=_GW,
        dst_ip=dst,
        dst_port=443,
        protocol="tls",
        dst_host=name,
        session_id=uid,
    )


def _routine(day: int) -> tuple[dict[str, Any], ...]:
    """One day of a gateway's normal outside traffic: SMTP to a partner MX, DNS, NTP, vendor updates."""
    d = f"2024-04-{day:02d}"
    uid = f"Cvendor{day}"
    return (
        zeek_conn(f"{d}T01:00:00Z", "203.0.113.25", 25, "smtp", up=48_000),
        zeek_conn(f"{d}T01:00:01Z", "8.8.8.8", 53, "dns", up=60, down=200),
        zeek_conn(f"{d}T01:10:00Z", "133.243.238.163", 123, "ntp", up=48, down=48),
        zeek_conn(f"{d}T02:00:00Z", "198.51.100.40", 443, "ssl", uid=uid),
        _tls(f"{d}T02:00:00Z", "198.51.100.40", "av-update.mailsec.example.com", uid),
    )


_BASE = tuple(e for day in range(1, 10) for e in _routine(day))


def _beacons(start_hour: int, count: int, every_minutes: int, dst: str = "45.76.10.20") -> tuple[dict[str, Any], ...]:
    out = []
    for i in range(count):
        minutes = start_hour * 60 + i * every_minutes
        out.append(zeek_conn(f"2024-04-10T{minutes // 60:02d}:{minutes % 60:02d}:00Z", dst, 443, "ssl"))
    return tuple(out)


DETECTION = Detection(
    id="dt.network.mail_host_new_destination",
    title="Mail host beacons to an outside network it never contacted",
    techniques=("T1071.001", "T1571", "T1190"),
    severity="high",
    event_classes=("network",),
    description=(
        "A mail host (a source that opens SMTP connections to outside MX hosts, or that Postfix names as a relay) "
        f"connects at least {MIN_CONNECTIONS} times over at least {MIN_SPAN_MINUTES} minutes to an outside network "
        "(IPv4 /24) it never contacted before, on a port other than SMTP 25, DNS 53 or NTP 123, and without a TLS "
        f"server name whose domain the host already used. Learning period: the first {LEARNING_DAYS} days of each "
        "host's Zeek history. This is how gateway implants call home (UNC4841 on Barracuda ESG). Triage: who owns "
        "the address (hosting provider?), whether the vendor documents it, the regularity of the connections, and "
        "any large upload to it (dt.network.mail_host_outbound_volume); isolate the appliance if unexplained."
    ),
    query=_QUERY,
    # every Zeek row of the (few) network events; the first Postfix mention of each relay
    lookback=timedelta(0),
    keep=(
        Keep("event_class = 'network'"),
        Keep(
            "event_class = 'mail_flow' AND raw LIKE '%relay=%'",
            (RELAY_KEY,),
        ),
    ),
    positives=(
        Case("hourly TLS beacon with no server name to a new VPS", (*_BASE, *_beacons(3, 5, 60)), 1),
        Case("five-minute beacon", (*_BASE, *_beacons(3, 12, 5)), 1),
    ),
    negatives=(
        Case("the gateway's normal SMTP, DNS, NTP and vendor traffic", (*_BASE, *_routine(10)), 0),
        Case(
            "a new partner MX on port 25 and a new DNS resolver",
            (
                *_BASE,
                *(zeek_conn(f"2024-04-10T0{h}:00:00Z", "192.0.2.77", 25, "smtp", up=30_000) for h in range(1, 7)),
                *(zeek_conn(f"2024-04-10T0{h}:00:00Z", "1.1.1.1", 53, "dns", up=60) for h in range(1, 7)),
            ),
            0,
        ),
        Case(
            "the vendor's update service moves to a new address, same TLS server name",
            (
                *_BASE,
                *(
                    e
                    for h in range(1, 7)
                    for e in (
                        zeek_conn(f"2024-04-10T0{h}:00:00Z", "192.0.2.140", 443, "ssl", uid=f"Cnew{h}"),
                        _tls(f"2024-04-10T0{h}:00:00Z", "192.0.2.140", "av-update.mailsec.example.com", f"Cnew{h}"),
                    )
                ),
            ),
            0,
        ),
        Case("a single contact is not a beacon", (*_BASE, *_beacons(3, 1, 60)), 0),
        Case(
            "beacons inside the host's learning period",
            (*_BASE[:15], *(zeek_conn(f"2024-04-04T0{h}:00:00Z", "45.76.10.20", 443, "ssl") for h in range(1, 7))),
            0,
        ),
    ),
)
