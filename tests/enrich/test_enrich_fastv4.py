"""The vectorized IPv4 path gives exactly the per-address path's values.

``Enricher.enrich`` resolves canonical IPv4 addresses with numpy over arrays built from the
bundled data, and ``Enricher.lookup`` resolves one address at a time with the readers; the
two are compared on a few thousand varied addresses, with user lists and a Tor exit list in
force.  The City range table is also checked against the MaxMind reader on small databases.
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import maxminddb
import numpy as np
import pyarrow as pa
import pytest

from dwelltime.enrich import Enricher
from dwelltime.enrich.geoip import _extract
from dwelltime.enrich.mmdbtable import build, location_table
from dwelltime.schema import ENRICHMENT_COLUMNS

MakeMmdb = Callable[[str, str, dict[str, dict[str, Any]]], Path]


def _v4(value: int) -> str:
    return str(ipaddress.IPv4Address(value))


def _addresses(e: Enricher) -> list[str | None]:
    rng = random.Random(20240618)
    data = e._fast_v4()
    assert data is not None
    tables = data.data
    ips: list[str | None] = [_v4(rng.getrandbits(32)) for _ in range(2000)]
    # Both sides of network boundaries: country networks, AS networks, City ranges.
    for arr in (tables.net_first, tables.net_last, tables.asn_first, tables.city.starts):
        for i in rng.sample(range(len(arr)), 150):
            for v in (int(arr[i]) - 1, int(arr[i]), int(arr[i]) + 1):
                if 0 <= v < 1 << 32:
                    ips.append(_v4(v))
    ips += [
        "8.8.8.8",
        "1.1.1.1",
        "153.127.1.1",
        "49.96.1.1",
        "16.170.238.1",
        "133.1.1.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "100.64.0.1",
        "127.0.0.1",
        "169.254.1.1",
        "0.0.0.0",
        "192.0.2.1",
        "198.18.0.1",
        "224.0.0.1",
        "255.255.255.255",
        "203.0.113.7",
        "198.51.100.77",
        "185.220.101.1",
        "185.220.101.2",
        "5.6.7.8",
        "5.6.7.9",
        "5.6.200.1",
        "2001:4860:4860::8888",
        "2400:4050::1",
        "fe80::1",
        "::1",
        "::ffff:8.8.8.8",
        "[2001:db8::1]:443",
        "8.8.8.8:443",
        " 8.8.8.8",
        "08.8.8.8",
        "8.8.8.08",
        "256.1.1.1",
        "1.2.3",
        "1.2.3.4.5",
        "garbage",
        "",
        "1.2.3.4\n",
        None,
    ]
    return ips


@pytest.fixture(scope="module")
def user_enricher(tmp_path_factory: pytest.TempPathFactory) -> Enricher:
    d = tmp_path_factory.mktemp("lists")
    (d / "mine.csv").write_text(
        "cidr,class,note\n"
        "5.6.0.0/16,isp,office block\n"
        "5.6.7.0/24,vpn,our VPN\n"
        "5.6.7.8/32,hosting,jump box\n"
        "8.8.4.0/24,mobile,odd test\n"
        "2001:db8::/32,isp,v6 range\n"
        "AS9605,hosting,asn override\n",
        encoding="utf-8",
    )
    tor = d / "exits.txt"
    tor.write_text(
        "ExitNode 0011\nPublished 2024-06-18 00:00:00\nExitAddress 185.220.101.1 2024-06-18 00:00:00\n"
        "49.96.1.1\n2001:db8::2\n",
        encoding="utf-8",
    )
    return Enricher(user_lists=d, tor_exit_file=tor)


def _rows(e: Enricher, ips: list[str | None]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = (
        e.enrich(pa.table({"src_ip": pa.array(ips, pa.string())})).select(list(ENRICHMENT_COLUMNS)).to_pylist()
    )
    return out


def _expected(e: Enricher, ip: str | None) -> dict[str, Any]:
    values = e.lookup(ip) if ip is not None else (None,) * len(ENRICHMENT_COLUMNS)
    return dict(zip(ENRICHMENT_COLUMNS, values, strict=True))


def test_vectorized_equals_per_address_with_user_lists(user_enricher: Enricher) -> None:
    ips = _addresses(user_enricher)
    rows = _rows(user_enricher, ips)
    mismatches = [(ip, row, _expected(user_enricher, ip)) for ip, row in zip(ips, rows, strict=True)]
    mismatches = [m for m in mismatches if m[1] != m[2]]
    assert mismatches == []
    by_ip = dict(zip(ips, rows, strict=False))
    # The overrides really were exercised on the vectorized path.
    assert by_ip["5.6.7.8"]["src_net_class"] == "hosting"
    assert by_ip["5.6.7.9"]["src_net_class"] == "vpn"
    assert by_ip["5.6.200.1"]["src_net_class"] == "isp"
    assert by_ip["185.220.101.1"]["src_net_class"] == "tor"
    assert by_ip["49.96.1.1"]["src_net_class"] == "hosting"  # user AS beats the Tor list
    assert by_ip["10.1.2.3"]["src_net_class"] == "private"
    assert by_ip["8.8.8.8"]["src_asn"] == 15169


def test_vectorized_equals_per_address_default() -> None:
    e = Enricher()
    ips = _addresses(e)
    rows = _rows(e, ips)
    assert [r for ip, r in zip(ips, rows, strict=True) if r != _expected(e, ip)] == []
    assert any(r["src_city"] is not None for r in rows)
    assert any(r["src_lat"] is not None for r in rows)
    assert {r["src_net_class"] for r in rows} >= {"hosting", "isp", "mobile", "private", "reserved", "unknown"}


def test_user_mmdb_stays_per_address(mmdb: MakeMmdb) -> None:
    db = mmdb("c.mmdb", "GeoLite2-Country", {"8.8.8.0/24": {"country": {"iso_code": "CA"}}})
    e = Enricher([db])
    assert e._fast_v4() is None
    ips: list[str | None] = ["8.8.8.8", "1.1.1.1", "10.0.0.1", "2001:4860:4860::8888"]
    rows = _rows(e, ips)
    assert rows == [_expected(e, ip) for ip in ips]
    assert rows[0]["src_country"] == "CA"


def test_chunked_mixed_input_keeps_row_order(user_enricher: Enricher) -> None:
    ips = ["8.8.8.8", None, "garbage", "10.0.0.1", "2001:4860:4860::8888", "8.8.8.8", "5.6.7.8"]
    arr = pa.chunked_array([pa.array(ips[:3]), pa.array(ips[3:])]).cast(pa.string_view())
    rows = user_enricher.enrich(pa.table({"src_ip": arr})).select(list(ENRICHMENT_COLUMNS)).to_pylist()
    assert rows == [_expected(user_enricher, ip) for ip in ips]


# --- the City range table --------------------------------------------------------------------

# Disjoint networks of many sizes (the test writer does not nest networks).
_CITY_RECORDS: dict[str, dict[str, Any]] = {
    "2.0.0.0/8": {"country": {"iso_code": "AU"}, "location": {"latitude": -33.5, "longitude": 151.0}},
    "1.2.0.0/16": {
        "country": {"iso_code": "AU", "names": {"en": "Australia", "de": "Australien"}},
        "city": {"geoname_id": 1, "names": {"en": "Sydney", "de": "Sydney"}},
        "location": {"accuracy_radius": 50, "latitude": -33.87, "longitude": 151.21, "time_zone": "x"},
        "postal": {"code": "2000"},
        "subdivisions": [{"iso_code": "NSW"}],
    },
    "1.3.3.0/25": {"registered_country": {"iso_code": "NZ"}, "city": {"names": {"en": "Auckland"}}},
    "1.3.3.128/32": {"country": {"iso_code": "AU"}, "city": {"names": {"de": "Nur Deutsch"}}},
    "1.3.3.129/32": {"country_code": "US", "city": "Ashburn", "lat": 39.0, "lng": -77.5},
    "1.3.3.130/31": {"country": "JP", "city": "Tokyo", "latitude": "35.6", "longitude": 139},
    "9.0.0.0/8": {"country": {"iso_code": "US"}, "city": {"names": {"en": "Somewhere"}}},
    "2001:db8::/32": {"country": {"iso_code": "DE"}, "city": {"names": {"en": "Berlin"}}},
}


def _table_answer(table: Any, ips: list[int]) -> list[tuple[str, str, float | None, float | None] | None]:
    out: list[tuple[str, str, float | None, float | None] | None] = []
    for i in table.lookup(np.array(ips, np.uint32)).tolist():
        if i < 0:
            out.append(None)
            continue
        lat = float(table.lat[i]) if table.has_lat[i] else None
        lon = float(table.lon[i]) if table.has_lon[i] else None
        out.append((table.country[i], table.city[i], lat, lon))
    return out


def _reader_answer(path: Path, ips: list[int]) -> list[tuple[str, str, float | None, float | None] | None]:
    out: list[tuple[str, str, float | None, float | None] | None] = []
    with maxminddb.open_database(str(path)) as reader:
        for ip in ips:
            rec = reader.get(_v4(ip))
            g = _extract(rec) if isinstance(rec, Mapping) else None
            ok = g is not None and g.country is not None and g.city is not None
            out.append((g.country, g.city, g.lat, g.lon) if g is not None and ok else None)
    return out


def _probe_points() -> list[int]:
    points: set[int] = {0, (1 << 32) - 1}
    for cidr in _CITY_RECORDS:
        net = ipaddress.ip_network(cidr)
        if net.version == 4:
            for v in (int(net.network_address), int(net.broadcast_address)):
                points.update(x for x in (v - 1, v, v + 1) if 0 <= x < 1 << 32)
    return sorted(points)


def test_location_table_matches_reader(mmdb: MakeMmdb) -> None:
    path = mmdb("city.mmdb", "GeoLite2-City", _CITY_RECORDS)
    ips = _probe_points()
    table = build(path)
    expected = _reader_answer(path, ips)
    assert _table_answer(table, ips) == expected
    assert ("AU", "Sydney", -33.87, 151.21) in expected and ("JP", "Tokyo", 35.6, 139.0) in expected
    assert None in expected  # no city, a city without an English name, no data


def test_location_table_cache_roundtrip(mmdb: MakeMmdb, tmp_path: Path) -> None:
    path = mmdb("city.mmdb", "GeoLite2-City", _CITY_RECORDS)
    cache = tmp_path / "cache"
    first = location_table(path, cache)
    files = list(cache.glob("*.npz"))
    assert len(files) == 1 and str(path.stat().st_size) in files[0].name
    again = location_table(path, cache)
    ips = _probe_points()
    assert _table_answer(again, ips) == _table_answer(first, ips) == _reader_answer(path, ips)
    files[0].write_bytes(b"not a numpy archive")
    rebuilt = location_table(path, cache)
    assert _table_answer(rebuilt, ips) == _table_answer(first, ips)


def test_location_table_unwritable_cache_still_builds(mmdb: MakeMmdb, tmp_path: Path) -> None:
    path = mmdb("city.mmdb", "GeoLite2-City", _CITY_RECORDS)
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    table = location_table(path, blocker / "sub")  # a file where the directory should be
    ips = _probe_points()
    assert _table_answer(table, ips) == _reader_answer(path, ips)


def test_cached_bundled_arrays_equal_a_fresh_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-machine cache of the IPv4 arrays loads back exactly what a build produces,
    and a cache file that does not match (truncated) is rebuilt rather than trusted."""
    from dwelltime.enrich import fastv4
    from dwelltime.enrich.geoip import BundledResolver

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    resolver = BundledResolver()
    built = fastv4._build(resolver)
    assert built is not None
    key = fastv4._cache_key()
    assert key is not None
    fastv4._save_cached(key, built)
    loaded = fastv4._load_cached(key)
    assert loaded is not None
    for name in fastv4._CACHED_ARRAYS:
        assert np.array_equal(getattr(loaded, name), getattr(built, name)), name
    assert loaded.codes == built.codes
    assert loaded.orgs == built.orgs
    cached = tmp_path / "dwelltime" / key
    cached.write_bytes(cached.read_bytes()[:1000])
    assert fastv4._load_cached(key) is None
