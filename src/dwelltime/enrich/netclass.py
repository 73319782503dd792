"""What kind of network an address comes from: hosting, vpn, tor, mobile, isp, private, reserved, unknown.

A sign-in from a VPS or a commercial VPN is a classic sign of a stolen session being replayed;
a sign-in from a mobile carrier is ordinary.  The class comes from small CSV lists shipped in
``data/`` (curated from public AS registrations, each file's header records source and date),
then AS-name keywords as a last resort.  Every verdict carries its *basis* so an alert can say
how much to trust it ("hosting, by AS-name keyword" is weaker than "hosting, AS16509 listed").

An analyst knows their own networks best, so a directory of user CSVs (``cidr or asn, class,
note``) overrides everything, and a Tor exit list file (one address a line, or the Tor
Project's exit-addresses format) adds per-address Tor coverage the AS lists cannot give.
"""

from __future__ import annotations

import csv
import datetime as dt
import ipaddress
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path

from dwelltime.enrich.ipaddr import special_class

__all__ = [
    "NET_CLASSES",
    "ListInfo",
    "NetClassifier",
    "Verdict",
    "asn_for_org",
    "curated_lists",
]

NET_CLASSES: tuple[str, ...] = ("hosting", "vpn", "tor", "mobile", "isp", "private", "reserved", "unknown")
_LIST_CLASSES = ("hosting", "vpn", "tor", "mobile", "isp")
_DATA = "data"
_Addr = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class Verdict:
    """A network class and why: basis is special, user-cidr, user-asn, tor-exit-list, asn-list,
    name-list, keyword or none."""

    net_class: str
    basis: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ListInfo:
    """Provenance of one list the classifier or resolver uses."""

    name: str
    kind: str
    path: str
    source: str
    date: str
    entries: int


@dataclass(frozen=True, slots=True)
class _Entry:
    asns: tuple[int, ...]
    as_org: str
    net_class: str
    note: str


def _data_path(name: str) -> Path:
    return Path(str(resources.files("dwelltime.enrich").joinpath(_DATA, name)))


def _read_commented_csv(path: Path) -> tuple[dict[str, str], list[tuple[int, list[str]]]]:
    """Header comments ``# key: value`` as a dict, and the data rows with their line numbers."""
    meta: dict[str, str] = {}
    rows: list[tuple[int, list[str]]] = []
    with path.open(encoding="utf-8", newline="") as fh:
        lines = list(enumerate(fh, start=1))
    body: list[tuple[int, str]] = []
    for no, line in lines:
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            key, sep, value = stripped[1:].partition(":")
            if sep and key.strip() and key.strip().lower() not in meta:
                meta[key.strip().lower()] = value.strip()
            continue
        body.append((no, line))
    for (no, _), row in zip(body, csv.reader(line for _, line in body), strict=True):
        rows.append((no, [c.strip() for c in row]))
    return meta, rows


def _parse_asn(text: str) -> int | None:
    t = text.strip().upper().removeprefix("AS")
    return int(t) if t.isdigit() else None


@cache
def _curated() -> tuple[tuple[_Entry, ...], tuple[ListInfo, ...]]:
    entries: list[_Entry] = []
    infos: list[ListInfo] = []
    for cls in _LIST_CLASSES:
        path = _data_path(f"net_{cls}.csv")
        meta, rows = _read_commented_csv(path)
        n = 0
        for _, row in rows[1:]:  # first row is the column header
            asn_text, org, operator, note = ([*row, "", "", "", ""])[:4]
            asns = tuple(a for a in (_parse_asn(x) for x in asn_text.split()) if a is not None)
            entries.append(_Entry(asns, org, cls, f"{operator} ({note})" if note else operator))
            n += 1
        infos.append(ListInfo(f"net_{cls}", "asn-list", path.name, meta.get("source", ""), meta.get("date", ""), n))
    return tuple(entries), tuple(infos)


@cache
def _org_index() -> dict[str, _Entry]:
    return {e.as_org.casefold(): e for e in _curated()[0] if e.as_org}


@cache
def _asn_index() -> dict[int, _Entry]:
    return {a: e for e in _curated()[0] for a in e.asns}


