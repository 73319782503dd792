"""Every number a letter states is in the exposure report: counts as values, dates as its timestamps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from notify_fixtures import PARTNERS_CSV, exposure, hostile
from notify_helpers import CONTACT, ORG, parse_html, run

from dwelltime.notify.trace import untraceable


def _supplied() -> list[str]:
    rows = [line.split(",") for line in PARTNERS_CSV.strip().splitlines()[1:]]
    return [CONTACT, ORG, *(cell for row in rows for cell in row)]


@pytest.mark.parametrize("subjects", [False, True])
@pytest.mark.parametrize("fixture", [exposure, hostile])
def test_every_number_in_every_letter_is_in_the_exposure_report(tmp_path: Path, fixture: Any, subjects: bool) -> None:
    report = fixture()
    result = run(tmp_path, report, include_subjects=subjects)
    assert result.letters
    for letter in result.letters:
        assert untraceable(letter.markdown, report, _supplied()) == [], letter.slug
        body = " ".join(parse_html(letter.html).text)
        assert untraceable(body, report, _supplied()) == [], letter.slug


def test_the_checker_catches_an_invented_number(tmp_path: Path) -> None:
    report = exposure()
    letter = run(tmp_path, report).letters[0]
    assert untraceable(letter.markdown + "\n- 17 more messages on 2023-01-05", report, _supplied()) == [
        "2023-01-05",
        "17",
    ]


def test_the_letter_states_the_partys_own_counts(tmp_path: Path) -> None:
    report = exposure()
    result = run(tmp_path, report)
    supplier = next(x for x in result.letters if x.recipient.domain == "supplier.co.jp")
    text = supplier.markdown
    assert "**3 通**" in text  # party["messages"]
    assert "2024-03-28 から 2024-04-05" in text  # earliest and latest of its messages' dates
    assert "| 氏名 | 4 |" in text and "| 健康に関する情報（要配慮個人情報） | 1 |" in text
    assert "**5 名**" in text  # party["data_subjects"]
    assert "2024-04-08 17:02 UTC" in text and "2024-04-09 04:22 UTC" in text  # attacker activity


def test_notify_refuses_to_write_a_letter_with_an_invented_number(tmp_path: Path) -> None:
    import dataclasses

    from dwelltime.errors import DwelltimeError
    from dwelltime.notify.run import _check_traceable

    report = exposure()
    letters = run(tmp_path, report).letters
    _check_traceable(letters, report, [CONTACT, ORG])  # the real letters pass
    forged = dataclasses.replace(letters[0], markdown=letters[0].markdown + "\n- 9137 more messages")
    with pytest.raises(DwelltimeError, match="9137"):
        _check_traceable([forged], report, [CONTACT, ORG])
