"""The partner directory CSV: forgiving where harmless, file:line:reason where a guess could mislead."""

from __future__ import annotations

from pathlib import Path

import pytest
from notify_fixtures import PARTNERS_CSV

from dwelltime.scope.partners import PartnerDirectoryError, default_language, load_partners, registrable_domain

HEADER = "organisation,domain,country,contact,language,domestic\n"


def _csv(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "p.csv"
    path.write_bytes(text.encode(encoding))
    return path


def test_reads_several_domains_languages_and_domestic_flags(tmp_path: Path) -> None:
    directory = load_partners(_csv(tmp_path, PARTNERS_CSV))
    supplier, customer, partner = directory.partners
    assert supplier.domains == ("supplier.co.jp", "mail.supplier.co.jp")
    assert (supplier.language, supplier.domestic, supplier.country) == ("ja", True, "JP")
    assert (customer.language, customer.domestic) == ("en", False)
    assert partner.domains == ("partner.de", "www.partner.de") and partner.language is None
    assert partner.domestic is False and partner.line == 4


def test_matches_by_exact_domain_subdomain_and_registrable_domain(tmp_path: Path) -> None:
    text = HEADER + "A,a.example.co.jp,JP,,ja,yes\nB,b.example.co.jp,JP,,ja,yes\nWhole,other.co.jp,JP,,,\n"
    directory = load_partners(_csv(tmp_path, text))
    assert directory.match(["b.example.co.jp"]).organisation == "B"  # type: ignore[union-attr]
    assert directory.match(["x.a.example.co.jp"]).organisation == "A"  # type: ignore[union-attr]
    assert directory.match(["mail.other.co.jp"]).organisation == "Whole"  # type: ignore[union-attr]
    # A row listing a subdomain still covers the organisation seen under its registrable domain.
    assert directory.match(["example.co.jp"]) is not None
    assert directory.match(["unrelated.com"]) is None


def test_excel_bom_and_shift_jis_are_read(tmp_path: Path) -> None:
    text = HEADER + "株式会社テスト,test.co.jp,JP,,ja,domestic\n"
    assert load_partners(_csv(tmp_path, "\ufeff" + text)).partners[0].organisation == "株式会社テスト"
    assert load_partners(_csv(tmp_path, text, "cp932")).partners[0].organisation == "株式会社テスト"


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("organisation,contact\nA,x\n", 1, "header lacks column(s) domain"),
        (HEADER.replace("country", "land"), 1, "unknown column(s) land"),
        (HEADER + "A,a.com,,,,\nB,b.com,,,fr,\n", 3, "language 'fr' is not ja or en"),
        (HEADER + "A,a.com,,,,maybe\n", 2, "domestic 'maybe' is not yes/no"),
        (HEADER + "A,not a domain!,,,,\n", 2, "is not a domain name"),
        (HEADER + "A,,,,,\n", 2, "domain is empty"),
        (HEADER + ",a.com,,,,\n", 2, "organisation is empty"),
        (HEADER + "A,a.com,,,,\nB,A.COM,,,,\n", 3, "domain a.com is already listed on line 2"),
        (HEADER + "A,a.com,,,,,extra\n", 2, "7 fields, the header has 6"),
        ("", 1, "empty file"),
    ],
)
def test_errors_name_file_line_and_reason(tmp_path: Path, text: str, line: int, reason: str) -> None:
    path = _csv(tmp_path, text)
    with pytest.raises(PartnerDirectoryError) as caught:
        load_partners(path)
    assert caught.value.line == line
    assert reason in caught.value.reason
    assert str(caught.value).startswith(f"{path}:{line}: ")


def test_undecodable_bytes_are_reported_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(HEADER.encode() + b"A,a.com,,,,\nB\x82 x,b.com,,,,\n")
    with pytest.raises(PartnerDirectoryError, match=r":3: neither UTF-8 nor Shift_JIS"):
        load_partners(path)


def test_registrable_domain_and_default_language() -> None:
    assert registrable_domain("mail.Example.co.jp.") == "example.co.jp"
    assert registrable_domain("a.b.example.com") == "example.com"
    assert default_language("example.co.jp") == "ja"
    assert default_language("example.com") == "en"
