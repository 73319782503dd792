"""Drafts for the regulators: the PPC's leak report (漏えい等報告) and a GDPR Art. 33 notification.

Each draft is laid out on the fields the regulator asks for — the PPC form's items (施行規則
Art. 8(1) (i)–(ix)) and Art. 33(3) (a)–(d) — and fills in what the exposure report
establishes: what happened, the categories and numbers, the cause as the logs show it, the
deadlines from discovery.  What the tool cannot know (whether secondary damage has occurred,
what was done for the people concerned, publication, measures) is left as a marked
placeholder for the analyst; the likely consequences are worded as risks that follow from
the categories found, for the analyst to confirm or strike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dwelltime.notify.attack import technique_name
from dwelltime.notify.deadlines import GDPR_HOURS, JST, DayDeadline, Deadlines
from dwelltime.notify.labels import FINANCIAL, IDENTITY, SPECIAL, pii_rows
from dwelltime.notify.letters import Letter
from dwelltime.notify.render import markdown_to_html, render_markdown
from dwelltime.notify.text import clean, parse_time, utc_minute
from dwelltime.scope.contract import Exposure

PPC_REPORTABLE_THRESHOLD = 1000  # 施行規則 Art. 7(iv): more than 1,000 people

_WEEKDAYS_JA = "月火水木金土日"


@dataclass(frozen=True)
class Draft:
    name: str  # file stem under regulators/
    language: str
    markdown: str
    html: str


def jst(moment: datetime) -> str:
    local = moment.astimezone(JST)
    return local.strftime("%Y-%m-%d") + f"（{_WEEKDAYS_JA[local.weekday()]}）" + local.strftime("%H:%M") + " JST"


def jst_day(deadline: DayDeadline) -> str:
    return f"{deadline.day.isoformat()}（{_WEEKDAYS_JA[deadline.day.weekday()]}）"


def _common(
    exposure: Exposure,
    deadlines: Deadlines,
    letters: Sequence[Letter],
    incident: Mapping[str, Any] | None,
    alerts: Sequence[Mapping[str, Any]],
    *,
    org_name: str,
    contact: str | None,
    language: str,
) -> dict[str, Any]:
    pii = exposure["pii"]
    start = exposure["first_attacker_activity"] or exposure["window"]["since"]
    end = exposure["last_attacker_activity"] or exposure["window"]["until"]
    techniques = [
        {"id": t, "name": technique_name(t) or ""}
        for t in dict.fromkeys([*exposure["techniques"], *_list(incident, "techniques")])
    ]
    timeline = sorted(
        ({"time": _time(a.get("time")), "detection": str(a.get("detection", ""))} for a in alerts),
        key=lambda a: a["time"],
    )
    foreign = [letter.recipient for letter in letters if letter.recipient.domestic is False]
    return {
        "org_name": clean(org_name),
        "contact": clean(contact) if contact else None,
        "account": exposure["account"],
        "incident_id": exposure["incident_id"],
        "start": start,
        "end": end,
        "activity_from": utc_minute(start),
        "activity_to": utc_minute(end),
        "window_since": utc_minute(exposure["window"]["since"]),
        "window_until": utc_minute(exposure["window"]["until"]),
        "summary": exposure["summary"],
        "pii_rows": pii_rows(pii, language),
        "data_subjects": exposure["data_subjects"],
        "special": any(pii.get(c, 0) > 0 for c in SPECIAL),
        "financial": any(pii.get(c, 0) > 0 for c in FINANCIAL),
        "identity": any(pii.get(c, 0) > 0 for c in IDENTITY),
        "contactable": pii.get("email", 0) > 0 or pii.get("phone", 0) > 0 or pii.get("postal_address", 0) > 0,
        "over_threshold": exposure["data_subjects"] > PPC_REPORTABLE_THRESHOLD,
        "threshold": PPC_REPORTABLE_THRESHOLD,
        "techniques": techniques,
        "attacker_ips": len(exposure["attacker"]["ips"]),
        "attacker_countries": exposure["attacker"]["countries"],
        "detections": _list(incident, "detections"),
        "timeline": timeline,
        "letters": len(letters),
        "letters_domestic": sum(1 for letter in letters if letter.recipient.domestic is True),
        "letters_foreign": len(foreign),
        "foreign": [{"organisation": clean(r.organisation), "country": r.country or "?"} for r in foreign],
        "uncertainty": exposure["uncertainty"],
        "deadlines": deadlines,
        "discovered_source": deadlines.discovered_source,
    }


def ppc_draft(
    exposure: Exposure,
    deadlines: Deadlines,
    letters: Sequence[Letter],
    incident: Mapping[str, Any] | None = None,
    alerts: Sequence[Mapping[str, Any]] = (),
    *,
    org_name: str,
    contact: str | None,
) -> Draft:
    """漏えい等報告 (速報) draft in Japanese, times in JST."""
    context = _common(exposure, deadlines, letters, incident, alerts, org_name=org_name, contact=contact, language="ja")
    context.update(
        discovered=jst(deadlines.discovered_at),
        activity_from=jst(parse_time(context["start"])),
        activity_to=jst(parse_time(context["end"])),
        window_since=jst(parse_time(exposure["window"]["since"])),
        window_until=jst(parse_time(exposure["window"]["until"])),
        preliminary_early=jst_day(deadlines.ppc_preliminary[0]),
        preliminary_late=jst_day(deadlines.ppc_preliminary[1]),
        preliminary_target=jst_day(deadlines.ppc_preliminary_target),
        final=jst_day(deadlines.ppc_final),
        final_days=deadlines.ppc_final.days,
        final_weekend=deadlines.ppc_final.weekend,
        final_standard=jst_day(deadlines.ppc_final_standard),
        gdpr_due=jst(deadlines.gdpr_due),
    )
    markdown = render_markdown("ppc_ja.md.j2", **context)
    return Draft("ppc_ja", "ja", markdown, markdown_to_html(markdown, title="漏えい等報告（草案）", lang="ja"))


def gdpr_draft(
    exposure: Exposure,
    deadlines: Deadlines,
    letters: Sequence[Letter],
    incident: Mapping[str, Any] | None = None,
    alerts: Sequence[Mapping[str, Any]] = (),
    *,
    org_name: str,
    contact: str | None,
    now: datetime,
) -> Draft:
    """GDPR Art. 33 notification draft in English, times in UTC."""
    context = _common(exposure, deadlines, letters, incident, alerts, org_name=org_name, contact=contact, language="en")
    context.update(
        discovered=utc_minute(deadlines.discovered_at.isoformat()),
        gdpr_due=utc_minute(deadlines.gdpr_due.isoformat()),
        overdue=now > deadlines.gdpr_due,
        gdpr_hours=GDPR_HOURS,
    )
    markdown = render_markdown("gdpr_art33_en.md.j2", **context)
    return Draft(
        "gdpr_art33_en",
        "en",
        markdown,
        markdown_to_html(markdown, title="GDPR Art. 33 notification (draft)", lang="en"),
    )


def _list(source: Mapping[str, Any] | None, key: str) -> list[str]:
    values = (source or {}).get(key) or []
    return [str(v) for v in values]


def _time(value: Any) -> str:
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)  # the store's times are UTC
        return utc_minute(aware.isoformat())
    return utc_minute(str(value)) if value else ""
