"""Making untrusted strings safe to place in Markdown, in file names and in prose.

Everything a letter quotes from the logs or the mailboxes (subjects, names, user agents,
organisation names from a directory an outsider may have filled in) is attacker-controlled:
a subject can carry Markdown link syntax or HTML meant to become live in whoever opens the
letter.  Markdown output therefore escapes every character Markdown or HTML would act on,
so that the same text renders as itself both in a Markdown viewer and after conversion
to HTML (where :mod:`dwelltime.notify.render` escapes again, with raw HTML switched off).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime

# Characters with a meaning somewhere in CommonMark or HTML.  CommonMark lets a backslash
# escape any ASCII punctuation, so escaping these is always valid and always renders as the
# character itself.  '.', '-', ':' and '/' are left alone: they only act at the start of a
# line, and :func:`md` never lets data start a line (newlines are folded into spaces).
_MD_SPECIAL = set("\\`*_{}[]()<>#+!|~&=\"'$^")

# Bidirectional overrides and invisible controls can disguise a string (an RLO makes
# "gpj.exe" read as "exe.jpg"); they are dropped.
_INVISIBLE = {
    "\u200e",
    "\u200f",
    "\u061c",
    *(chr(c) for c in range(0x202A, 0x202F)),
    *(chr(c) for c in range(0x2066, 0x206A)),
}


def clean(value: object) -> str:
    """One line of printable text: controls and bidi overrides dropped, whitespace runs folded."""
    text = str(value)
    out = []
    for char in text:
        if char in _INVISIBLE:
            continue
        category = unicodedata.category(char)
        if category in ("Cc", "Zl", "Zp"):
            out.append(" ")
        elif category == "Cf" and char != "\u200d":  # keep ZWJ: emoji sequences use it
            continue
        else:
            out.append(char)
    return re.sub(r"\s+", " ", "".join(out)).strip()


def md(value: object) -> str:
    """Untrusted text as inert Markdown: one line, every active character backslash-escaped."""
    if value is None:
        return ""
    return "".join("\\" + c if c in _MD_SPECIAL else c for c in clean(value))


_SLUG_BAD = re.compile(r"[^a-z0-9]+")


def slug(value: str, fallback: str = "party", max_length: int = 60) -> str:
    """A file-name stem made only of ``[a-z0-9-]``: no path separators, no dots, never empty.

    Built from a domain or organisation name an outsider controls, so ``../../etc`` becomes
    ``etc`` and a name with no ASCII letters falls back to ``fallback``.
    """
    ascii_only = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode().lower()
    stem = _SLUG_BAD.sub("-", ascii_only).strip("-")[:max_length].strip("-")
    return stem or fallback


def unique_slugs(values: list[str], fallback: str = "party") -> list[str]:
    """Slugs for several values, made distinct with ``-2``, ``-3``... in order of appearance."""
    seen: dict[str, int] = {}
    out = []
    for value in values:
        stem = slug(value, fallback)
        count = seen.get(stem, 0) + 1
        seen[stem] = count
        out.append(stem if count == 1 else f"{stem}-{count}")
    return out


def parse_time(value: str) -> datetime:
    """An ISO 8601 time from the exposure report (``...Z``) or the command line, as aware UTC.

    A time without an offset is refused rather than guessed: a deadline computed from a
    local time read as UTC would be nine hours wrong in Tokyo.
    """
    moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"time {value!r} has no UTC offset (write it as 2024-04-10T09:00Z or 2024-04-10T18:00+09:00)")
    return moment.astimezone(UTC)


def iso(moment: datetime) -> str:
    """UTC ISO 8601 with ``Z``, as every dwelltime JSON file writes times."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def utc_minute(value: str) -> str:
    """``2024-04-01T03:12:45Z`` -> ``2024-04-01 03:12 UTC``: the report's own digits, cut, never converted.

    Letters state times in UTC exactly as the exposure report holds them, so that every
    number in a letter can be found in the report.
    """
    moment = parse_time(value)
    return moment.strftime("%Y-%m-%d %H:%M") + " UTC"


def utc_day(value: str) -> str:
    """``2024-04-01T03:12:45Z`` -> ``2024-04-01``."""
    return parse_time(value).strftime("%Y-%m-%d")