def asn_for_org(as_org: str) -> int | None:
    """The AS number of an AS organisation name, when the curated lists name exactly one.

    The bundled GeoLite2-derived data gives AS names but no numbers; a name shared by several
    ASNs (e.g. "SAKURA Internet Inc.") maps to none rather than to a guess.
    """
    entry = _org_index().get(as_org.casefold())
    return entry.asns[0] if entry is not None and len(entry.asns) == 1 else None


@cache
def _keywords() -> tuple[tuple[tuple[re.Pattern[str], str, str], ...], ListInfo]:
    path = _data_path("net_keywords.csv")
    meta, rows = _read_commented_csv(path)
    pats = tuple(
        (re.compile(r"(?<![a-z0-9])" + re.escape(row[0].lower()) + r"(?![a-z0-9])"), row[1], row[0])
        for _, row in rows[1:]
    )
    info = ListInfo("net_keywords", "keywords", path.name, meta.get("source", ""), meta.get("date", ""), len(pats))
    return pats, info


def curated_lists() -> list[ListInfo]:
    """Provenance of the lists shipped with dwelltime."""
    return [*_curated()[1], _keywords()[1]]


class _PrefixTable:
    """Longest-prefix match over a handful of user CIDRs: one dict per (version, length)."""

    def __init__(self) -> None:
        self._by_len: dict[tuple[int, int], dict[int, tuple[str, str]]] = {}

    def add(self, net: ipaddress.IPv4Network | ipaddress.IPv6Network, value: tuple[str, str]) -> None:
        self._by_len.setdefault((net.version, net.prefixlen), {})[int(net.network_address)] = value

    def __len__(self) -> int:
        return sum(len(d) for d in self._by_len.values())

    def ipv4_tables(self) -> list[tuple[int, dict[int, tuple[str, str]]]]:
        """The IPv4 entries as (prefix length, {network as int: value}), shortest prefix first."""
        return sorted((plen, table) for (version, plen), table in self._by_len.items() if version == 4)

    def lookup(self, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> tuple[str, str] | None:
        bits = ip.max_prefixlen
        value = int(ip)
        for (version, plen), table in sorted(self._by_len.items(), key=lambda kv: -kv[0][1]):
            if version != ip.version:
                continue
            hit = table.get(value >> (bits - plen) << (bits - plen) if plen else 0)
            if hit is not None:
                return hit
        return None


_USER_HEADER_KEYS = {"cidr", "asn", "key", "network", "cidr_or_asn", "cidr or asn"}
_TOR_FORMAT_KEYWORDS = {"exitnode", "published", "laststatus"}


class NetClassifier:
    """Classify addresses; build once per process (lists are read at construction)."""

    def __init__(self, user_dir: Path | None = None, tor_exit_file: Path | None = None) -> None:
        self._user_cidr = _PrefixTable()
        self._user_asn: dict[int, tuple[str, str]] = {}
        self._tor_ips: frozenset[str] = frozenset()
        self._user_infos: list[ListInfo] = []
        if user_dir is not None:
            for path in sorted(Path(user_dir).glob("*.csv")):
                self._load_user_csv(path)
        if tor_exit_file is not None:
            self._load_tor_file(Path(tor_exit_file))

    def _load_user_csv(self, path: Path) -> None:
        meta, rows = _read_commented_csv(path)
        n = 0
        for i, (no, row) in enumerate(rows):
            if i == 0 and row and row[0].lower() in _USER_HEADER_KEYS:
                continue
            key, cls, note = ([*row, "", "", ""])[:3]
            if cls not in NET_CLASSES:
                raise ValueError(f"{path}:{no}: class must be one of {', '.join(NET_CLASSES)}, got {cls!r}")
            value = (cls, note or f"user list {path.name}")
            asn = _parse_asn(key)
            if asn is not None:
                self._user_asn[asn] = value
            else:
                try:
                    self._user_cidr.add(ipaddress.ip_network(key, strict=False), value)
                except ValueError:
                    raise ValueError(f"{path}:{no}: expected a CIDR, an IP or an AS number, got {key!r}") from None
            n += 1
        date = meta.get("date") or _mtime(path)
        self._user_infos.append(ListInfo(path.stem, "user", str(path), meta.get("source", "user-supplied"), date, n))

    def _load_tor_file(self, path: Path) -> None:
        ips: set[str] = set()
        meta: dict[str, str] = {}
        with path.open(encoding="utf-8") as fh:
            for no, line in enumerate(fh, start=1):
                s = line.strip()
                if s.startswith("#"):
                    key, sep, value = s[1:].partition(":")
                    if sep:
                        meta.setdefault(key.strip().lower(), value.strip())
                    continue
                tokens = s.split()
                if not tokens or tokens[0].lower() in _TOR_FORMAT_KEYWORDS:
                    continue
                text = tokens[1] if tokens[0].lower() == "exitaddress" and len(tokens) > 1 else tokens[0]
                try:
                    ips.add(str(ipaddress.ip_address(text)))
                except ValueError:
                    raise ValueError(f"{path}:{no}: expected an exit address, got {text!r}") from None
        self._tor_ips = frozenset(ips)
        date = meta.get("date") or _mtime(path)
        self._user_infos.append(ListInfo(path.stem, "tor-exits", str(path), "user-supplied", date, len(ips)))

    def provenance(self) -> list[ListInfo]:
        """Every list in force, user lists first (they take precedence)."""
        return [*self._user_infos, *curated_lists()]

    def classify(self, ip: str | _Addr, asn: int | None = None, as_org: str | None = None) -> Verdict:
        """Verdict for one canonical address with its AS number and AS organisation, if known."""
        addr = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
        special = special_class(addr)
        if special is not None:
            return Verdict(special, "special")
        hit = self._user_cidr.lookup(addr) if len(self._user_cidr) else None
        if hit is not None:
            return Verdict(hit[0], "user-cidr", hit[1])
        user_as, listed = self.as_verdicts(asn, as_org)
        if user_as is not None:
            return user_as
        if self._tor_ips and str(addr) in self._tor_ips:
            return Verdict("tor", "tor-exit-list")
        return listed

    def as_verdicts(self, asn: int | None, as_org: str | None) -> tuple[Verdict | None, Verdict]:
        """The two AS-based verdicts, split around the Tor exit list in precedence.

        First: the user's AS list (it beats the Tor list); second: the curated AS lists, then
        AS names and keywords (the Tor list beats them).  They depend on the AS alone, so the
        vectorized enrichment computes them once per AS name rather than once per address.
        """
        user_as: Verdict | None = None
        if asn is not None and asn in self._user_asn:
            cls, note = self._user_asn[asn]
            user_as = Verdict(cls, "user-asn", note)
        if asn is not None:
            entry = _asn_index().get(asn)
            if entry is not None:
                return user_as, Verdict(entry.net_class, "asn-list", entry.note)
        if as_org:
            entry = _org_index().get(as_org.casefold())
            if entry is not None:
                return user_as, Verdict(entry.net_class, "name-list", entry.note)
            return user_as, _keyword_verdict(as_org.lower())
        return user_as, _UNKNOWN

    def ipv4_cidr_tables(self) -> list[tuple[int, dict[int, tuple[str, str]]]]:
        """The user's IPv4 CIDRs as (prefix length, {network: (class, note)}), shortest first."""
        return self._user_cidr.ipv4_tables()

    def ipv4_tor_exits(self) -> list[int]:
        """The Tor exit list's IPv4 addresses as integers."""
        return [int(a) for a in map(ipaddress.ip_address, self._tor_ips) if a.version == 4]


_UNKNOWN = Verdict("unknown", "none")


@lru_cache(maxsize=1 << 14)
def _keyword_verdict(as_org_lower: str) -> Verdict:
    """Keyword fallback, cached per AS name: many addresses share one name."""
    for pat, cls, word in _keywords()[0]:
        if pat.search(as_org_lower):
            return Verdict(cls, "keyword", f"AS name contains {word!r}")
    return _UNKNOWN


def _mtime(path: Path) -> str:
    return dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC).date().isoformat()
