"""Attacker-controlled strings never become live markup in any HTML output, nor steer file names."""

from __future__ import annotations

import re
from pathlib import Path

from notify_fixtures import HOSTILE_PARTNERS_CSV, IMG, MDLINK, SCRIPT, hostile
from notify_helpers import parse_html, run

from dwelltime.notify.render import markdown_to_html
from dwelltime.notify.text import md, slug, unique_slugs

# What our own templates produce; anything else came from data.
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "ul", "ol", "li",
    "strong", "em", "table", "thead", "tbody", "tr", "th", "td", "blockquote", "code", "br", "hr",
}  # fmt: skip
ALLOWED_ATTRS = {"lang", "charset", "http-equiv", "content", "name", "style"}


def _assert_inert(html: str, where: str) -> None:
    page = parse_html(html)
    for tag, attrs in page.tags:
        assert tag in ALLOWED_TAGS, f"{where}: live <{tag}>"
        for name, _ in attrs:
            assert name in ALLOWED_ATTRS, f"{where}: attribute {name} on <{tag}>"
    lowered = html.lower()
    for needle in ("<script", "<img", "<a "):  # a live tag needs a literal "<"; escaped text has "&lt;"
        assert needle not in lowered, f"{where}: {needle}"


def test_hostile_strings_are_inert_in_every_html_output(tmp_path: Path) -> None:
    result = run(tmp_path, hostile(), HOSTILE_PARTNERS_CSV, include_subjects=True, contact=f"{SCRIPT} {MDLINK}")
    htmls = sorted((tmp_path / "out").rglob("*.html"))
    assert len(htmls) == len(result.letters) + 2 + 1  # letters, two drafts, index.html
    for path in htmls:
        text = path.read_text(encoding="utf-8")
        _assert_inert(text, path.name)
    # The payloads are still there, as text a reader can see.
    letter = next(x for x in result.letters if x.recipient.domain == "supplier.co.jp")
    visible = " ".join(parse_html(letter.html).text)
    assert SCRIPT in visible and IMG.strip() in visible


def test_hostile_strings_are_escaped_in_markdown(tmp_path: Path) -> None:
    result = run(tmp_path, hostile(), HOSTILE_PARTNERS_CSV, include_subjects=True)
    for path in sorted((tmp_path / "out").rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(?<!\\)<", text), path.name  # every "<" from data is backslash-escaped
        assert not re.search(r"(?<!\\)\]\(", text), path.name  # no "[text](url)" link can form
        assert r"\<script\>" in text or path.parent.name == "regulators", path.name
    assert result.letters


def test_the_html_renderer_itself_refuses_raw_html_and_links() -> None:
    raw = f"# t\n\n{SCRIPT}\n\n<img src=x onerror=alert(1)>\n\n[a](javascript:alert(1)) <http://evil.example>\n"
    _assert_inert(markdown_to_html(raw, title=SCRIPT, lang="en"), "raw")


def test_md_escapes_markdown_and_html_controls() -> None:
    assert md("[x](y) <b> *a* _b_ `c` |d| #e") == r"\[x\]\(y\) \<b\> \*a\* \_b\_ \`c\` \|d\| \#e"
    assert md("line one\nline two\u202e") == "line one line two"  # one line, no bidi override


def test_letter_file_names_are_slugs_without_traversal(tmp_path: Path) -> None:
    doc = hostile()
    doc["parties"][2]["domain"] = "../../etc"
    doc["parties"][2]["domains"] = ["../../etc"]
    result = run(tmp_path, doc, HOSTILE_PARTNERS_CSV)
    letters_dir = (tmp_path / "out" / "letters").resolve()
    for path in (tmp_path / "out").rglob("*"):
        assert path.resolve().is_relative_to((tmp_path / "out").resolve())
    for letter in result.letters:
        assert (letters_dir / f"{letter.slug}.md").is_file()
        assert set(letter.slug) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")
    assert not (tmp_path / "etc").exists()
    assert slug("../../etc/passwd") == "etc-passwd"
    assert slug("株式会社") == "party"
    assert unique_slugs(["a.com", "a-com", "株式会社", "日本"]) == ["a-com", "a-com-2", "party", "party-2"]
