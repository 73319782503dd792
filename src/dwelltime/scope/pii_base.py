"""Shared pieces of personal-data detection: the Finding record, character classes, context.

Mail text is attacker-controlled data: everything here only matches regular expressions
against it and slices it; nothing is evaluated, executed or used as a path.

Patterns run on the text as written (never on a normalised copy) so that offsets stay true
for redaction and snippets; character classes accept full-width digits and the hyphen
variants Japanese text uses, and canonical values are built with NFKC afterwards.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Finding:
    """One personal-data value found in a text: ``text[start:end]`` is what was written,
    ``value`` its canonical form (what counts as "the same value" across messages)."""

    category: str
    value: str
    start: int
    end: int


D = "[0-9０-９]"
"""A digit, half- or full-width."""
HY = "[-‐‑‒–—―−－]"
"""A hyphen as Japanese and English text write it (not the katakana long-vowel mark)."""
SP = "[ \u3000\t]"
"""Horizontal white space, including the ideographic space."""

_WS = re.compile(r"\s+")


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def clean(text: str) -> str:
    """NFKC with runs of white space collapsed to one space: the canonical form of free text."""
    return _WS.sub(" ", nfkc(text)).strip()


def digits(text: str) -> str:
    return "".join(ch for ch in nfkc(text) if ch.isdigit())


class Context:
    """Per-text lookups the detectors share: line bounds and the labels of table columns.

    Personal data in mail travels in forms ("氏名：…") and in CSV attachments whose header
    row names the column ("生年月日", "個人番号"): the label of a value is often the only
    thing that says what a date or a number is.
    """

    __slots__ = ("_cells", "_line_starts", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self._cells: list[tuple[int, int, str, int]] | None = None  # (start, end, label, row start)

    def line_bounds(self, pos: int) -> tuple[int, int]:
        i = bisect.bisect_right(self._line_starts, pos) - 1
        start = self._line_starts[i]
        end = self.text.find("\n", start)
        return start, len(self.text) if end < 0 else end

    def prefix(self, pos: int, width: int = 40) -> str:
        """Text of the line before ``pos`` (at most ``width`` characters), NFKC, lower case."""
        start, _ = self.line_bounds(pos)
        return nfkc(self.text[max(start, pos - width) : pos]).lower()

    def line(self, pos: int) -> str:
        start, end = self.line_bounds(pos)
        return self.text[start:end]

    def previous_line(self, pos: int) -> str:
        start, _ = self.line_bounds(pos)
        if start == 0:
            return ""
        return self.line(start - 1)

    def column_label(self, pos: int) -> str | None:
        """Header label of the table cell holding ``pos`` (NFKC, lower case), if any."""
        cells = self._table()
        i = bisect.bisect_right(cells, (pos, 1 << 62)) - 1
        if i >= 0:
            start, end, label, _ = cells[i]
            if start <= pos <= end:
                return label
        return None

    def row_cells(self, pos: int) -> list[tuple[str, str]]:
        """(label, cell text) of every cell in the table row holding ``pos``."""
        cells = self._table()
        i = bisect.bisect_right(cells, (pos, 1 << 62)) - 1
        if i < 0 or not (cells[i][0] <= pos <= cells[i][1]):
            return []
        row = cells[i][3]
        return [(label, self.text[s:e]) for s, e, label, r in cells if r == row]

    def _table(self) -> list[tuple[int, int, str, int]]:
        if self._cells is None:
            self._cells = _table_cells(self.text)
        return self._cells


_LABEL_WORD = re.compile(
    r"氏名|名前|フリガナ|生年月日|住所|電話|携帯|メール|所属|番号|口座|銀行|支店|性別|年齢|連絡先|部署|役職|国籍|旅券|"
    r"name|date|birth|address|phone|mail|mobile|tel|passport|account|bank|gender|age|title|department|nationality"
)
_CELL = re.compile(r'"(?:[^"\n]|"")*"|[^,\t\n]*')
_HAS_DIGIT = re.compile(r"[0-9０-９@]")


def _split(line: str, base: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    pos = 0
    while pos <= len(line):
        m = _CELL.match(line, pos)
        assert m is not None  # the pattern matches the empty string
        out.append((base + m.start(), base + m.end()))
        pos = m.end()
        if pos < len(line) and line[pos] in ",\t":
            pos += 1
        else:
            break
    return out


def _table_cells(text: str) -> list[tuple[int, int, str, int]]:
    """Cells of comma- or tab-separated tables: a header row of labels, then rows of values."""
    if "," not in text and "\t" not in text:
        return []
    out: list[tuple[int, int, str, int]] = []
    block: list[tuple[int, int, str, int]] = []
    labels: list[str] | None = None
    pos = 0

    def close() -> None:
        # Two columns whose first cells are all words ("氏名<TAB>田中 宏", "生年月日<TAB>…") are a
        # form of label/value pairs, not a table under a header row: the labels are read as
        # line prefixes instead.
        if block and labels is not None and len(labels) == 2 and not _LABEL_WORD.search(labels[1]):
            firsts = [labels[0]] + [nfkc(text[s:e]).lower() for s, e, _, _ in block[::2]]
            if all(_LABEL_WORD.search(f) for f in firsts):
                block.clear()
        out.extend(block)
        block.clear()

    for raw in text.split("\n"):
        line_start = pos
        pos += len(raw) + 1
        line = raw.rstrip("\r")
        if line.count(",") + line.count("\t") < 1:
            close()
            labels = None
            continue
        spans = _split(line, line_start)
        if labels is None or len(spans) != len(labels):
            close()
            fields = [text[s:e].strip().strip('"').lstrip("\ufeff") for s, e in spans]
            if len(fields) >= 2 and all(f and not _HAS_DIGIT.search(f) and len(f) <= 30 for f in fields):
                labels = [nfkc(f).lower() for f in fields]
            else:
                labels = None
            continue
        for (s, e), label in zip(spans, labels, strict=True):
            block.append((s, e, label, line_start))
    close()
    return out
