"""A minimal MaxMind DB writer, so tests can build small databases of any vendor layout.

Only what the tests need: IPv6 trees (IPv4 networks stored under ::/96, as MaxMind does),
24-bit records, and the data types maps, strings, doubles, unsigned ints, arrays.  Written
from the MaxMind DB format specification (version 2.0).
"""

from __future__ import annotations

import ipaddress
import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

_TYPE = {"pointer": 1, "utf8": 2, "double": 3, "uint16": 5, "uint32": 6, "map": 7, "uint64": 9, "array": 11}


def _ctrl(type_name: str, size: int) -> bytes:
    t = _TYPE[type_name]
    if size < 29:
        head, extra = size, b""
    elif size < 29 + 256:
        head, extra = 29, bytes([size - 29])
    elif size < 285 + 65536:
        head, extra = 30, (size - 285).to_bytes(2, "big")
    else:
        head, extra = 31, (size - 65821).to_bytes(3, "big")
    if t <= 7:
        return bytes([(t << 5) | head]) + extra
    return bytes([head, t - 7]) + extra


def _uint(type_name: str, value: int) -> bytes:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big") if value else b""
    return _ctrl(type_name, len(raw)) + raw


def encode(value: Any) -> bytes:
    if isinstance(value, dict):
        return _ctrl("map", len(value)) + b"".join(encode(str(k)) + encode(v) for k, v in value.items())
    if isinstance(value, list):
        return _ctrl("array", len(value)) + b"".join(encode(v) for v in value)
    if isinstance(value, str):
        raw = value.encode()
        return _ctrl("utf8", len(raw)) + raw
    if isinstance(value, float):
        return _ctrl("double", 8) + struct.pack(">d", value)
    if isinstance(value, int):
        return _uint("uint32" if value < 2**32 else "uint64", value)
    raise TypeError(type(value))


def write_mmdb(path: Path, database_type: str, records: dict[str, dict[str, Any]]) -> Path:
    """Write ``records`` (CIDR -> record) as an IPv6 MaxMind DB with the given database_type."""
    nodes: list[list[Any]] = [[None, None]]
    data = b""
    for cidr, record in records.items():
        net = ipaddress.ip_network(cidr)
        # IPv4 networks live under ::/96 in an IPv6 tree.
        bits = int(net.network_address)
        plen = net.prefixlen if net.version == 6 else 96 + net.prefixlen
        offset = len(data)
        data += encode(record)
        node = 0
        for depth in range(plen):
            # Bit ``depth`` of the 128-bit key; an IPv4 key's first 96 bits are zero.
            bit = (bits >> (127 - depth)) & 1 if net.version == 6 or depth >= 96 else 0
            if depth == plen - 1:
                nodes[node][bit] = ("data", offset)
            else:
                nxt = nodes[node][bit]
                if not isinstance(nxt, int):
                    nodes.append([None, None])
                    nxt = len(nodes) - 1
                    nodes[node][bit] = nxt
                node = nxt
    count = len(nodes)

    def rec(v: Any) -> int:
        if v is None:
            return count
        if isinstance(v, tuple):
            return count + 16 + v[1]
        return int(v)

    tree = b"".join(rec(left).to_bytes(3, "big") + rec(right).to_bytes(3, "big") for left, right in nodes)
    meta = {
        "node_count": count,
        "record_size": 24,
        "ip_version": 6,
        "database_type": database_type,
        "languages": ["en"],
        "binary_format_major_version": 2,
        "binary_format_minor_version": 0,
        "build_epoch": int(time.time()),
        "description": {"en": "dwelltime test database"},
    }
    uint16 = {"record_size", "ip_version", "binary_format_major_version", "binary_format_minor_version"}

    def meta_value(k: str, v: Any) -> bytes:
        if k in uint16:
            return _uint("uint16", v)
        return _uint("uint64", v) if k == "build_epoch" else encode(v)

    meta_bytes = _ctrl("map", len(meta)) + b"".join(encode(k) + meta_value(k, v) for k, v in meta.items())
    path.write_bytes(tree + bytes(16) + data + b"\xab\xcd\xefMaxMind.com" + meta_bytes)
    return path


@pytest.fixture
def mmdb(tmp_path: Path) -> Callable[[str, str, dict[str, dict[str, Any]]], Path]:
    """Factory: mmdb(name, database_type, {cidr: record}) -> path of a fresh .mmdb."""
    return lambda name, dbtype, records: write_mmdb(tmp_path / name, dbtype, records)
