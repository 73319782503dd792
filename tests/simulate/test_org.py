"""The organisation, its calendar and its networks: built deterministically, and real where it must be."""

from __future__ import annotations

import ipaddress
import itertools
from collections import Counter
from datetime import date

import pytest

from dwelltime.enrich import Enricher
from dwelltime.simulate import calendar
from dwelltime.simulate.netdata import DESTINATIONS, EOP_MX_IPS, GOOGLE_MX_IPS, PREFIXES, by_cidr, groups
from dwelltime.simulate.org import APP_IDS, build_org, partner_mx

START = date(2024, 4, 1)

# What an AS-level classifier can know about each simulated class (see netdata's docstring).
_ENRICHED_CLASS = {
    "isp": {"isp", "unknown"},
    "office": {"isp"},
    "mobile": {"mobile", "isp", "unknown"},  # au/SoftBank phones share the fixed-line AS; some carriers unlisted
    "hosting": {"hosting"},
    "vpn": {"hosting", "vpn"},  # commercial VPN exits rented on hosting networks
    "tor": {"tor"},
}


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    return Enricher()


def test_every_prefix_is_what_the_bundled_geoip_data_says(enricher: Enricher) -> None:
    for p in PREFIXES:
        net = ipaddress.IPv4Network(p.cidr)
        step = max(1, net.num_addresses // 16)
        for offset in range(0, net.num_addresses, step):
            ip = str(net.network_address + offset)
            country, _, _, _, _, as_org, net_class = enricher.lookup(ip)
            assert country == p.country, (p.cidr, ip, country)
            assert as_org == p.as_org, (p.cidr, ip, as_org)
            assert net_class in _ENRICHED_CLASS[p.net_class], (p.cidr, net_class)
        asn = enricher.lookup(str(net.network_address + 1))[4]
        assert asn in (None, p.asn), (p.cidr, asn, p.asn)


def test_prefix_table_is_consistent() -> None:
    nets = sorted(ipaddress.IPv4Network(p.cidr) for p in PREFIXES)
    for a, b in itertools.pairwise(nets):
        assert not a.overlaps(b), (a, b)
    for p in PREFIXES:
        assert ipaddress.IPv4Network(p.cidr).is_global and by_cidr(p.cidr) is p
    g = groups()
    for name in ("home-ocn", "home-kddi", "home-softbank", "home-sonet", "home-biglobe", "home-iij", "mobile-docomo",
                 "mobile-au", "mobile-softbank", "mobile-rakuten", "office-a", "office-b", "hosting-jp-sakura",
                 "hosting-jp-gmo", "hosting-jp-idcf", "hosting-do", "hosting-vultr", "hosting-ovh", "hosting-hetzner",
                 "hosting-aws", "hosting-linode", "vpn-m247", "vpn-datacamp", "tor", "abroad-us", "abroad-sg",
                 "abroad-de", "abroad-gb", "abroad-kr", "abroad-tw", "abroad-th"):  # fmt: skip
        assert g[name], name
    assert {p.country for p in g["vpn-m247"]} >= {"JP", "US"}
    assert g["office-a"][0].asn != g["office-b"][0].asn


def test_gateway_destinations_and_mx_are_real(enricher: Enricher) -> None:
    for d in DESTINATIONS:
        country, *_, as_org, _ = enricher.lookup(d.ip)
        assert (country or "") == d.country and (as_org or "") == d.as_org, d
    for ip in EOP_MX_IPS:
        assert enricher.lookup(ip)[5] == "MICROSOFT-CORP-MSN-AS-BLOCK"
    for ip in GOOGLE_MX_IPS:
        assert enricher.lookup(ip)[5] == "GOOGLE"


def test_japanese_holidays() -> None:
    h24, h25, h26, h27 = (calendar.holidays(y) for y in (2024, 2025, 2026, 2027))
    assert len(h24) == 21 and len(h25) == 19 and len(h26) == 18 and len(h27) == 17
    substitutes = "2024-02-12 2024-05-06 2024-08-12 2024-09-23 2024-11-04 2025-02-24 2025-05-06 2025-11-24 2026-05-06"
    for d in [date.fromisoformat(x) for x in [*substitutes.split(), "2027-03-22"]]:
        assert calendar.holiday_name(d) == "休日", d
    assert calendar.holiday_name(date(2026, 9, 22)) == "国民の休日"
    assert calendar.holiday_name(date(2024, 3, 20)) == "春分の日"
    assert calendar.holiday_name(date(2027, 3, 21)) == "春分の日"
    assert calendar.holiday_name(date(2024, 9, 22)) == "秋分の日"
    assert calendar.holiday_name(date(2025, 1, 13)) == "成人の日"
    assert calendar.holiday_name(date(2025, 7, 21)) == "海の日"
    assert calendar.holiday_name(date(2025, 10, 13)) == "スポーツの日"
    assert not calendar.is_holiday(date(2024, 8, 14))  # Obon is not a public holiday
    assert calendar.is_working_day(date(2024, 8, 14))
    assert calendar.leave_propensity(date(2024, 8, 14)) > 5 * calendar.leave_propensity(date(2024, 6, 12))
    for d in (date(2024, 12, 30), date(2025, 1, 2), date(2025, 1, 3), date(2024, 12, 29)):
        assert calendar.is_office_closed(d)
    assert calendar.is_working_day(date(2025, 1, 6)) and calendar.is_working_day(date(2024, 12, 27))
    with pytest.raises(ValueError):
        calendar.holidays(1999)


def test_build_org_is_deterministic() -> None:
    a = build_org("hybrid", 150, 5, START, 60)
    assert a == build_org("hybrid", 150, 5, START, 60)
    assert a != build_org("hybrid", 150, 6, START, 60)


def test_org_shape() -> None:
    org = build_org("cloud", 1000, 1, START, 90)
    people = [u for u in org.users if u.role != "service"]
    assert len(org.users) == 1000 and len(people) == 998
    assert len({u.upn for u in org.users}) == 1000 and len({u.login for u in org.users}) == 1000
    assert all(u.upn == u.upn.lower() and u.upn.endswith("@example-agency.go.jp") for u in org.users)
    assert 15 <= len(org.admins) <= 25 and all(org.user(a).role == "admin" for a in org.admins)
    share = Counter[str]()
    for u in people:
        share["mobile"] += u.mobile_poll_minutes is not None
        share["vpn"] += u.vpn_user
        share["traveller"] += u.traveller
        share["new"] += u.start > START
        share["owa"] += any(c.kind == "owa" for c in u.clients)
        share["mac"] += "Mac OS X" in u.clients[0].user_agent
    n = len(people)
    assert 0.52 <= share["mobile"] / n <= 0.68
    assert 0.03 <= share["vpn"] / n <= 0.07
    assert 0.015 <= share["traveller"] / n <= 0.05
    assert 0.01 <= share["new"] / n <= 0.035
    assert share["owa"] == n and 0.02 <= share["mac"] / n <= 0.07
    for u in people:
        if u.mobile_poll_minutes is not None:
            lo, hi = u.mobile_poll_minutes
            assert 15 <= lo < hi <= 75
        assert all(p in {pp.cidr for g in ("home-ocn", "home-kddi", "home-softbank", "home-sonet", "home-biglobe",
                                           "home-iij", "home-jcom", "home-asahinet") for pp in groups()[g]}
                   for p in u.home_pool)  # fmt: skip
        assert u.home.country == "JP" and u.home.net_class == "isp"
        assert ipaddress.ip_address(u.home.ip) in ipaddress.ip_network(u.home_pool[0])
    assert not any(u.imap_user for u in org.users)
    app_ids = {c.app_id for u in people for c in u.clients}
    assert {APP_IDS["Microsoft Office"], APP_IDS["One Outlook Web"], APP_IDS["Outlook Mobile"]} <= app_ids
    assert org.hosts == () and org.isp_change_day is not None


def test_partners() -> None:
    org = build_org("hybrid", 100, 2, START, 30)
    assert 20 <= len(org.partners) <= 40
    jp = [p for p in org.partners if p.country == "JP"]
    assert 0.5 <= len(jp) / len(org.partners) <= 0.9
    assert all(p.domain.rsplit(".", 2)[-2:][-1] == "jp" for p in jp)
    assert {p.domain.split(".", 1)[1] for p in jp} <= {"co.jp", "go.jp", "ac.jp", "or.jp", "lg.jp"}
    for p in org.partners:
        assert p.domain.startswith("example-") and p.contacts
        assert all(c.endswith("@" + p.domain) for c in p.contacts)
        mx = partner_mx(p)
        assert mx == partner_mx(p) and all(ipaddress.ip_address(ip).is_global for _, ip in mx)
    assert {h.role for h in org.hosts} == {"mailstore", "mta", "gateway"}
    imap = [u for u in org.users if u.imap_user]
    assert 0 < len(imap) < 0.15 * len(org.users)
    assert all(u.clients[0].protocol == "imap" for u in imap)


def test_onprem_org_reads_over_imap() -> None:
    org = build_org("onprem", 50, 2, START, 30)
    people = [u for u in org.users if u.role != "service"]
    assert all(u.imap_user for u in people)
    assert all(c.protocol == "imap" for u in people for c in u.clients)
