"""Canonical IP text and special-purpose address ranges.

Logs write one address many ways ("1.2.3.4:5678", "[2001:db8::1]:443", "::ffff:1.2.3.4",
"fe80::1%eth0"); detections group and join on ``src_ip``, so every form must collapse to one
text before it is stored or looked up.  The same few thousand addresses recur millions of
times, hence the cache and the dictionary-encoded vectorized variant.

The private / reserved split is done from our own copy of the IANA special-purpose registries
rather than ``ipaddress.is_private`` / ``is_global``: those flags changed between Python patch
releases (CVE-2024-4032), and an enrichment that changes with the interpreter patch level
would make stored data irreproducible.
"""

from __future__ import annotations

import bisect
import ipaddress
from functools import lru_cache

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["canonical_ip", "canonical_ips", "parse_ip", "special_class"]

# Longest plausible address text with port, brackets and a zone id; anything longer is not an
# address, and refusing it early keeps attacker-sized strings out of the cache.
_MAX_LEN = 80


def canonical_ip(text: str | None) -> str | None:
    """Canonical text of an address (IPv4 dotted, IPv6 compressed lower-case), or None.

    Strips surrounding whitespace, a ``:port`` after an IPv4 address or after a bracketed IPv6
    address, brackets, an ``IPv6:`` tag (SMTP address literals), a ``%zone`` suffix, and turns an
    IPv4-mapped IPv6 address into the IPv4 address.  Bare IPv6 with a trailing ``:port`` is not
    separable from a valid address and is read as an address.
    """
    parsed = parse_ip(text)
    return parsed[0] if parsed is not None else None


def parse_ip(text: str | None) -> tuple[str, ipaddress.IPv4Address | ipaddress.IPv6Address] | None:
    """Canonical text and address object (see :func:`canonical_ip`), or None; cached."""
    if text is None or len(text) > _MAX_LEN:
        return None
    return _parse(text)


@lru_cache(maxsize=1 << 16)
def _parse(text: str) -> tuple[str, ipaddress.IPv4Address | ipaddress.IPv6Address] | None:
    s = text.strip()
    if not s:
        return None
    if s[0] == "[":
        end = s.find("]")
        if end < 0:
            return None
        rest = s[end + 1 :]
        if rest and not (rest[0] == ":" and rest[1:].isdigit()):
            return None
        s = s[1:end]
    elif s.count(":") == 1:
        host, _, port = s.partition(":")
        if not port.isdigit():
            return None
        s = host
    if s[:5].lower() == "ipv6:":
        s = s[5:]
    s = s.partition("%")[0]
    try:
        ip = ipaddress.ip_address(s)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return str(ip), ip


def canonical_ips(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Vectorized :func:`canonical_ip`: each distinct text is parsed once; nulls stay null."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks else pa.array([], pa.string())
    if not pa.types.is_string(arr.type):
        arr = arr.cast(pa.string())
    enc = pc.dictionary_encode(arr)
    values = [canonical_ip(v) for v in enc.dictionary.to_pylist()]
    return pc.take(pa.array(values, pa.string()), enc.indices)


# IANA IPv4 / IPv6 Special-Purpose Address Registries (as of 2024), reduced to two classes:
# "private" = space an organisation uses internally (RFC 1918, CGNAT, loopback, link-local,
# ULA) -- worth telling apart because internal hosts show up in server logs;
# "reserved" = everything else that is never a real client on the Internet.
_SPECIAL: tuple[tuple[str, str], ...] = (
    ("10.0.0.0/8", "private"),
    ("172.16.0.0/12", "private"),
    ("192.168.0.0/16", "private"),
    ("100.64.0.0/10", "private"),
    ("127.0.0.0/8", "private"),
    ("169.254.0.0/16", "private"),
    ("fc00::/7", "private"),
    ("fe80::/10", "private"),
    ("::1/128", "private"),
    ("0.0.0.0/8", "reserved"),
    ("192.0.0.0/24", "reserved"),
    ("192.0.2.0/24", "reserved"),
    ("192.88.99.0/24", "reserved"),
    ("198.18.0.0/15", "reserved"),
    ("198.51.100.0/24", "reserved"),
    ("203.0.113.0/24", "reserved"),
    ("224.0.0.0/4", "reserved"),
    ("240.0.0.0/4", "reserved"),
    ("::/128", "reserved"),
    ("64:ff9b:1::/48", "reserved"),
    ("100::/64", "reserved"),
    ("2001::/23", "reserved"),
    ("2001:db8::/32", "reserved"),
    ("3fff::/20", "reserved"),
    ("5f00::/16", "reserved"),
    ("ff00::/8", "reserved"),
)


def _build_ranges(version: int) -> tuple[list[int], list[int], list[int], list[str]]:
    nets = sorted(
        (int(n.network_address), int(n.broadcast_address), k)
        for n, k in ((ipaddress.ip_network(c), k) for c, k in _SPECIAL)
        if n.version == version
    )
    max_end: list[int] = []
    for _, end, _ in nets:
        max_end.append(max(end, max_end[-1]) if max_end else end)
    return [s for s, _, _ in nets], [e for _, e, _ in nets], max_end, [k for _, _, k in nets]


_RANGES = {4: _build_ranges(4), 6: _build_ranges(6)}


def special_class(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """ "private", "reserved", or None for an ordinary (globally routed) address."""
    starts, ends, max_end, kinds = _RANGES[ip.version]
    value = int(ip)
    # Blocks may nest (2001:db8::/32 inside 2001::/23): walk back from the nearest start while
    # some earlier block could still reach the address.
    i = bisect.bisect_right(starts, value) - 1
    while i >= 0 and max_end[i] >= value:
        if ends[i] >= value:
            return kinds[i]
        i -= 1
    return None
