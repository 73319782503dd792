"""CLI commands of breach scoping: ``dwelltime mailbox index`` and ``dwelltime scope``.

Kept beside the scoping code and registered by :func:`register`, so the main CLI module
only names the command groups.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from dwelltime.errors import DwelltimeError
from dwelltime.workspace import Workspace

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)
mailbox_app = typer.Typer(help="Mailbox exports: index them for scoping.", no_args_is_help=True)

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option("--workspace", "-w", help="Workspace directory (default ./dwelltime-data, or $DWELLTIME_HOME)."),
]


def _fail(message: str) -> typer.Exit:
    err_console.print(Text(f"error: {message}", style="bold red"))
    return typer.Exit(2)


def _time(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise _fail(f"{option}: not an ISO 8601 time: {value!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@mailbox_app.command("index")
def mailbox_index_command(
    path: Annotated[Path, typer.Argument(help="Mailbox export: mbox / Maildir / .eml / .msg, PATH/<owner>/<folders>.")],
    owner: Annotated[str | None, typer.Option(help="PATH is one mailbox: whose (login or address).")] = None,
    attachment_text: Annotated[
        bool, typer.Option("--attachment-text", help="Extract every attachment's text now (else only when exposed).")
    ] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Index the messages of a mailbox export (folder, date, parties, subject, attachments, text)."""
    from dwelltime.scope.mailbox import index_path

    try:
        summary = index_path(Workspace.open(workspace), path, owner=owner, attachment_text=attachment_text)
    except DwelltimeError as exc:
        raise _fail(str(exc)) from exc
    console.print(
        Text(f"{summary.messages:,} messages in {summary.files:,} files, {len(summary.owners):,} mailboxes indexed")
    )
    for error in summary.errors[:20]:
        err_console.print(Text(f"warning: {error}", style="yellow"))


def scope_command(
    account: Annotated[str, typer.Argument(help="The compromised account (principal, address or on-prem login).")],
    mailbox: Annotated[
        Path | None, typer.Option(help="Mailbox export to index first (else the workspace's index is used).")
    ] = None,
    incident: Annotated[str | None, typer.Option(help="Incident id (or a unique prefix): window and sources.")] = None,
    since: Annotated[
        str | None, typer.Option(help="Window start, ISO 8601 (default: 30 days before the incident).")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Window end, ISO 8601 (default: the last stored event).")] = None,
    attacker_ip: Annotated[
        list[str] | None, typer.Option("--attacker-ip", help="An attacker address (repeat).")
    ] = None,
    attacker_session: Annotated[
        list[str] | None, typer.Option("--attacker-session", help="An attacker session id (repeat).")
    ] = None,
    legit_ip: Annotated[list[str] | None, typer.Option("--legit-ip", help="A legitimate address (repeat).")] = None,
    partners: Annotated[Path | None, typer.Option(help="Partner directory CSV (organisation, domain, ...).")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Report directory (default <workspace>/scope/<incident|account>).")
    ] = None,
    no_pii: Annotated[bool, typer.Option("--no-pii", help="Skip the personal-data scan.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the exposure JSON.")] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """What the attacker read: sessions, exposed messages, parties, personal data (HTML + JSON + CSV)."""
    import orjson

    from dwelltime.scope.mailbox import index_path
    from dwelltime.scope.report import write_report
    from dwelltime.scope.run import ScopeOptions, scope

    try:
        ws = Workspace.open(workspace, create=False)
        if mailbox is not None:
            index_path(ws, mailbox)
        exposure = scope(
            ws,
            ScopeOptions(
                account=account,
                incident_id=incident,
                since=_time(since, "--since"),
                until=_time(until, "--until"),
                attacker_ips=frozenset(attacker_ip or ()),
                attacker_sessions=frozenset(attacker_session or ()),
                legit_ips=frozenset(legit_ip or ()),
                partners=partners,
                scan_pii=not no_pii,
            ),
        )
    except DwelltimeError as exc:
        raise _fail(str(exc)) from exc
    target = out or ws.root / "scope" / _slug(exposure["incident_id"] or exposure["account"])
    write_report(exposure, target)
    if as_json:
        typer.echo(orjson.dumps(exposure, option=orjson.OPT_INDENT_2).decode())
        return
    s = exposure["summary"]
    console.print(
        Text(
            f"{s['messages']:,} messages exposed ({s['messages_certain']:,} certain, {s['messages_uncertain']:,} more "
            f"possibly), {s['parties']:,} parties, {s['data_subjects']:,} data subjects, "
            f"{s['sessions_attacker']:,} attacker sessions"
        )
    )
    console.print(Text(f"report: {target / 'report.html'}"))


def _slug(text: str) -> str:
    """A directory name from an incident id or account (never a path: no separators or dots first)."""
    safe = "".join(ch if ch.isalnum() or ch in "-_@." else "_" for ch in text).lstrip(".")
    return safe[:120] or "scope"


def register(app: typer.Typer) -> None:
    app.add_typer(mailbox_app, name="mailbox")
    app.command("scope")(scope_command)
