"""``notify``: from one exposure report to everything that must go out, written into one directory.

The order is the order of dependence: letters first (the regulator drafts count them), then the
drafts and their clocks, then the sharing formats, then a README and an index page listing it
all.  Every output is derived from the exposure report (and the incident and alerts, for the
clock and the detection record); nothing is fetched, nothing is sent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dwelltime.errors import DwelltimeError
from dwelltime.notify.deadlines import Deadlines, compute_deadlines
from dwelltime.notify.indicators import Indicators, gather
from dwelltime.notify.letters import Letter, recipient_for, render_letter
from dwelltime.notify.misp import build_event
from dwelltime.notify.regulators import Draft, gdpr_draft, ppc_draft
from dwelltime.notify.render import markdown_to_html, render_markdown
from dwelltime.notify.stix import build_bundle, tlp_marking
from dwelltime.notify.text import clean, iso, parse_time, unique_slugs
from dwelltime.notify.trace import untraceable
from dwelltime.scope.contract import Exposure, Party
from dwelltime.scope.partners import PartnerDirectory, load_partners, registrable_domain

MANIFEST = "notify.json"


@dataclass
class NotifyResult:
    out: Path
    letters: list[Letter]
    drafts: list[Draft]
    deadlines: Deadlines
    indicators: Indicators
    files: list[Path] = field(default_factory=list)
    skipped_parties: list[tuple[str, str]] = field(default_factory=list)  # (domain, reason)


def notify(
    exposure: Exposure,
    incident: Mapping[str, Any] | None,
    partners: Path | PartnerDirectory | None,
    out: Path,
    *,
    discovered_at: datetime | None = None,
    contact: str | None = None,
    org_name: str | None = None,
    tlp: str = "amber",
    include_subjects: bool = False,
    alerts: Sequence[Mapping[str, Any]] = (),
    attacker_domains: Sequence[str] = (),
    now: datetime | None = None,
) -> NotifyResult:
    """Write letters, regulator drafts, ``deadlines.json``, ``stix-bundle.json`` and ``misp-event.json`` into ``out``.

    ``discovered_at`` (the moment the organisation became aware) starts every regulator's
    clock; without it the exposure's ``discovered_at`` is used, then the incident's
    ``opened_at``, then ``now`` — and the drafts say which.
    """
    now = (now or datetime.now(UTC)).astimezone(UTC)
    tlp_marking(tlp)  # refuse a bad level before writing anything
    directory = (
        partners
        if isinstance(partners, PartnerDirectory)
        else (load_partners(partners) if partners else PartnerDirectory(()))
    )
    own = _own_domains(exposure)
    org = clean(org_name) if org_name else sorted(own)[0] if own else "our organisation"
    moment, source = _discovery(exposure, incident, discovered_at, now)
    deadlines = compute_deadlines(moment, source, improper_purpose=True)

    letters, skipped = _letters(
        exposure, directory, own, org_name=org, contact=contact, include_subjects=include_subjects
    )
    drafts = [
        ppc_draft(exposure, deadlines, letters, incident, alerts, org_name=org, contact=contact),
        gdpr_draft(exposure, deadlines, letters, incident, alerts, org_name=org, contact=contact, now=now),
    ]
    _check_traceable(letters, exposure, [contact or "", org])
    indicators = gather(exposure, incident, extra_domains=attacker_domains)
    result = NotifyResult(out, letters, drafts, deadlines, indicators, skipped_parties=skipped)

    out.mkdir(parents=True, exist_ok=True)
    _remove_previous(out)
    for letter in letters:
        result.files += _write_pair(out / "letters" / letter.slug, letter.markdown, letter.html)
    for draft in drafts:
        result.files += _write_pair(out / "regulators" / draft.name, draft.markdown, draft.html)
    result.files.append(_write(out / "deadlines.json", _json(deadlines.to_json(now))))
    bundle = build_bundle(indicators, org_name=org, tlp=tlp, now=now)
    result.files.append(_write(out / "stix-bundle.json", bundle.serialize(pretty=True) + "\n"))
    event = build_event(indicators, org_name=org, tlp=tlp, now=now)
    result.files.append(_write(out / "misp-event.json", event.to_json(indent=2) + "\n"))
    result.files += _write_readme(result, exposure, org, tlp, now)
    result.files.append(_write(out / MANIFEST, _json(_manifest(result, now))))
    return result


def _own_domains(exposure: Exposure) -> set[str]:
    """Registrable domains of the compromised account and its aliases: our side, not a party to notify."""
    domains = set()
    for address in [exposure["account"], *exposure["aliases"]]:
        if "@" in address:
            domains.add(registrable_domain(address.rsplit("@", 1)[1]))
    return domains


def _discovery(
    exposure: Exposure, incident: Mapping[str, Any] | None, given: datetime | None, now: datetime
) -> tuple[datetime, str]:
    if given is not None:
        if given.tzinfo is None:
            raise ValueError("discovered_at must carry a time zone")
        return given.astimezone(UTC), "option"
    if exposure["discovered_at"]:
        return parse_time(exposure["discovered_at"]), "exposure"
    if incident and incident.get("opened_at"):
        return parse_time(str(incident["opened_at"])), "incident"
    return now, "now"


def _letters(
    exposure: Exposure,
    directory: PartnerDirectory,
    own: set[str],
    *,
    org_name: str,
    contact: str | None,
    include_subjects: bool,
) -> tuple[list[Letter], list[tuple[str, str]]]:
    chosen: list[Party] = []
    skipped: list[tuple[str, str]] = []
    for party in exposure["parties"]:
        if party["domain"] in own:
            skipped.append((party["domain"], "our own organisation"))
        elif party["messages"] <= 0 and party["data_subjects"] <= 0:
            skipped.append((party["domain"], "no exposed message and no data subject"))
        else:
            chosen.append(party)
    slugs = unique_slugs([p["domain"] for p in chosen])
    letters = [
        render_letter(
            exposure,
            party,
            recipient_for(party, directory),
            slug,
            org_name=org_name,
            contact=contact,
            include_subjects=include_subjects,
        )
        for party, slug in zip(chosen, slugs, strict=True)
    ]
    return letters, skipped


def _remove_previous(out: Path) -> None:
    """Delete the letters a previous run listed in its manifest, so a party dropped since leaves no stale letter.

    Only files the manifest names, inside ``out/letters``, are touched.
    """
    manifest = out / MANIFEST
    if not manifest.is_file():
        return
    try:
        previous = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    letters_dir = (out / "letters").resolve()
    for name in previous.get("files", []) if isinstance(previous, dict) else []:
        path = (out / str(name)).resolve()
        if path.parent == letters_dir and path.suffix in (".md", ".html") and path.is_file():
            path.unlink()


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _write_pair(stem: Path, markdown: str, html: str) -> list[Path]:
    return [_write(stem.with_suffix(".md"), markdown), _write(stem.with_suffix(".html"), html)]


def _json(doc: Any) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def _write_readme(result: NotifyResult, exposure: Exposure, org: str, tlp: str, now: datetime) -> list[Path]:
    out = result.out
    rows = [
        {
            "file": f"letters/{letter.slug}.md",
            "html": f"letters/{letter.slug}.html",
            "organisation": clean(letter.recipient.organisation),
            "domain": letter.recipient.domain,
            "language": letter.recipient.language,
            "contact": clean(letter.recipient.contact) if letter.recipient.contact else None,
            "in_directory": letter.recipient.in_directory,
        }
        for letter in result.letters
    ]
    markdown = render_markdown(
        "readme.md.j2",
        org_name=org,
        incident_id=exposure["incident_id"],
        account=exposure["account"],
        generated_at=iso(now),
        letters=rows,
        skipped=[{"domain": d, "reason": r} for d, r in result.skipped_parties],
        deadlines=result.deadlines.to_json(now),
        tlp=tlp.upper(),
        indicators=result.indicators,
        skipped_indicators=list(result.indicators.skipped),
    )
    return [
        _write(out / "README.md", markdown),
        _write(out / "index.html", markdown_to_html(markdown, title="dwelltime notify: outputs", lang="en")),
    ]


def _manifest(result: NotifyResult, now: datetime) -> dict[str, Any]:
    return {
        "generated_at": iso(now),
        "files": [p.relative_to(result.out).as_posix() for p in result.files] + [MANIFEST],
        "letters": [
            {
                "file": f"letters/{letter.slug}.md",
                "organisation": letter.recipient.organisation,
                "domain": letter.recipient.domain,
                "language": letter.recipient.language,
                "contact": letter.recipient.contact,
                "country": letter.recipient.country,
                "domestic": letter.recipient.domestic,
                "in_directory": letter.recipient.in_directory,
                "messages": letter.party["messages"],
            }
            for letter in result.letters
        ],
        "skipped_parties": [{"domain": d, "reason": r} for d, r in result.skipped_parties],
        "skipped_indicators": list(result.indicators.skipped),
    }


def _check_traceable(letters: Sequence[Letter], exposure: Exposure, supplied: list[str]) -> None:
    """Refuse to write a letter that states a number the exposure report does not hold."""
    for letter in letters:
        own = [supplied[0], supplied[1], letter.recipient.organisation, letter.recipient.contact or ""]
        found = untraceable(letter.markdown, exposure, own)
        if found:
            raise DwelltimeError(
                f"letter {letter.slug} states {', '.join(found)}, which the exposure report does not hold: not written"
            )
