"""``dwelltime notify``: the command, kept beside the code it drives and registered into the main app.

Failures a user can fix (no exposure report, a bad partner CSV, a time without offset) end
with one ``error:`` line and exit code 2, never a traceback.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from dwelltime.errors import DwelltimeError
from dwelltime.workspace import resolve_workspace

_out = Console(highlight=False)
_err = Console(stderr=True, highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``notify`` to the dwelltime app."""
    app.command("notify")(notify_command)


def _fail(message: str) -> typer.Exit:
    _err.print(Text(f"error: {message}", style="bold red"))
    return typer.Exit(2)


def notify_command(
    incident: Annotated[str, typer.Argument(help="Incident id (see 'dwelltime incidents').")],
    partners: Annotated[
        Path,
        typer.Option(
            "--partners", help="Partner directory CSV: organisation,domain,country,contact,language,domestic."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Directory to write letters, drafts, STIX and MISP into.")],
    exposure: Annotated[
        Path | None,
        typer.Option("--exposure", help="Exposure report JSON (default <workspace>/scope/INCIDENT/exposure.json)."),
    ] = None,
    workspace: Annotated[
        Path | None,
        typer.Option("--workspace", "-w", help="Workspace directory (default ./dwelltime-data, or $DWELLTIME_HOME)."),
    ] = None,
    discovered_at: Annotated[
        str | None,
        typer.Option(
            "--discovered-at",
            help="When the organisation became aware, ISO 8601 with offset (2024-04-10T18:00+09:00). "
            "Default: the exposure report's discovered_at, else the incident's opened_at, else now.",
        ),
    ] = None,
    contact: Annotated[
        str | None, typer.Option("--contact", help="Our contact point, printed in letters and drafts.")
    ] = None,
    tlp: Annotated[
        str, typer.Option("--tlp", help="TLP of the STIX bundle and MISP event: white, green, amber, red.")
    ] = "amber",
    org_name: Annotated[
        str | None, typer.Option("--org-name", help="Our organisation's name (default: the account's domain).")
    ] = None,
    subjects: Annotated[
        bool,
        typer.Option(
            "--subjects", help="List the subjects of exposed messages in letters (off: subjects can be sensitive)."
        ),
    ] = False,
    attacker_domain: Annotated[
        list[str] | None, typer.Option("--attacker-domain", help="A domain the attacker used, to share (repeatable).")
    ] = None,
) -> None:
    """Letters to affected parties, PPC and GDPR drafts with their deadlines, a STIX 2.1 bundle and a MISP event."""
    from dwelltime.notify.inputs import (
        check_incident_id,
        default_exposure_path,
        load_exposure,
        load_incident,
        load_incident_alerts,
    )
    from dwelltime.notify.run import notify
    from dwelltime.notify.stix import TLP_LEVELS
    from dwelltime.notify.text import parse_time

    if tlp.lower() not in TLP_LEVELS:
        raise _fail(f"--tlp {tlp!r} is not one of {', '.join(TLP_LEVELS)}")
    moment: datetime | None = None
    if discovered_at:
        try:
            moment = parse_time(discovered_at)
        except ValueError as exc:
            raise _fail(f"--discovered-at: {exc}") from exc
    if not partners.is_file():
        raise _fail(f"no partner directory at {partners}")
    try:
        check_incident_id(incident)
        root = resolve_workspace(workspace)
        path = exposure or default_exposure_path(root, incident)
        report = load_exposure(path)
        if report["incident_id"] and report["incident_id"] != incident:
            raise _fail(f"{path} is the exposure report of {report['incident_id']}, not {incident}")
        found = load_incident(root, incident)
        alerts = load_incident_alerts(root, incident)
        result = notify(
            report,
            found,
            partners,
            out,
            discovered_at=moment,
            contact=contact,
            org_name=org_name,
            tlp=tlp.lower(),
            include_subjects=subjects,
            alerts=alerts,
            attacker_domains=attacker_domain or [],
        )
    except DwelltimeError as exc:
        raise _fail(str(exc)) from exc
    if found is None:
        _err.print(
            Text(f"note: incident {incident} not found in {root / 'incidents.json'}; using the exposure report alone")
        )
    deadlines = result.deadlines
    _out.print(Text(f"{len(result.letters)} letter(s), 2 regulator drafts, STIX bundle and MISP event in {out}"))
    _out.print(
        Text(
            f"deadlines from discovery {deadlines.discovered_at.isoformat()} ({deadlines.discovered_source}): "
            f"GDPR {deadlines.gdpr_due.isoformat()}; PPC preliminary {deadlines.ppc_preliminary_target.day} JST, "
            f"final {deadlines.ppc_final.day} JST"
        )
    )
    for domain, reason in result.skipped_parties:
        _out.print(Text(f"no letter for {domain}: {reason}"))
