"""The partner directory: who an affected organisation is, how to reach it, in which language.

A CSV the analyst keeps (``organisation,domain,country,contact,language,domestic``), often
exported from a spreadsheet, so it is read forgivingly where that is harmless (a BOM, Shift_JIS
from Japanese Excel, several domains in one cell, ``yes``/``domestic``/``true``) and refused
with ``file:line: reason`` where a guess could send a letter to the wrong place or in the
wrong language.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from dwelltime.errors import ConfigError

if TYPE_CHECKING:
    from publicsuffixlist import PublicSuffixList

COLUMNS = ("organisation", "domain", "country", "contact", "language", "domestic")
REQUIRED = ("organisation", "domain")

_TRUE = {"yes", "y", "true", "1", "domestic"}
_FALSE = {"no", "n", "false", "0", "foreign"}
_LANGUAGES = {"ja": "ja", "jp": "ja", "japanese": "ja", "日本語": "ja", "en": "en", "english": "en", "英語": "en"}
_DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}")


class PartnerDirectoryError(ConfigError):
    """A partner directory that cannot be read; the message is ``file:line: reason``."""

    def __init__(self, file: Path, line: int, reason: str) -> None:
        super().__init__(f"{file}:{line}: {reason}")
        self.file = file
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class Partner:
    organisation: str
    domains: tuple[str, ...]
    country: str | None
    contact: str | None
    language: str | None  # "ja" | "en"
    domestic: bool | None
    line: int  # where it was read, for messages that point back at the CSV


@dataclass(frozen=True)
class PartnerDirectory:
    partners: tuple[Partner, ...]
    source: Path | None = None

    def match(self, domains: Iterable[str]) -> Partner | None:
        """The directory row for an organisation seen under ``domains`` (its registrable domain first).

        An exact domain match wins over a match through the registrable domain, so that two
        subsidiaries listed under ``a.example.co.jp`` and ``b.example.co.jp`` stay apart, while a
        row listing ``example.co.jp`` still covers mail from ``mail.example.co.jp``.
        """
        wanted = [d.lower().rstrip(".") for d in domains if d]
        for domain in wanted:
            for partner in self.partners:
                if domain in partner.domains:
                    return partner
        for domain in wanted:
            for partner in self.partners:
                if any(domain.endswith("." + own) for own in partner.domains):
                    return partner
        registrables = {registrable_domain(d) for d in wanted}
        for partner in self.partners:
            if any(registrable_domain(own) in registrables for own in partner.domains):
                return partner
        return None


def load_partners(path: Path) -> PartnerDirectory:
    """Read and check a partner directory CSV; :class:`PartnerDirectoryError` names file, line and reason."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the partner directory ({exc.strerror or exc})") from exc
    text = _decode(path, data)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise PartnerDirectoryError(path, 1, f"not CSV: {exc}") from exc
    if header is None:
        raise PartnerDirectoryError(path, 1, "empty file (expected a header: " + ",".join(COLUMNS) + ")")
    names = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise PartnerDirectoryError(
            path, 1, f"header lacks column(s) {', '.join(missing)} (expected {','.join(COLUMNS)})"
        )
    unknown = [n for n in names if n and n not in COLUMNS]
    if unknown:
        raise PartnerDirectoryError(path, 1, f"unknown column(s) {', '.join(unknown)} (expected {','.join(COLUMNS)})")
    partners: list[Partner] = []
    seen: dict[str, int] = {}
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise PartnerDirectoryError(path, reader.line_num, f"not CSV: {exc}") from exc
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(names):
            raise PartnerDirectoryError(path, line, f"{len(row)} fields, the header has {len(names)}")
        record = {name: (row[i].strip() if i < len(row) else "") for i, name in enumerate(names)}
        partner = _partner(path, line, record)
        for domain in partner.domains:
            if domain in seen:
                raise PartnerDirectoryError(path, line, f"domain {domain} is already listed on line {seen[domain]}")
            seen[domain] = line
        partners.append(partner)
    return PartnerDirectory(tuple(partners), path)


def is_domain_name(value: str) -> bool:
    """A syntactically valid host name with at least two labels (lower case, no trailing dot)."""
    return _DOMAIN.fullmatch(value) is not None


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as utf8_error:
        try:
            return data.decode("cp932")  # Japanese Excel's "CSV" export
        except UnicodeDecodeError:
            line = data[: utf8_error.start].count(b"\n") + 1
            raise PartnerDirectoryError(path, line, "neither UTF-8 nor Shift_JIS (cp932) text") from utf8_error


def _partner(path: Path, line: int, record: dict[str, str]) -> Partner:
    organisation = record.get("organisation", "")
    if not organisation:
        raise PartnerDirectoryError(path, line, "organisation is empty")
    raw_domains = [d for d in re.split(r"[;,\s]+", record.get("domain", "").lower()) if d]
    if not raw_domains:
        raise PartnerDirectoryError(path, line, "domain is empty")
    domains = []
    for raw in raw_domains:
        domain = raw.removeprefix("@").rstrip(".")
        if not is_domain_name(domain):
            raise PartnerDirectoryError(path, line, f"{raw!r} is not a domain name")
        domains.append(domain)
    language_cell = record.get("language", "")
    language = None
    if language_cell:
        language = _LANGUAGES.get(language_cell.lower())
        if language is None:
            raise PartnerDirectoryError(path, line, f"language {language_cell!r} is not ja or en")
    domestic_cell = record.get("domestic", "").lower()
    domestic: bool | None = None
    if domestic_cell in _TRUE:
        domestic = True
    elif domestic_cell in _FALSE:
        domestic = False
    elif domestic_cell:
        raise PartnerDirectoryError(
            path, line, f"domestic {record['domestic']!r} is not yes/no/true/false/domestic/foreign"
        )
    country = record.get("country", "").upper() or None
    if domestic is None and country:
        domestic = country in ("JP", "JPN", "JAPAN")
    return Partner(
        organisation=organisation,
        domains=tuple(dict.fromkeys(domains)),
        country=country,
        contact=record.get("contact") or None,
        language=language,
        domestic=domestic,
        line=line,
    )


@cache
def _psl() -> PublicSuffixList | None:
    try:
        from publicsuffixlist import PublicSuffixList
    except ImportError:  # the ``scope`` extra brings it; notify alone falls back to a rule of thumb
        return None
    return PublicSuffixList()


# Second-level labels under which Japanese registrations sit (example.co.jp), for the fallback.
_JP_SECOND_LEVEL = {"co", "ne", "or", "ac", "ad", "ed", "go", "gr", "lg"}


def registrable_domain(domain: str) -> str:
    """The registrable domain (``mail.example.co.jp`` -> ``example.co.jp``), offline.

    Uses the public-suffix list when :mod:`publicsuffixlist` is installed; otherwise the last
    two labels, or three under a generic second level such as ``co.jp`` or ``co.uk``.
    """
    domain = domain.lower().rstrip(".")
    psl = _psl()
    if psl is not None:
        found = psl.privatesuffix(domain)
        return found if isinstance(found, str) else domain
    labels = domain.split(".")
    if len(labels) >= 3 and (labels[-2] in _JP_SECOND_LEVEL or labels[-2] in {"com", "org", "net", "gov", "ac", "co"}):
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def default_language(domain: str) -> str:
    """Japanese for a ``.jp`` registrable domain, English otherwise."""
    return "ja" if domain.lower().rstrip(".").endswith(".jp") or domain == "jp" else "en"
