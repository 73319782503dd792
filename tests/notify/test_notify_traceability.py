"""Every number a letter states is in the exposure report: counts as values, dates as its timestamps."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from notify_fixtures import PARTNERS_CSV, exposure, hostile
from notify_helpers import CONTACT, ORG, parse_html, run

from dwelltime.notify.text import md

DATETIME = re.compile(r"(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}) UTC")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def _walk(doc: Any) -> tuple[set[int], set[str]]:
    ints: set[int] = set()
    strings: set[str] = set()
    stack = [doc]
    while stack:
        item = stack.pop()
        if isinstance(item, bool):
            continue
        if isinstance(item, int):
            ints.add(item)
        elif isinstance(item, str):
            strings.add(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return ints, strings


def untraceable(text: str, report: Any, supplied: list[str]) -> list[str]:
    """Numbers in ``text`` not found in ``report``; ``supplied`` are the caller's own strings (our contact...)."""
    ints, strings = _walk(json.loads(json.dumps(report)))
    timestamps = [s for s in strings if re.match(r"\d{4}-\d{2}-\d{2}T", s)]
    # Strings quoted verbatim from the report (account, incident id, subjects) or given by the caller.
    quoted = sorted((s for s in strings | set(supplied) if re.search(r"\d", s) and len(s) >= 4), key=len, reverse=True)
    for value in quoted:
        text = text.replace(md(value), " ").replace(value, " ")
    bad: list[str] = []
    for match in DATETIME.finditer(text):
        stamp = f"{match.group(1)}T{match.group(2)}"
        if not any(t.startswith(stamp) for t in timestamps):
            bad.append(match.group())
    text = DATETIME.sub(" ", text)
    for match in DATE.finditer(text):
        if not any(t.startswith(match.group()) for t in timestamps):
            bad.append(match.group())
    text = DATE.sub(" ", text)
    for match in NUMBER.finditer(text):
        token = match.group().rstrip(",")
        if "." in token or int(token.replace(",", "")) not in ints:
            bad.append(token)
    return bad


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
