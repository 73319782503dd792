"""Templates to Markdown, Markdown to self-contained HTML, and nothing live from the data.

Two layers keep an attacker's string inert.  In Markdown templates every ``{{ value }}`` passes
through :func:`dwelltime.notify.text.md` (the environment's ``finalize``), so a template author
cannot forget to escape.  The HTML is then rendered from that Markdown by markdown-it with raw
HTML, links, images and autolinks switched off, so even a string that slipped through escaping
would come out as text, and the page itself carries a Content-Security-Policy that forbids
scripts and any external fetch.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2
from markdown_it import MarkdownIt
from markupsafe import Markup

from dwelltime.notify.text import md


class Raw(str):
    """Template-authored Markdown that must not be escaped (never data)."""

    __slots__ = ()


def _finalize(value: Any) -> str:
    if isinstance(value, Raw):
        return str(value)
    return md(value)


@cache
def markdown_env() -> jinja2.Environment:
    """Jinja2 environment for the ``*.md.j2`` templates: every expression Markdown-escaped."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("dwelltime.notify", "templates"),
        autoescape=False,  # noqa: S701 - Markdown, not HTML: ``finalize`` escapes every value for Markdown
        finalize=_finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["num"] = _num
    return env


def _num(value: int) -> str:
    """A count with thousands separators (``12,345``)."""
    return f"{int(value):,}"


@cache
def html_env() -> jinja2.Environment:
    """Jinja2 environment for HTML page shells, with autoescape on for every template."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("dwelltime.notify", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


@cache
def _markdown() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    parser.enable("table")
    parser.disable(["link", "image", "autolink"])
    return parser


def render_markdown(template: str, **context: Any) -> str:
    """Render one ``templates/<template>`` Markdown template."""
    return markdown_env().get_template(template).render(**context)


def markdown_to_html(markdown: str, *, title: str, lang: str) -> str:
    """A complete HTML page for a Markdown document: inline style only, no scripts, no external assets."""
    body = Markup(_markdown().render(markdown))  # noqa: S704 - markdown-it output with raw HTML disabled
    return html_env().get_template("page.html.j2").render(title=title, lang=lang, body=body)
