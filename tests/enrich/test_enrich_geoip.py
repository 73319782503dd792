"""Geo and AS lookups: bundled data and user-supplied MaxMind-format databases."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dwelltime.enrich.geoip import (
    ChainResolver,
    GeoInfo,
    MmdbResolver,
    _city_db_path,
    _detect_provides,
    bundled_resolver,
    merge,
)

MakeMmdb = Callable[[str, str, dict[str, dict[str, Any]]], Path]


def test_bundled_known_addresses() -> None:
    r = bundled_resolver()
    google = r.lookup("8.8.8.8")
    assert (google.country, google.as_org, google.asn) == ("US", "GOOGLE", 15169)
    sakura = r.lookup("153.127.1.1")
    assert (sakura.country, sakura.as_org) == ("JP", "SAKURA Internet Inc.")
    assert sakura.asn is None  # the name covers several ASNs: no guess
    docomo = r.lookup("49.96.1.1")
    assert (docomo.country, docomo.as_org, docomo.asn) == ("JP", "NTT DOCOMO, INC.", 9605)
    v6 = r.lookup("2001:4860:4860::8888")
    assert (v6.country, v6.as_org) == ("US", "GOOGLE")


def test_bundled_city_only_with_city_and_agreeing_country() -> None:
    r = bundled_resolver()
    for ip in ("8.8.8.8", "153.127.1.1", "49.96.1.1", "1.1.1.1", "2400:4050::1", "126.1.1.1"):
        g = r.lookup(ip)
        if g.lat is not None:
            assert g.city is not None and g.country is not None
    # 16.170.0.0/15 was an AWS block placed in Palo Alto (US) in 2018; it is eu-north-1 (SE) now.
    moved = r.lookup("16.170.238.1")
    assert (moved.country, moved.city, moved.lat, moved.lon, moved.asn) == ("SE", None, None, None, 16509)
    tokyo = r.lookup("2400:4050::1")
    assert tokyo.country == "JP" and tokyo.city is not None and tokyo.lat is not None


def test_merge_drops_location_that_contradicts_country() -> None:
    current = GeoInfo(country="JP", as_org="X")
    stale = GeoInfo(country="US", city="Ashburn", lat=39.0, lon=-77.5)
    assert merge([current, stale]) == GeoInfo(country="JP", as_org="X")
    agreeing = GeoInfo(country="JP", city="Osaka", lat=34.7, lon=135.5)
    assert merge([current, agreeing]) == GeoInfo("JP", "Osaka", 34.7, 135.5, None, "X")


def test_merge_never_mixes_as_number_and_name() -> None:
    a = GeoInfo(asn=64500, as_org=None)
    b = GeoInfo(asn=None, as_org="Other Org")
    assert merge([a, b]).as_org is None
    assert merge([a, b]).asn == 64500


@pytest.mark.parametrize(
    ("dbtype", "groups"),
    [
        ("GeoLite2-City", {"country", "location"}),
        ("GeoIP2-City", {"country", "location"}),
        ("GeoLite2-Country", {"country"}),
        ("GeoLite2-ASN", {"asn"}),
        ("GeoIP2-ISP", {"asn"}),
        ("DBIP-City-Lite", {"country", "location"}),
        ("DBIP-ASN-Lite (compat=GeoLite2-ASN)", {"asn"}),
        ("ipinfo country_asn.mmdb", {"country", "asn"}),
        ("ipinfo standard_location.mmdb", {"country", "location"}),
        ("ipinfo lite.mmdb", {"country", "asn"}),
        ("Something-Else", {"country", "location", "asn"}),
    ],
)
def test_detect_provides(dbtype: str, groups: set[str]) -> None:
    assert _detect_provides(dbtype) == groups


def test_maxmind_city_plus_asn(mmdb: MakeMmdb) -> None:
    city = mmdb(
        "city.mmdb",
        "GeoLite2-City",
        {
            "198.18.0.0/24": {
                "country": {"iso_code": "JP", "names": {"en": "Japan"}},
                "city": {"names": {"en": "Sapporo", "ja": "札幌市"}},
                "location": {"latitude": 43.06, "longitude": 141.35, "accuracy_radius": 20},
                # A city record never carries AS data; if one did, the ASN file must still win.
                "autonomous_system_number": 1,
            },
            "2001:db8:5::/48": {"registered_country": {"iso_code": "DE"}},
        },
    )
    asn = mmdb(
        "asn.mmdb",
        "GeoLite2-ASN",
        {"198.18.0.0/16": {"autonomous_system_number": 64500, "autonomous_system_organization": "Example Net"}},
    )
    r = MmdbResolver([city, asn])
    assert r.lookup("198.18.0.7") == GeoInfo("JP", "Sapporo", 43.06, 141.35, 64500, "Example Net")
    assert r.lookup("198.18.9.9") == GeoInfo(None, None, None, None, 64500, "Example Net")
    assert r.lookup("2001:db8:5::1").country == "DE"
    assert r.lookup("8.8.8.8") == GeoInfo()
    kinds = [p.kind for p in r.provenance()]
    assert kinds == ["mmdb:country+location", "mmdb:asn"]
    assert [p.source for p in r.provenance()] == ["GeoLite2-City", "GeoLite2-ASN"]


def test_ipinfo_layouts(mmdb: MakeMmdb) -> None:
    country_asn = mmdb(
        "country_asn.mmdb",
        "ipinfo country_asn.mmdb",
        {
            "198.18.1.0/24": {
                "country": "SG",
                "country_name": "Singapore",
                "asn": "AS64501",
                "as_name": "Example SG",
                "as_domain": "example.sg",
            }
        },
    )
    location = mmdb(
        "standard_location.mmdb",
        "ipinfo standard_location.mmdb",
        {"198.18.1.0/24": {"city": "Singapore", "country": "SG", "latitude": "1.28967", "longitude": "103.85007"}},
    )
    lite = mmdb(
        "lite.mmdb",
        "ipinfo lite.mmdb",
        {"198.18.2.0/24": {"country": "France", "country_code": "FR", "asn": "AS64502", "as_name": "Example FR"}},
    )
    r = MmdbResolver([country_asn, location, lite])
    assert r.lookup("198.18.1.1") == GeoInfo("SG", "Singapore", 1.28967, 103.85007, 64501, "Example SG")
    assert r.lookup("198.18.2.1") == GeoInfo("FR", None, None, None, 64502, "Example FR")


def test_dbip_lite_layout(mmdb: MakeMmdb) -> None:
    city = mmdb(
        "dbip-city.mmdb",
        "DBIP-City-Lite",
        {
            "2001:db8:7::/48": {
                "city": {"names": {"en": "Fukuoka"}},
                "country": {"iso_code": "JP"},
                "location": {"latitude": 33.59, "longitude": 130.4},
            }
        },
    )
    asn = mmdb(
        "dbip-asn.mmdb",
        "DBIP-ASN-Lite (compat=GeoLite2-ASN)",
        {"2001:db8:7::/48": {"autonomous_system_number": 64503, "autonomous_system_organization": "Example JP"}},
    )
    assert MmdbResolver([city, asn]).lookup("2001:db8:7::9") == GeoInfo(
        "JP", "Fukuoka", 33.59, 130.4, 64503, "Example JP"
    )


def test_bundled_city_db_given_explicitly() -> None:
    r = MmdbResolver([_city_db_path()])
    g = r.lookup("8.8.8.8")
    assert g.country == "US"
    assert g.asn is None and g.as_org is None  # a City database is not trusted for AS data
    assert r.provenance()[0].date == "2018-07-03"


def test_chain_prefers_user_database(mmdb: MakeMmdb) -> None:
    user = mmdb(
        "asn.mmdb",
        "GeoLite2-ASN",
        {"8.8.8.0/24": {"autonomous_system_number": 64999, "autonomous_system_organization": "Renamed"}},
    )
    chain = ChainResolver([MmdbResolver([user]), bundled_resolver()])
    g = chain.lookup("8.8.8.8")
    assert (g.asn, g.as_org, g.country) == (64999, "Renamed", "US")


def test_mmdb_resolver_needs_paths() -> None:
    with pytest.raises(ValueError, match="at least one"):
        MmdbResolver([])
