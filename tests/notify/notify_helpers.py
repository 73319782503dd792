"""Helpers shared by the notify tests: run notify on a fixture, read HTML as a browser would."""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from notify_fixtures import INCIDENT, exposure, write_partners

from dwelltime.notify.run import NotifyResult, notify

NOW = datetime(2024, 4, 10, 12, 0, tzinfo=UTC)
CONTACT = "情報システム部 incident@example.co.jp"
ORG = "Example株式会社"


def run(tmp_path: Path, doc: Any = None, partners_csv: str | None = None, **options: Any) -> NotifyResult:
    partners = write_partners(tmp_path) if partners_csv is None else write_partners(tmp_path, partners_csv)
    options.setdefault("contact", CONTACT)
    options.setdefault("org_name", ORG)
    options.setdefault("now", NOW)
    return notify(doc if doc is not None else exposure(), INCIDENT, partners, tmp_path / "out", **options)


class Page(HTMLParser):
    """Tags, attributes and visible text of an HTML page, as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        if tag in ("style", "title", "script"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "title", "script"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)


def parse_html(text: str) -> Page:
    page = Page()
    page.feed(text)
    page.close()
    return page
