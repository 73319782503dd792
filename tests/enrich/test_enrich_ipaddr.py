"""Canonical address text and the private/reserved split."""

from __future__ import annotations

import ipaddress

import pyarrow as pa
import pytest

from dwelltime.enrich.ipaddr import canonical_ip, canonical_ips, special_class


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.2.3.4", "1.2.3.4"),
        (" 1.2.3.4 ", "1.2.3.4"),
        ("1.2.3.4:5678", "1.2.3.4"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("[2001:DB8:0:0:0:0:0:1]", "2001:db8::1"),
        ("2001:0db8:0000::0001", "2001:db8::1"),
        ("::ffff:1.2.3.4", "1.2.3.4"),
        ("[::ffff:1.2.3.4]:993", "1.2.3.4"),
        ("::ffff:0102:0304", "1.2.3.4"),
        ("fe80::1%eth0", "fe80::1"),
        ("[fe80::1%25en0]:22", "fe80::1"),
        ("IPv6:2001:db8::2", "2001:db8::2"),
        ("garbage", None),
        ("", None),
        ("1.2.3.4:http", None),
        ("1.2.3", None),
        ("01.2.3.4", None),
        ("256.1.1.1", None),
        ("[2001:db8::1", None),
        ("[2001:db8::1]x", None),
        ("1.2.3.4" + " " * 100, None),
        (None, None),
    ],
)
def test_canonical_ip(text: str | None, expected: str | None) -> None:
    assert canonical_ip(text) == expected


def test_canonical_ips_keeps_nulls_and_order() -> None:
    arr = pa.array(["1.2.3.4:1", None, "bad", "[2001:db8::1]:443", "1.2.3.4"], pa.string())
    assert canonical_ips(arr).to_pylist() == ["1.2.3.4", None, None, "2001:db8::1", "1.2.3.4"]


def test_canonical_ips_accepts_string_view_and_chunked() -> None:
    view = pa.array(["::ffff:8.8.8.8", None], pa.string()).cast(pa.string_view())
    assert canonical_ips(view).to_pylist() == ["8.8.8.8", None]
    chunked = pa.chunked_array([pa.array(["1.1.1.1:53"]), pa.array(["x", "1.1.1.1"])])
    out = canonical_ips(chunked)
    assert out.type == pa.string()
    assert out.to_pylist() == ["1.1.1.1", None, "1.1.1.1"]


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        ("10.1.2.3", "private"),
        ("172.31.255.255", "private"),
        ("172.32.0.1", None),
        ("192.168.0.1", "private"),
        ("100.64.0.1", "private"),
        ("127.0.0.1", "private"),
        ("169.254.1.1", "private"),
        ("fd00::1", "private"),
        ("fe80::1", "private"),
        ("::1", "private"),
        ("192.0.2.1", "reserved"),
        ("198.51.100.7", "reserved"),
        ("203.0.113.9", "reserved"),
        ("0.1.2.3", "reserved"),
        ("224.0.0.251", "reserved"),
        ("255.255.255.255", "reserved"),
        ("2001:db8::1", "reserved"),
        ("2001:1ff::1", "reserved"),
        ("ff02::1", "reserved"),
        ("::", "reserved"),
        ("8.8.8.8", None),
        ("2001:4860:4860::8888", None),
        ("2400:4050::1", None),
    ],
)
def test_special_class(ip: str, expected: str | None) -> None:
    assert special_class(ipaddress.ip_address(ip)) == expected
