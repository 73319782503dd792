"""SQL shared by the mail-host network detections: which hosts are mail hosts, what is external, host names.

A mail gateway or MTA is recognised by what it does, not by a list the operator keeps:
it opens SMTP connections (port 25) to outside addresses, or Postfix names it as a
relay (``relay=mgw01[10.10.2.10]:25``).  Only those hosts are judged: a Zeek sensor
also sees workstations, which contact new addresses all day long.

Every fragment is a CTE body over ``events``; each uses only minima over the data or
joins on earlier times, so none looks ahead.
"""

from __future__ import annotations

from typing import Any

from dwelltime.detect.cases import ev

#: Days of a mail host's Zeek history before it can raise a "new destination" or volume alert.
LEARNING_DAYS = 4

#: Ports an MTA legitimately opens to anyone: SMTP to MX hosts, DNS, NTP.
ROUTINE_PORTS = "(25, 53, 123)"

#: Private, loopback, link-local, CGNAT and ULA space (text form as the parsers write it).
_PRIVATE = (
    r"^(10\.|127\.|169\.254\.|192\.168\.|172\.(1[6-9]|2[0-9]|3[01])\.|100\.(6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])\."
    r"|[fF][cCdD][0-9a-fA-F]{0,2}:|[fF][eE]80:|::1$)"
)

#: External connections opened by any host: Zeek conn rows whose responder is outside.
#: ``dnet`` is the destination network (the /24 of an IPv4 address, else the address).
EXTERNAL_CONNS = rf"""
    SELECT event_uid, time, src_ip AS host, dst_ip, dst_port, session_id,
        coalesce(bytes_in, 0) AS up, coalesce(bytes_out, 0) AS down,
        lower(coalesce(protocol, params['service'], '')) AS service,
        CASE WHEN regexp_matches(dst_ip, '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$')
            THEN regexp_extract(dst_ip, '^([0-9]+\.[0-9]+\.[0-9]+)\.', 1) || '.0/24'
            ELSE dst_ip END AS dnet
    FROM events
    WHERE event_class = 'network' AND action = 'connect'
      AND src_ip IS NOT NULL AND dst_ip IS NOT NULL AND dst_port IS NOT NULL
      AND NOT regexp_matches(dst_ip, '{_PRIVATE}')
      AND coalesce(params['local_resp'], 'false') NOT IN ('true', 'T')
"""

#: Relay names Postfix logs for addresses: ``relay=name[address]``; first time each pair was seen.
RELAY_NAMES = r"""
    SELECT ip, name, MIN(time) AS first_time
    FROM (
        SELECT time,
            regexp_extract(raw, 'relay=([A-Za-z0-9._-]+)\[([0-9A-Fa-f.:]+)\]', 2) AS ip,
            lower(regexp_extract(raw, 'relay=([A-Za-z0-9._-]+)\[([0-9A-Fa-f.:]+)\]', 1)) AS name
        FROM events
        WHERE event_class = 'mail_flow' AND raw LIKE '%relay=%'
    ) r
    WHERE ip <> '' AND name <> '' AND name <> 'none'
    GROUP BY ip, name
"""

#: The relay mention of a Postfix line (``relay=name[address]``), as kept for incremental runs.
RELAY_KEY = r"regexp_extract(raw, 'relay=([A-Za-z0-9._-]+)\[([0-9A-Fa-f.:]+)\]', 0)"

#: Mail hosts and since when they count as such (first external SMTP connection or relay mention),
#: with the first time the host appears in the network data (the start of its learning period).
MAIL_HOSTS = """
    SELECT m.host, MIN(m.since) AS mail_since, MIN(s.first_seen) AS first_seen
    FROM (
        SELECT host, MIN(time) AS since FROM ext WHERE dst_port = 25 GROUP BY host
        UNION ALL
        SELECT ip AS host, MIN(first_time) AS since FROM relay_names GROUP BY ip
    ) m
    JOIN (SELECT host, MIN(time) AS first_seen FROM ext GROUP BY host) s ON s.host = m.host
    GROUP BY m.host
"""

#: The mail gateway's address in the test cases.
GATEWAY = "10.10.2.10"


def zeek_conn(
    time: str, dst: str, port: int, service: str, up: int = 600, down: int = 900, uid: str | None = None
) -> dict[str, Any]:
    """A test case's Zeek connection from the gateway ``GATEWAY`` (up = bytes to the destination)."""
    return ev(
        time,
        event_class="network",
        action="connect",
        source_format="zeek",
        src_ip=GATEWAY,
        dst_ip=dst,
        dst_port=port,
        protocol=service,
        bytes_in=up,
        bytes_out=down,
        session_id=uid,
        params={"service": service, "local_resp": "false"},
    )
