"""Zeek ``conn.log`` and ``ssl.log`` in Zeek's default TSV form.

Each file starts with the header block Zeek writes (``#separator \\x09``,
``#set_separator``, ``#empty_field``, ``#unset_field``, ``#path``, ``#open``, ``#fields``,
``#types``) and :meth:`ZeekWriter.close` appends ``#close``.  Times are epoch seconds
with microseconds; ``#open``/``#close`` are in UTC (a sensor with ``TZ=UTC``).  The
field lists are Zeek 6's defaults without optional policy scripts.  One file per log for
the whole run (``zeek/conn.log``, ``zeek/ssl.log``), not Zeek's hourly rotation, which
would multiply files without changing a record.

A Connection becomes one conn.log record; when it is TLS (service ``ssl``, an SNI, or a
TLS port) also one ssl.log record with the same ``uid``, which is how Zeek links them.
"""

from __future__ import annotations

import ipaddress
import math
from datetime import datetime, timedelta
from pathlib import Path

from dwelltime.simulate.activity import Activity, Connection
from dwelltime.simulate.model import Org
from dwelltime.simulate.writers._base import LineFiles, RecordRef, component_rng

FORMAT = "zeek"
CONN = "zeek/conn.log"
SSL = "zeek/ssl.log"
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_TLS_PORTS = frozenset({443, 465, 853, 993, 995, 8443})

CONN_FIELDS = (
    ("ts", "time"),
    ("uid", "string"),
    ("id.orig_h", "addr"),
    ("id.orig_p", "port"),
    ("id.resp_h", "addr"),
    ("id.resp_p", "port"),
    ("proto", "enum"),
    ("service", "string"),
    ("duration", "interval"),
    ("orig_bytes", "count"),
    ("resp_bytes", "count"),
    ("conn_state", "string"),
    ("local_orig", "bool"),
    ("local_resp", "bool"),
    ("missed_bytes", "count"),
    ("history", "string"),
    ("orig_pkts", "count"),
    ("orig_ip_bytes", "count"),
    ("resp_pkts", "count"),
    ("resp_ip_bytes", "count"),
    ("tunnel_parents", "set[string]"),
)
SSL_FIELDS = (
    ("ts", "time"),
    ("uid", "string"),
    ("id.orig_h", "addr"),
    ("id.orig_p", "port"),
    ("id.resp_h", "addr"),
    ("id.resp_p", "port"),
    ("version", "string"),
    ("cipher", "string"),
    ("curve", "string"),
    ("server_name", "string"),
    ("resumed", "bool"),
    ("last_alert", "string"),
    ("next_protocol", "string"),
    ("established", "bool"),
    ("ssl_history", "string"),
    ("cert_chain_fps", "vector[string]"),
    ("client_cert_chain_fps", "vector[string]"),
    ("sni_matches_cert", "bool"),
)


def header(path: str, fields: tuple[tuple[str, str], ...], opened: datetime) -> list[str]:
    return [
        "#separator \\x09",
        "#set_separator\t,",
        "#empty_field\t(empty)",
        "#unset_field\t-",
        f"#path\t{path}",
        f"#open\t{_zeek_stamp(opened)}",
        "#fields\t" + "\t".join(name for name, _ in fields),
        "#types\t" + "\t".join(kind for _, kind in fields),
    ]


def _zeek_stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%d-%H-%M-%S")


def _epoch(when: datetime) -> str:
    return f"{when.timestamp():.6f}"


