"""Every number a letter states must be in the exposure report: the guard behind "no invented facts".

Letters go to outside organisations and regulators; a number in them that the exposure report
does not contain (a template bug, a stale count) would be a false statement made in the
organisation's name.  :func:`untraceable` lists such numbers; ``notify`` refuses to write a
letter that has any.  Counts must equal an integer of the report, dates and minutes must be
prefixes of one of its timestamps, and strings quoted from the report (ids, subjects) or given
by the caller (contact, organisation names) are taken out first.
"""

from __future__ import annotations

import json
import re
from typing import Any

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
    # Dates and timestamps are checked as such below, never taken out as quoted text.
    quoted = sorted(
        (s for s in strings | set(supplied) if re.search(r"\d", s) and len(s) >= 4 and not DATE.match(s)),
        key=len,
        reverse=True,
    )
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
