"""Network classes: shipped lists, keyword fallback, user overrides, Tor exit lists."""

from __future__ import annotations

import gzip
import pickle
from importlib import resources
from pathlib import Path

import pytest

from dwelltime.enrich.netclass import NET_CLASSES, NetClassifier, Verdict, _curated, asn_for_org, curated_lists


@pytest.fixture(scope="module")
def clf() -> NetClassifier:
    return NetClassifier()


def test_shipped_lists_by_asn_and_name(clf: NetClassifier) -> None:
    assert clf.classify("8.8.8.8", 15169, "GOOGLE") == Verdict(
        "hosting", "asn-list", clf.classify("8.8.8.8", 15169).note
    )
    assert clf.classify("153.127.1.1", None, "SAKURA Internet Inc.").net_class == "hosting"
    assert clf.classify("153.127.1.1", None, "sakura internet inc.").basis == "name-list"
    assert clf.classify("49.96.1.1", 9605, None).net_class == "mobile"
    assert clf.classify("1.2.3.4", 39351, None).net_class == "vpn"
    assert clf.classify("1.2.3.4", 60729, None).net_class == "tor"
    assert clf.classify("1.2.3.4", 4713, None).net_class == "isp"


def test_special_addresses_win(clf: NetClassifier) -> None:
    assert clf.classify("10.0.0.1", 15169, "GOOGLE") == Verdict("private", "special")
    assert clf.classify("192.0.2.1") == Verdict("reserved", "special")


def test_keyword_fallback_is_marked(clf: NetClassifier) -> None:
    v = clf.classify("1.2.3.4", None, "Example Hosting Solutions Ltd")
    assert (v.net_class, v.basis) == ("hosting", "keyword")
    assert clf.classify("1.2.3.4", None, "Example Mobile Telecom").net_class == "mobile"  # first keyword in file order
    assert clf.classify("1.2.3.4", None, "Ghostnet").net_class == "unknown"  # no whole-word match inside a name
    assert clf.classify("1.2.3.4", None, None) == Verdict("unknown", "none")


def test_asn_for_org() -> None:
    assert asn_for_org("AMAZON-02") == 16509
    assert asn_for_org("ntt docomo, inc.") == 9605
    assert asn_for_org("SAKURA Internet Inc.") is None  # shared by several ASNs
    assert asn_for_org("No Such Org") is None


def test_curated_names_exist_in_bundled_data() -> None:
    """Every as_org in the shipped lists is spelled as the bundled geoip2fast data spells it."""
    path = Path(str(resources.files("geoip2fast").joinpath("geoip2fast-asn-ipv6.dat.gz")))
    with gzip.open(path, "rb") as fh:
        _, _, _, db = pickle.load(fh)  # the pinned package's own data file
    names = set(db[3])
    missing = [e.as_org for e in _curated()[0] if e.as_org and e.as_org not in names]
    assert missing == []


def test_curated_lists_record_provenance() -> None:
    infos = curated_lists()
    assert {i.name for i in infos} >= {"net_hosting", "net_vpn", "net_tor", "net_mobile", "net_isp", "net_keywords"}
    for info in infos:
        assert info.source and info.date and info.entries > 0
    entries = _curated()[0]
    assert len(entries) >= 150
    assert {e.net_class for e in entries} <= set(NET_CLASSES)


def test_user_lists_take_precedence(tmp_path: Path) -> None:
    d = tmp_path / "lists"
    d.mkdir()
    (d / "corp.csv").write_text(
        "# source: our network team\n# date: 2026-01-15\n"
        "cidr,class,note\n"
        "8.8.8.0/24,isp,partner office behind Google\n"
        "8.8.8.8/32,vpn,our own VPN concentrator\n"
        "AS15169,mobile,\n"
        "2001:db8:abcd::/48,hosting,lab\n",
        encoding="utf-8",
    )
    clf = NetClassifier(user_dir=d)
    assert clf.classify("8.8.8.8", 15169, "GOOGLE") == Verdict("vpn", "user-cidr", "our own VPN concentrator")
    assert clf.classify("8.8.8.9", 15169, "GOOGLE") == Verdict("isp", "user-cidr", "partner office behind Google")
    assert clf.classify("8.8.4.4", 15169, "GOOGLE") == Verdict("mobile", "user-asn", "user list corp.csv")
    assert clf.classify("2001:db8:abcd::5").net_class == "reserved"  # special ranges cannot be overridden
    user = clf.provenance()[0]
    assert (user.name, user.kind, user.source, user.date, user.entries) == (
        "corp",
        "user",
        "our network team",
        "2026-01-15",
        4,
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("8.8.8.0/24,evil,\n", r"corp\.csv:1: class must be one of"),
        ("# c\nnot-a-net,hosting,\n", r"corp\.csv:2: expected a CIDR"),
    ],
)
def test_user_list_errors_name_file_and_line(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "corp.csv").write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        NetClassifier(user_dir=tmp_path)


def test_tor_exit_file_formats(tmp_path: Path) -> None:
    plain = tmp_path / "exits.txt"
    plain.write_text("# date: 2026-11-30\n185.220.101.1\n2001:db8:1::1\n", encoding="utf-8")
    clf = NetClassifier(tor_exit_file=plain)
    assert clf.classify("185.220.101.1", None, "Some Hosting") == Verdict("tor", "tor-exit-list")
    assert clf.classify("185.220.101.2", None, "Some Hosting").net_class == "hosting"
    assert clf.provenance()[0].date == "2026-11-30"
    assert clf.provenance()[0].entries == 2

    exit_addresses = tmp_path / "exit-addresses"
    exit_addresses.write_text(
        "ExitNode 0011BD2485AD45D984EC4159C88FC066E5E3300E\n"
        "Published 2026-11-30 10:00:00\n"
        "LastStatus 2026-11-30 11:00:00\n"
        "ExitAddress 192.42.116.16 2026-11-30 11:05:00\n",
        encoding="utf-8",
    )
    assert NetClassifier(tor_exit_file=exit_addresses).classify("192.42.116.16").net_class == "tor"

    bad = tmp_path / "bad.txt"
    bad.write_text("not an address\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.txt:1"):
        NetClassifier(tor_exit_file=bad)
