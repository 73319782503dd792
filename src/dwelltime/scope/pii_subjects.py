"""Data subjects: whose personal data a text holds, as groups of findings about one person.

Regulators and letters count people, not values (APPI's 本人の数, GDPR Art. 33(3)(a)
"approximate number of data subjects").  Mail gives the grouping away by its layout: one
row of a list is one person; a signature block or a form is one person, starting at their
name; "高橋 健一（Kenichi Takahashi）" is one person written twice.  So findings are grouped
per record (a table row, else a block of lines between blank lines), each name or a new
e-mail address opening a subject and the values after it attaching to it (values before
the first name of a block wait for it), and subjects that share a name or an address are
merged across records.  Values in a record with no name and no address belong to no one
the text identifies and are left out.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from dwelltime.scope.pii_base import Context, Finding

_ALIAS_GAP = re.compile(r"^[\s（(）)/／・,、]*$")


@dataclass(frozen=True, slots=True)
class Subject:
    """One identifiable person: the names and addresses that identify them, and their values."""

    names: tuple[str, ...]
    emails: tuple[str, ...]
    values: tuple[tuple[str, str], ...]  # (category, value), sorted, names and e-mails included

    @property
    def key(self) -> str:
        """A stable identifier: the first name, else the first address."""
        return f"name:{self.names[0]}" if self.names else f"email:{self.emails[0]}"


class _Group:
    __slots__ = ("emails", "names", "values")

    def __init__(self) -> None:
        self.names: list[str] = []
        self.emails: list[str] = []
        self.values: set[tuple[str, str]] = set()


def _records(text: str, ctx: Context, findings: list[Finding]) -> list[list[Finding]]:
    blocks = [m.start() for m in re.finditer(r"\n[ \t\u3000]*\n", text)]
    out: dict[tuple[int, int], list[Finding]] = {}
    for f in sorted(findings, key=lambda f: f.start):
        in_row = bool(ctx.row_cells(f.start))
        key = (0, ctx.line_bounds(f.start)[0]) if in_row else (1, bisect.bisect_left(blocks, f.start))
        out.setdefault(key, []).append(f)
    return list(out.values())


def subjects(text: str, findings: list[Finding]) -> list[Subject]:
    """The people ``findings`` (from :func:`~dwelltime.scope.pii.find_pii` on ``text``) are about."""
    ctx = Context(text)
    groups: list[_Group] = []
    for record in _records(text, ctx, findings):
        current: _Group | None = None
        last_name: Finding | None = None
        pending: list[Finding] = []
        for f in record:
            if f.category == "person_name":
                alias = last_name is not None and _ALIAS_GAP.match(text[last_name.end : f.start]) is not None
                if current is None or (current.names and not alias):
                    current = _Group()
                    groups.append(current)
                current.names.append(f.value)
                last_name = f
            elif f.category == "email":
                if current is None or current.emails:
                    current = _Group()
                    groups.append(current)
                current.emails.append(f.value)
            elif current is None:
                pending.append(f)
                continue
            current.values.add((f.category, f.value))
            if pending:
                current.values.update((p.category, p.value) for p in pending)
                pending.clear()
    return _merge(groups)


def _merge(groups: list[_Group]) -> list[Subject]:
    parent = list(range(len(groups)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    seen: dict[str, int] = {}
    for i, g in enumerate(groups):
        for ident in [f"n:{n}" for n in g.names] + [f"e:{e}" for e in g.emails]:
            if ident in seen:
                parent[find(i)] = find(seen[ident])
            else:
                seen[ident] = i
    merged: dict[int, _Group] = {}
    for i, g in enumerate(groups):
        root = merged.setdefault(find(i), _Group())
        root.names.extend(n for n in g.names if n not in root.names)
        root.emails.extend(e for e in g.emails if e not in root.emails)
        root.values |= g.values
    return [
        Subject(tuple(g.names), tuple(g.emails), tuple(sorted(g.values)))
        for g in merged.values()
        if g.names or g.emails
    ]
