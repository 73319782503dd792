"""Enricher: the enrichment columns of an event table, vectorized over distinct addresses."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from dwelltime.enrich import Enricher, enrich_info
from dwelltime.schema import ENRICHMENT_COLUMNS, EVENT_SCHEMA

MakeMmdb = Callable[[str, str, dict[str, dict[str, Any]]], Path]


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    return Enricher()


def _events(ips: list[str | None], **extra: list[Any]) -> pa.Table:
    n = len(ips)
    t = pa.table({f.name: pa.nulls(n, f.type) for f in EVENT_SCHEMA}, schema=EVENT_SCHEMA)
    cols = {"src_ip": ips, **extra}
    for name, values in cols.items():
        t = t.set_column(
            t.schema.get_field_index(name), EVENT_SCHEMA.field(name), pa.array(values, EVENT_SCHEMA.field(name).type)
        )
    return t


def _rows(t: pa.Table) -> list[dict[str, Any]]:
    return t.select(list(ENRICHMENT_COLUMNS)).to_pylist()


def test_enrich_known_addresses(enricher: Enricher) -> None:
    t = enricher.enrich(
        _events(
            ["8.8.8.8", "153.127.1.1", "49.96.1.1", "10.1.2.3", "192.0.2.1", "2001:4860:4860::8888", "garbage", None]
        )
    )
    assert t.schema == EVENT_SCHEMA
    rows = _rows(t)
    assert (rows[0]["src_country"], rows[0]["src_as_org"], rows[0]["src_asn"], rows[0]["src_net_class"]) == (
        "US",
        "GOOGLE",
        15169,
        "hosting",
    )
    assert (rows[1]["src_country"], rows[1]["src_net_class"], rows[1]["src_asn"]) == ("JP", "hosting", None)
    assert (rows[2]["src_country"], rows[2]["src_as_org"], rows[2]["src_net_class"]) == (
        "JP",
        "NTT DOCOMO, INC.",
        "mobile",
    )
    assert rows[3] == dict.fromkeys(ENRICHMENT_COLUMNS) | {"src_net_class": "private"}
    assert rows[4] == dict.fromkeys(ENRICHMENT_COLUMNS) | {"src_net_class": "reserved"}
    assert (rows[5]["src_country"], rows[5]["src_net_class"]) == ("US", "hosting")
    assert rows[6] == dict.fromkeys(ENRICHMENT_COLUMNS)
    assert rows[7] == dict.fromkeys(ENRICHMENT_COLUMNS)


def test_enrich_non_canonical_src_ip_and_unknown_network(enricher: Enricher) -> None:
    rows = _rows(enricher.enrich(_events(["[::ffff:8.8.8.8]:443", "133.1.1.1"])))
    assert rows[0]["src_asn"] == 15169
    assert rows[1]["src_country"] == "JP"
    assert rows[1]["src_net_class"] == "unknown"  # a university: no list, no keyword


def test_enrich_keeps_existing_values_unless_overwrite(enricher: Enricher) -> None:
    t = _events(["8.8.8.8", "8.8.8.8"], src_country=["JP", None], src_city=["Vendor City", None])
    kept = _rows(enricher.enrich(t))
    assert (kept[0]["src_country"], kept[0]["src_city"], kept[0]["src_asn"]) == ("JP", "Vendor City", 15169)
    assert kept[1]["src_country"] == "US"
    replaced = _rows(enricher.enrich(t, overwrite=True))
    assert replaced[0]["src_country"] == "US"


def test_enrich_appends_missing_columns_and_accepts_chunks_and_views(enricher: Enricher) -> None:
    ips = pa.chunked_array([pa.array(["8.8.8.8", None]), pa.array(["10.0.0.1"])]).cast(pa.string_view())
    t = enricher.enrich(pa.table({"src_ip": ips}))
    assert t.column_names == ["src_ip", *ENRICHMENT_COLUMNS]
    assert t.column("src_net_class").to_pylist() == ["hosting", None, "private"]
    assert t.schema.field("src_asn").type == pa.int64()


def test_enrich_empty_and_all_null(enricher: Enricher) -> None:
    assert enricher.enrich(_events([])).num_rows == 0
    out = enricher.enrich(_events([None, None]))
    assert all(v is None for row in _rows(out) for v in row.values())


def test_user_mmdb_and_lists_through_enricher(mmdb: MakeMmdb, tmp_path: Path) -> None:
    asn = mmdb(
        "asn.mmdb",
        "GeoLite2-ASN",
        {"8.8.8.0/24": {"autonomous_system_number": 64500, "autonomous_system_organization": "Example Transit"}},
    )
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "mine.csv").write_text("asn,class,note\n64500,vpn,our VPN\n", encoding="utf-8")
    e = Enricher([asn], user_lists=lists)
    row = _rows(e.enrich(_events(["8.8.8.8"])))[0]
    assert (row["src_asn"], row["src_as_org"], row["src_country"], row["src_net_class"]) == (
        64500,
        "Example Transit",
        "US",
        "vpn",
    )
    explained = e.explain("8.8.8.8")
    assert explained is not None and explained.basis == "user-asn"
    names = [p["name"] for p in enrich_info(e)]
    assert names[:3] == ["asn", "geoip2fast", "geolite2-city-2018"]
    assert "mine" in names and "net_hosting" in names


def test_user_mmdb_alone(mmdb: MakeMmdb) -> None:
    city = mmdb("c.mmdb", "GeoLite2-Country", {"8.8.8.0/24": {"country": {"iso_code": "CA"}}})
    e = Enricher([city], use_bundled=False)
    row = _rows(e.enrich(_events(["8.8.8.8", "1.1.1.1"])))
    assert row[0]["src_country"] == "CA" and row[0]["src_as_org"] is None and row[0]["src_net_class"] == "unknown"
    assert row[1]["src_country"] is None
