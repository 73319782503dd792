"""One notification letter per affected organisation, in its language, stating only what the report shows.

The letter's facts come from the exposure report and nothing else: the attacker's active
period, how many of the organisation's messages were exposed and their dates, the personal
data found in them (category and count), how many people it concerns.  Counts and dates are
printed exactly as the report holds them (times in UTC, not converted) so that each can be
found in the report by anyone checking the letter.  Subjects are left out unless asked for:
a subject line ("Re: 山田様の診断書") can itself be the sensitive part.

Who the organisation is, how to reach it and its language come from the partner directory
when a row matches, else from what ``scope`` already joined, else from the domain (Japanese
for ``.jp``).  Letters are named after the organisation's registrable domain, reduced to a
slug, so that no name from a log or a CSV can steer where a file is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dwelltime.notify.labels import FINANCIAL, SPECIAL, pii_rows
from dwelltime.notify.render import markdown_to_html, render_markdown
from dwelltime.notify.text import clean, utc_day, utc_minute
from dwelltime.scope.contract import ExposedMessage, Exposure, Party
from dwelltime.scope.partners import PartnerDirectory, default_language

CERTAIN = 0.9  # the report's own threshold for "messages_certain"


@dataclass(frozen=True)
class Recipient:
    organisation: str
    domain: str
    contact: str | None
    language: str  # "ja" | "en"
    country: str | None
    domestic: bool | None
    in_directory: bool
    directory_line: int | None


@dataclass(frozen=True)
class Letter:
    slug: str
    recipient: Recipient
    party: Party
    markdown: str
    html: str


def recipient_for(party: Party, directory: PartnerDirectory) -> Recipient:
    """Directory row first, then what the exposure report says, then the domain's default language."""
    row = directory.match([party["domain"], *party["domains"]])
    language = (row.language if row else None) or party["language"] or default_language(party["domain"])
    if language not in ("ja", "en"):
        language = default_language(party["domain"])
    return Recipient(
        organisation=(row.organisation if row else None) or party["organisation"] or party["domain"],
        domain=party["domain"],
        contact=(row.contact if row else None) or party["contact"],
        language=language,
        country=(row.country if row else None) or party["country"],
        domestic=row.domestic if row and row.domestic is not None else party["domestic"],
        in_directory=row is not None or party["in_directory"],
        directory_line=row.line if row else None,
    )


def party_messages(exposure: Exposure, party: Party) -> list[ExposedMessage]:
    wanted = set(party["message_ids"])
    return [m for m in exposure["messages"] if m["message_id"] in wanted]


def letter_context(
    exposure: Exposure,
    party: Party,
    recipient: Recipient,
    *,
    org_name: str,
    contact: str | None,
    include_subjects: bool,
) -> dict[str, Any]:
    """Everything a letter template may print; each number is a value of the exposure report."""
    messages = party_messages(exposure, party)
    dates = sorted(m["date"] for m in messages if m["date"])
    start = exposure["first_attacker_activity"]
    end = exposure["last_attacker_activity"]
    from_window = not (start and end)
    if not (start and end):
        start, end = exposure["window"]["since"], exposure["window"]["until"]
    subjects: list[dict[str, str | None]] = []
    if include_subjects:
        for message in sorted(messages, key=lambda m: m["date"] or ""):
            subjects.append(
                {"date": utc_day(message["date"]) if message["date"] else None, "subject": message["subject"]}
            )
    return {
        "org_name": clean(org_name),
        "contact": clean(contact) if contact else None,
        "recipient": clean(recipient.organisation),
        "recipient_contact": clean(recipient.contact) if recipient.contact else None,
        "account": exposure["account"],
        "incident_id": exposure["incident_id"],
        "activity_from": utc_minute(start),
        "activity_to": utc_minute(end),
        "from_window": from_window,
        "messages": party["messages"],
        "first_day": utc_day(dates[0]) if dates else None,
        "last_day": utc_day(dates[-1]) if dates else None,
        "some_inferred": any(m["confidence"] < CERTAIN for m in messages),
        "some_not_in_index": any(not m["in_index"] for m in messages),
        "pii_rows": pii_rows(party["pii"], recipient.language),
        "data_subjects": party["data_subjects"],
        "financial": any(party["pii"].get(c, 0) > 0 for c in FINANCIAL),
        "special": any(party["pii"].get(c, 0) > 0 for c in SPECIAL),
        "include_subjects": include_subjects,
        "subjects": subjects,
    }


def render_letter(
    exposure: Exposure,
    party: Party,
    recipient: Recipient,
    slug: str,
    *,
    org_name: str,
    contact: str | None,
    include_subjects: bool = False,
) -> Letter:
    context = letter_context(
        exposure, party, recipient, org_name=org_name, contact=contact, include_subjects=include_subjects
    )
    markdown = render_markdown(f"letter_{recipient.language}.md.j2", **context)
    title = (
        f"{context['recipient']} 御中: 不正アクセスに関するご報告"
        if recipient.language == "ja"
        else f"{context['recipient']}: notice of unauthorised access to e-mail"
    )
    html = markdown_to_html(markdown, title=title, lang=recipient.language)
    return Letter(slug=slug, recipient=recipient, party=party, markdown=markdown, html=html)
