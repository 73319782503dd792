"""Personal data in message text: find it, count it, and show it redacted.

``find_pii(text)`` returns every :class:`Finding` (category, canonical value, span);
``count_pii(text)`` the number of distinct values per category of
:data:`~dwelltime.scope.contract.PII_CATEGORIES` (the exposure report's counting rule);
``subjects(text, findings)`` groups them by the person they are about (for counts of data
subjects); ``redact`` and ``snippet`` give report-safe text, so a sample of what was exposed can be
shown without the report itself becoming a second leak.

Canonical values, so that one value written two ways counts once: ``my_number`` and
``payment_card`` digits only; ``phone`` E.164 (phonenumbers, Japan as the default region);
``email`` lower case; ``date_of_birth`` ISO 8601; ``bank_account`` "bank branch type
number" (普通/当座/貯蓄), the parts the text gives; names, addresses and health terms NFKC
with white space collapsed (health terms as the canonical term of a small bilingual list).

Where two detectors claim overlapping text, the more specific wins (a card number is not
also a phone number; a name inside an address or an e-mail address is not a person).
The detectors live in :mod:`pii_patterns` and :mod:`pii_names`; see there for why each
pattern is what it is.  Message text is attacker-controlled: it is only matched and sliced.
"""

from __future__ import annotations

from dwelltime.scope.contract import PII_CATEGORIES
from dwelltime.scope.pii_base import Context, Finding
from dwelltime.scope.pii_names import find_names
from dwelltime.scope.pii_patterns import (
    Detector,
    find_addresses,
    find_bank_accounts,
    find_cards,
    find_dates_of_birth,
    find_emails,
    find_health,
    find_my_numbers,
    find_passports,
    find_phones,
)
from dwelltime.scope.pii_subjects import Subject, subjects

__all__ = ["Finding", "Subject", "count_pii", "find_pii", "redact", "snippet", "subjects"]

# Order = priority when spans overlap: the most specific evidence first.
_DETECTORS: tuple[Detector, ...] = (
    find_cards,
    find_my_numbers,
    find_bank_accounts,
    find_passports,
    find_emails,
    find_dates_of_birth,
    find_addresses,
    find_phones,
    find_names,
    find_health,
)
_PRIORITY = {
    "payment_card": 0,
    "my_number": 1,
    "bank_account": 2,
    "passport": 3,
    "email": 4,
    "date_of_birth": 5,
    "postal_address": 6,
    "phone": 7,
    "person_name": 8,
    "health": 9,
}


def find_pii(text: str) -> list[Finding]:
    """Every personal-data value in ``text``, in text order, spans never overlapping."""
    if not text:
        return []
    ctx = Context(text)
    found: list[Finding] = []
    for detect in _DETECTORS:
        found.extend(detect(text, ctx))
    found.sort(key=lambda f: (_PRIORITY[f.category], f.start, -(f.end - f.start)))
    kept: list[Finding] = []
    covered = bytearray(len(text))  # characters already claimed by a kept finding
    for f in found:
        if f.end <= f.start or any(covered[f.start : f.end]):
            continue
        kept.append(f)
        covered[f.start : f.end] = b"\x01" * (f.end - f.start)
    kept = _drop_partial_names(kept)
    kept.sort(key=lambda f: (f.start, f.end))
    return kept


def _drop_partial_names(found: list[Finding]) -> list[Finding]:
    """A surname alone ("田中様") that is the family name of a full name in the same text is
    the same person: keep the full name only, so one person is not counted twice."""
    full = [f.value for f in found if f.category == "person_name" and " " in f.value]
    if not full:
        return found
    parts = {p for name in full for p in name.split()} | {name.replace(" ", "") for name in full}
    return [f for f in found if not (f.category == "person_name" and " " not in f.value and f.value in parts)]


def count_pii(text: str) -> dict[str, int]:
    """Distinct values per category, every category of PII_CATEGORIES present (0 if none)."""
    values: dict[str, set[str]] = {cat: set() for cat in PII_CATEGORIES}
    for f in find_pii(text):
        values[f.category].add(f.value)
    return {cat: len(v) for cat, v in values.items()}


def _mask(text: str, category: str) -> str:
    keep = 2 if len(text) > 6 else 0
    shown = text[-keep:] if keep else ""
    return f"[{category} {'•' * max(len(text) - keep, 4)}{shown}]"


def redact(text: str, findings: list[Finding]) -> str:
    """``text`` with each finding replaced by its category and a mask ("[my_number ••••••••••12]").

    At most the last two characters of a value longer than six are kept, enough to tell two
    values apart in a report and too little to use.
    """
    out: list[str] = []
    pos = 0
    for f in sorted(findings, key=lambda f: f.start):
        if f.start < pos:
            continue
        out.append(text[pos : f.start])
        out.append(_mask(text[f.start : f.end], f.category))
        pos = f.end
    out.append(text[pos:])
    return "".join(out)


def snippet(text: str, finding: Finding, width: int = 30, findings: list[Finding] | None = None) -> str:
    """``width`` characters either side of ``finding``, on one line, with every personal-data
    value in the window redacted (the neighbours of a value are often personal data too)."""
    lo = max(0, finding.start - width)
    hi = min(len(text), finding.end + width)
    others = findings if findings is not None else find_pii(text)
    inside = [f for f in others if f.start < hi and lo < f.end and f != finding]
    # values cut by the window's edges are redacted whole and the window widened to hold them
    for f in inside:
        lo, hi = min(lo, f.start), max(hi, f.end)
    window = [Finding(f.category, f.value, f.start - lo, f.end - lo) for f in [*inside, finding]]
    body = redact(text[lo:hi], window)
    body = " ".join(body.split())
    return ("…" if lo > 0 else "") + body + ("…" if hi < len(text) else "")
