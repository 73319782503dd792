"""Personal-data generators: check digits computed by hand, formats, and the counting log."""

from __future__ import annotations

import random
import re
from datetime import date

import pytest

from dwelltime.simulate import pii


def test_my_number_check_digit_worked_example() -> None:
    # 11 digits 12345678901; from the right P1..P11 = 1,0,9,8,7,6,5,4,3,2,1
    # weights Q1..Q11 = 2,3,4,5,6,7,2,3,4,5,6
    # sum = 2+0+36+40+42+42+10+12+12+10+6 = 212; 212 mod 11 = 3; check = 11 - 3 = 8
    assert pii.my_number_check_digit("12345678901") == 8
    assert pii.is_valid_my_number("123456789018")
    assert pii.is_valid_my_number("1234 5678 9018")
    assert pii.is_valid_my_number("1234-5678-9018")
    assert not pii.is_valid_my_number("123456789017")
    assert not pii.is_valid_my_number("12345678901")


def test_my_number_check_digit_remainder_rules() -> None:
    # 00000000001: P1 = 1, Q1 = 2 -> sum 2, r = 2, check 9
    assert pii.my_number_check_digit("00000000001") == 9
    # 00000000000: r = 0 -> check 0 ; 10000000000: P11 = 1, Q11 = 6 -> r = 6 -> check 5
    assert pii.my_number_check_digit("00000000000") == 0
    assert pii.my_number_check_digit("10000000000") == 5
    # 00000010000: P5 = 1, Q5 = 6 -> r = 6 -> 5 ; 00000000005: 5*2 = 10 -> r = 10 -> check 1
    assert pii.my_number_check_digit("00000010000") == 5
    assert pii.my_number_check_digit("00000000005") == 1
    # 00000100000: P6 = 1, Q6 = 7 -> r = 7 -> check 4
    assert pii.my_number_check_digit("00000100000") == 4
    # 00000000006: 6*2 = 12 -> r = 1 -> check 0
    assert pii.my_number_check_digit("00000000006") == 0
    with pytest.raises(ValueError):
        pii.my_number_check_digit("1234")


def test_generated_my_numbers_are_valid_and_formatted() -> None:
    rng = random.Random(3)
    for _ in range(500):
        n = pii.my_number(rng)
        assert len(n) == 12 and n[0] != "0" and pii.is_valid_my_number(n)
        assert pii.format_my_number(n, 1) == f"{n[:4]} {n[4:8]} {n[8:]}"
        assert pii.format_my_number(n, 2).replace("-", "") == n


def test_luhn() -> None:
    assert pii.luhn_valid("4111111111111111")
    assert pii.luhn_valid("4242 4242 4242 4242")
    assert pii.luhn_valid("378282246310005")
    assert not pii.luhn_valid("4111111111111112")
    assert pii.luhn_check_digit("411111111111111") == 1
    assert pii.luhn_check_digit("7992739871") == 3  # the textbook example 79927398713
    rng = random.Random(5)
    for _ in range(500):
        card = pii.payment_card(rng)
        assert pii.luhn_valid(card)
        assert card[:6] in {p for p, _ in pii._TEST_CARD_PREFIXES}
        assert len(card) in (15, 16)


def test_identifier_formats() -> None:
    rng = random.Random(9)
    for _ in range(200):
        assert re.fullmatch(r"[A-Z]{2}\d{7}", pii.passport_jp(rng))
        assert re.fullmatch(r"[A-Z]\d{8}", pii.passport_us(rng))
        acct = pii.bank_account_jp(rng)
        assert re.fullmatch(r"\d{7}", acct.number) and acct.kind in ("普通", "当座")
        assert re.fullmatch(r"0\d{1,3}-\d{3,4}-\d{4}", pii.phone_jp_landline(rng))
        assert re.fullmatch(r"0[789]0-\d{4}-\d{4}", pii.phone_jp_mobile(rng))
        assert re.fullmatch(r"\+81-[789]0-\d{4}-\d{4}", pii.phone_jp_mobile(rng, international=True))
        assert re.fullmatch(r"\+1 \d{3}-555-01\d{2}", pii.phone_intl(rng, "US"))
        assert re.fullmatch(r"〒\d{3}-\d{4} \S+", pii.address_jp(rng).split(" ")[0] + " x")
        assert re.search(r", [A-Z]{2} \d{5}$", pii.address_us(rng))


def test_wareki_and_dob_forms() -> None:
    assert pii.wareki(date(1985, 4, 12)) == "昭和60年4月12日"
    assert pii.wareki(date(1989, 1, 8)) == "平成元年1月8日"
    assert pii.wareki(date(2019, 5, 1)) == "令和元年5月1日"
    assert pii.format_dob(date(1985, 4, 12), "ja", 0) == "1985年4月12日"
    assert pii.format_dob(date(1985, 4, 12), "en", 0) == "12 April 1985"
    assert pii.format_dob(date(1985, 4, 12), "en", 2) == "1985-04-12"


def test_log_counts_distinct_values_and_canonical_forms() -> None:
    log = pii.PiiLog()
    assert log.add("my_number", "1234 5678 9018", "123456789018") == "1234 5678 9018"
    log.add("my_number", "123456789018")
    log.add("person_name", "田中 宏")
    log.add("person_name", "Hiroshi Tanaka")
    log.add("person_name", "田中 宏")
    counts = dict(zip(pii.CATEGORIES, log.counts(), strict=True))
    assert counts["my_number"] == 1
    assert counts["person_name"] == 2
    assert counts["passport"] == 0
    with pytest.raises(ValueError):
        log.add("shoe_size", "27")


def test_names_from_the_org_model() -> None:
    n = pii.name_from_parts("田中 宏", "Hiroshi Tanaka")
    assert n.kana == "タナカ ヒロシ" and n.passport_form == "TANAKA HIROSHI"
    odd = pii.name_from_parts("利用者1", "User 1")
    assert odd.kana == "" and odd.en == "User 1"