class ZeekWriter:
    format = FORMAT

    def __init__(self, out_dir: Path, org: Org, seed: int = 0) -> None:
        self.org = org
        self._files = LineFiles.acquire(out_dir)
        self._rng = component_rng(org, seed, "writer:zeek")
        self._last: datetime | None = None
        self._local_hosts = frozenset(h.ip for h in org.hosts)
        self._local_cache: dict[str, str] = {}
        self._sport = 0  # the originator port of the connection being written (shared by conn and ssl)

    def write(self, activity: Activity) -> list[RecordRef]:
        if not isinstance(activity, Connection):
            return []
        c = activity
        uid = self.uid()
        end = c.time + timedelta(seconds=c.duration_s)
        self._last = end if self._last is None or end > self._last else self._last
        refs = [RecordRef(FORMAT, CONN, self._append(CONN, "conn", CONN_FIELDS, c.time, self._conn(c, uid)), uid)]
        if self._is_tls(c):
            line = self._append(SSL, "ssl", SSL_FIELDS, c.time, self._ssl(c, uid))
            refs.append(RecordRef(FORMAT, SSL, line, uid))
        return refs

    def close(self) -> None:
        if self._last is not None:
            closed = _zeek_stamp(self._last + timedelta(seconds=1))
            for rel in (CONN, SSL):
                if self._files.lines(rel):
                    self._files.append(rel, [f"#close\t{closed}"])
        self._files.release()

    def uid(self) -> str:
        """Zeek's connection uid: "C" and 17 base62 characters."""
        n = self._rng.getrandbits(102)
        chars = []
        for _ in range(17):
            n, r = divmod(n, 62)
            chars.append(_B62[r])
        return "C" + "".join(chars)

    def _append(self, rel: str, path: str, fields: tuple[tuple[str, str], ...], when: datetime, row: str) -> int:
        if not self._files.lines(rel):
            self._files.append(rel, header(path, fields, when))
        return self._files.append(rel, [row])

    def _is_tls(self, c: Connection) -> bool:
        return c.proto == "tcp" and (c.service == "ssl" or bool(c.server_name) or c.dst_port in _TLS_PORTS)

    def _local(self, ip: str) -> str:
        """Zeek's local_orig/local_resp: the org's hosts and private space count as local."""
        known = self._local_cache.get(ip)
        if known is None:
            try:
                known = "T" if ip in self._local_hosts or ipaddress.ip_address(ip).is_private else "F"
            except ValueError:
                known = "F"
            if len(self._local_cache) < 100_000:
                self._local_cache[ip] = known
        return known

    def _conn(self, c: Connection, uid: str) -> str:
        rng = self._rng
        sport = rng.randint(32_768, 60_999)
        tcp = c.proto == "tcp"
        mss = 1448
        if tcp:
            orig_pkts = 3 + math.ceil(c.bytes_orig / mss) + math.ceil(c.bytes_resp / (2 * mss))
            resp_pkts = 2 + math.ceil(c.bytes_resp / mss) + math.ceil(c.bytes_orig / (2 * mss))
            overhead = 52
            history = "ShADadFf" if c.bytes_orig or c.bytes_resp else "ShAFf"
        else:
            orig_pkts = max(1, math.ceil(c.bytes_orig / 1_200))
            resp_pkts = max(1, math.ceil(c.bytes_resp / 1_200)) if c.bytes_resp else 0
            overhead = 28
            history = "Dd" if c.bytes_resp else "D"
        service = c.service or ("ssl" if self._is_tls(c) else "-")
        state = "SF" if tcp or c.bytes_resp else "S0"
        fields = (
            _epoch(c.time),
            uid,
            c.network.ip,
            str(sport),
            c.dst_ip,
            str(c.dst_port),
            c.proto,
            service,
            f"{c.duration_s:.6f}",
            str(c.bytes_orig),
            str(c.bytes_resp),
            state,
            self._local(c.network.ip),
            self._local(c.dst_ip),
            "0",
            history,
            str(orig_pkts),
            str(c.bytes_orig + overhead * orig_pkts),
            str(resp_pkts),
            str(c.bytes_resp + overhead * resp_pkts),
            "-",
        )
        self._sport = sport
        return "\t".join(fields)

    def _ssl(self, c: Connection, uid: str) -> str:
        rng = self._rng
        tls13 = rng.random() < 0.8
        when = c.time + timedelta(seconds=rng.uniform(0.005, 0.12))
        if tls13:
            version, cipher, history, certs, matches = "TLSv13", "TLS_AES_128_GCM_SHA256", "CsiI", "(empty)", "-"
            if rng.random() < 0.4:
                cipher = "TLS_AES_256_GCM_SHA384"
        else:
            version, cipher, history = "TLSv12", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "CsxknGIi"
            certs = ",".join(f"{rng.getrandbits(256):064x}" for _ in range(2))
            matches = "T" if c.server_name else "-"
        fields = (
            _epoch(when),
            uid,
            c.network.ip,
            str(self._sport),
            c.dst_ip,
            str(c.dst_port),
            version,
            cipher,
            "x25519",
            c.server_name or "-",
            "F",
            "-",
            "h2" if c.dst_port == 443 and c.server_name and rng.random() < 0.5 else "-",
            "T",
            history,
            certs,
            "(empty)",
            matches,
        )
        return "\t".join(fields)
