"""The command line: the public contract that scripts and analysts drive.

Every string that came from a log (file names, users, subjects, reasons) is shown
through ``rich.text.Text`` or escaped, never interpreted as markup.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from dwelltime import __version__
from dwelltime.errors import DwelltimeError
from dwelltime.ingest import FileSummary, IngestOptions, ingest, read_manifest
from dwelltime.workspace import Workspace

if TYPE_CHECKING:
    from dwelltime.enrich import Enricher

app = typer.Typer(
    name="dwelltime",
    help="Find a stealthy compromise of an organisation's e-mail, scope what was read, notify who must be told.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option("--workspace", "-w", help="Workspace directory (default ./dwelltime-data, or $DWELLTIME_HOME)."),
]


def _existing_workspace(workspace: Path | None) -> Workspace:
    """The workspace to read, or a clear error when there is none."""
    try:
        return Workspace.open(workspace, create=False)
    except DwelltimeError as exc:
        raise _fail(str(exc)) from exc


def _fail(message: str, code: int = 2) -> typer.Exit:
    err_console.print(Text(f"error: {message}", style="bold red"))
    return typer.Exit(code)


@app.command("ingest")
def ingest_command(
    paths: Annotated[list[Path], typer.Argument(help="Files or directories (recursed; .gz read).", exists=False)],
    workspace: WorkspaceOpt = None,
    format: Annotated[
        str | None, typer.Option("--format", "-f", help="Force a format (see 'dwelltime formats').")
    ] = None,
    year: Annotated[int | None, typer.Option(help="Year for syslog timestamps that carry none.")] = None,
    tz: Annotated[str, typer.Option("--tz", help="IANA zone of timestamps that carry no offset.")] = "UTC",
    mmdb: Annotated[
        list[Path] | None,
        typer.Option(help="Your own MaxMind / IPinfo / DB-IP .mmdb file(s) instead of the bundled data."),
    ] = None,
    no_enrich: Annotated[bool, typer.Option("--no-enrich", help="Skip geo / ASN / network-class enrichment.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the per-file summary as JSON.")] = False,
) -> None:
    """Parse, normalize, enrich and store log files; prints read / stored / duplicates / quarantined per file."""
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise _fail(f"no such file or directory: {', '.join(map(str, missing))}")
    _check_tz(tz)
    try:
        ws = Workspace.open(workspace)
        enricher = None if no_enrich else _make_enricher(mmdb)
        options = IngestOptions(format=format, year=year, tz=tz)
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(bar_width=None),
            TextColumn("{task.completed:,} records"),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
            disable=as_json or not err_console.is_terminal,
        ) as progress:
            task = progress.add_task("ingesting", total=None)

            def on_progress(path: str, records: int) -> None:
                progress.update(task, description=Text(Path(path).name).markup, completed=records)

            summaries = ingest(paths, ws, options, enricher=enricher, progress=on_progress)
    except DwelltimeError as exc:
        raise _fail(str(exc)) from exc
    if as_json:
        sys.stdout.write(orjson.dumps([s.to_json() for s in summaries], option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        _print_summaries(summaries)
    if any(not s.ok for s in summaries):
        raise typer.Exit(1)


def _check_tz(tz: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise _fail(f"unknown time zone {tz!r} (use an IANA name such as Asia/Tokyo)") from exc


def _make_enricher(mmdb: list[Path] | None) -> Enricher:
    from dwelltime.enrich import Enricher

    return Enricher(mmdb_paths=mmdb or [])


def _print_summaries(summaries: list[FileSummary]) -> None:
    table = Table(title="ingest summary", title_justify="left")
    for name in ("file", "format", "read", "parsed", "quarantined", "stored", "duplicates", "seconds"):
        table.add_column(name, justify="left" if name in ("file", "format") else "right")
    totals = dict.fromkeys(("read", "parsed", "quarantined", "stored", "duplicates"), 0)
    for s in summaries:
        table.add_row(
            Text(s.path),
            Text(s.format or "—"),
            f"{s.read:,}",
            f"{s.parsed:,}",
            f"{s.quarantined:,}",
            f"{s.stored:,}",
            f"{s.duplicates:,}",
            f"{s.seconds:.2f}",
        )
        for key in totals:
            totals[key] += getattr(s, key)
    if len(summaries) > 1:
        table.add_row(Text("total", style="bold"), "", *(f"{totals[k]:,}" for k in totals), "")
    console.print(table)
    folded = [s for s in summaries if s.events != s.parsed]
    for s in folded:
        console.print(Text(f"{s.path}: {s.parsed:,} records made {s.events:,} events", style="dim"))
    for s in summaries:
        if s.reasons:
            reasons = ", ".join(f"{count:,} × {reason}" for reason, count in sorted(s.reasons.items()))
            console.print(Text(f"quarantined in {s.path}: {reasons}", style="yellow"))
        if s.error:
            err_console.print(Text(f"error: {s.error}", style="bold red"))


@app.command("formats")
def formats_command() -> None:
    """List the log formats dwelltime reads."""
    from dwelltime.sources.registry import all_sources

    table = Table("id", "format")
    for source in all_sources():
        table.add_row(Text(source.id), Text(source.title))
    console.print(table)


@app.command("enrich-info")
def enrich_info_command(
    mmdb: Annotated[list[Path] | None, typer.Option(help="Your own .mmdb file(s), as given to ingest.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Where the GeoIP, AS and network-class data comes from, and how old it is."""
    from dwelltime.enrich import Enricher, enrich_info

    info = enrich_info(Enricher(mmdb_paths=mmdb or []))
    if as_json:
        sys.stdout.write(orjson.dumps(info, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    table = Table("name", "kind", "source", "date", "entries")
    for item in info:
        table.add_row(*(Text(str(item.get(k) or "")) for k in ("name", "kind", "source", "date", "entries")))
    console.print(table)


@app.command("status")
def status_command(workspace: WorkspaceOpt = None, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """What the workspace holds: events per format and class, time range, quarantine, files ingested."""
    from dwelltime.store.engine import connect

    ws = _existing_workspace(workspace)
    con = connect(ws)
    rows = con.execute(
        "SELECT source_format, event_class, count(*) AS n, min(time) AS first, max(time) AS last "
        "FROM events GROUP BY ALL ORDER BY source_format, event_class"
    ).fetchall()
    quarantined = con.execute("SELECT count(*) FROM quarantine").fetchone()
    files = read_manifest(ws.manifest_path)
    report = {
        "workspace": str(ws.root),
        "events": [
            {"format": f, "event_class": c, "count": n, "first": str(a), "last": str(b)} for f, c, n, a, b in rows
        ],
        "quarantined": quarantined[0] if quarantined else 0,
        "files_ingested": len({str(e.get("sha256") or e.get("path")) for e in files}),
    }
    if as_json:
        sys.stdout.write(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    table = Table("format", "class", "events", "first", "last", title=f"workspace {ws.root}", title_justify="left")
    for f, c, n, a, b in rows:
        table.add_row(Text(str(f)), Text(str(c)), f"{n:,}", str(a), str(b))
    console.print(table)
    console.print(f"quarantined records: {report['quarantined']:,}; files ingested: {report['files_ingested']:,}")


@app.command("quarantine")
def quarantine_command(
    workspace: WorkspaceOpt = None,
    limit: Annotated[int, typer.Option(help="Rows to show.")] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show quarantined records: file, line, reason."""
    from dwelltime.store.engine import connect

    ws = _existing_workspace(workspace)
    con = connect(ws)
    rows = con.execute(
        "SELECT source_file, source_line, source_format, reason, left(raw, 200) FROM quarantine "
        "ORDER BY source_file, source_line LIMIT ?",
        [limit],
    ).fetchall()
    if as_json:
        keys = ("file", "line", "format", "reason", "raw")
        out = [dict(zip(keys, r, strict=True)) for r in rows]
        sys.stdout.write(orjson.dumps(out, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    table = Table("file", "line", "format", "reason", "record")
    for row in rows:
        table.add_row(*(Text(str(v)) for v in row))
    console.print(table)


@app.command("sql")
def sql_command(
    query: Annotated[str, typer.Argument(help="A read-only SQL query over the views 'events' and 'quarantine'.")],
    workspace: WorkspaceOpt = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Run an ad-hoc DuckDB query against the workspace (the analyst's escape hatch)."""
    import duckdb

    from dwelltime.store.engine import connect

    try:
        ws = Workspace.open(workspace, create=False)
        con = connect(ws)
        result = con.execute(query)
    except DwelltimeError as exc:
        raise _fail(str(exc)) from exc
    except duckdb.Error as exc:
        raise _fail(f"query failed: {exc}") from exc
    names = [d[0] for d in result.description or []]
    rows = result.fetchall()
    if as_json:
        out = [dict(zip(names, r, strict=True)) for r in rows]
        sys.stdout.write(orjson.dumps(out, default=str, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    table = Table(*names)
    for row in rows:
        table.add_row(*(Text("" if v is None else str(v)) for v in row))
    console.print(table)


@app.command("detect")
def detect_command(
    workspace: WorkspaceOpt = None,
    engine: Annotated[str, typer.Option(help="duckdb (embedded default) or spark.")] = "duckdb",
    since: Annotated[
        str | None,
        typer.Option(
            help="Incremental: judge only events from the last run's watermark on ('--since' alone or '--since last'),"
            " or from the newest snapshot at or before an ISO time. Falls back to a full run (and says why) when the"
            " data before the watermark, the catalogue or the identity mapping changed."
        ),
    ] = None,
    models: Annotated[
        bool,
        typer.Option(
            "--models",
            help="Also run the behavioural models (login risk); they replay all sign-ins on every run.",
        ),
    ] = False,
    threshold: Annotated[
        int | None,
        typer.Option(
            help="Risk points that open an incident (see 'dwelltime tune'); kept for later runs in this workspace.",
        ),
    ] = None,
) -> None:
    """Run every detection over everything stored (or, with --since, over what is new); write alerts and incidents."""
    from dwelltime.detect.pipeline import LAST, detect

    if engine != "duckdb":
        raise _fail(f"engine {engine!r} is not available in this version (only duckdb)")
    start: datetime | str | None = None
    if since is not None:
        if since.strip().lower() in ("", LAST):
            start = LAST
        else:
            try:
                start = datetime.fromisoformat(since.strip().replace("Z", "+00:00"))
            except ValueError as exc:
                raise _fail(f"--since: not 'last' or an ISO time: {since!r}") from exc
            start = start if start.tzinfo else start.replace(tzinfo=UTC)
    try:
        result = detect(Workspace.open(workspace, create=False), start, models=models, threshold=threshold)
    except DwelltimeError as exc:
        raise _fail(str(exc)) from exc
    if result.mode == "incremental" and result.since is not None:
        console.print(Text(f"incremental: events from {result.since.isoformat()} on"))
    elif since is not None:
        console.print(Text(f"full run: {result.reason or 'no usable snapshot'}", style="yellow"))
    console.print(
        f"{result.alerts.num_rows:,} alerts, {len(result.incidents):,} incidents (threshold {result.threshold})"
    )
    _incident_table([i.to_json() for i in result.incidents])


def _incident_table(incidents: list[dict[str, object]]) -> None:
    table = Table(
        "id",
        "entity",
        "opened (UTC)",
        "severity",
        "score",
        "alerts",
        "detections",
        title="incidents",
        title_justify="left",
    )
    for inc in incidents:
        detections = inc.get("detections")
        names = ", ".join(str(d) for d in detections) if isinstance(detections, list) else ""
        cells = [Text(str(inc.get(k, ""))) for k in ("id", "entity", "opened_at", "severity", "score", "alert_count")]
        table.add_row(*cells, Text(names))
    console.print(table)


@app.command("detections")
def detections_command(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The detection catalogue: id, severity, ATT&CK techniques, title."""
    from dwelltime.detect.registry import all_detections

    items = [
        {
            "id": d.id,
            "title": d.title,
            "severity": d.severity,
            "techniques": list(d.techniques),
            "event_classes": list(d.event_classes),
            "description": d.description,
            "kind": "model" if d.scorer is not None else "rule",
        }
        for d in all_detections()
    ]
    if as_json:
        sys.stdout.write(orjson.dumps(items, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    table = Table("id", "kind", "severity", "ATT&CK", "title")
    for d in items:
        table.add_row(
            Text(str(d["id"])),
            Text(str(d["kind"]) + (" (--models)" if d["kind"] == "model" else "")),
            Text(str(d["severity"])),
            Text(", ".join(str(t) for t in d["techniques"])),
            Text(str(d["title"])),
        )
    console.print(table)


@app.command("alerts")
def alerts_command(
    workspace: WorkspaceOpt = None,
    format: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """Alerts from the last 'dwelltime detect' run."""
    from dwelltime.detect.runner import load_alerts

    ws = _existing_workspace(workspace)
    rows = load_alerts(ws).to_pylist()
    if format == "json":
        keys = (
            "id",
            "detection",
            "entity",
            "time",
            "score",
            "techniques",
            "event_uids",
            "explanation",
            "incident_id",
            "severity",
            "src_ips",
        )
        out = [{k: r[k] for k in keys} for r in rows]
        for item in out:
            item["time"] = item["time"].isoformat().replace("+00:00", "Z")
        sys.stdout.write(orjson.dumps(out, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    table = Table("time (UTC)", "detection", "entity", "severity", "explanation", "incident")
    for r in rows:
        table.add_row(
            Text(str(r["time"])),
            Text(r["detection"]),
            Text(r["entity"]),
            Text(r["severity"]),
            Text(r["explanation"]),
            Text(r["incident_id"] or ""),
        )
    console.print(table)


@app.command("incidents")
def incidents_command(
    workspace: WorkspaceOpt = None,
    format: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """Incidents from the last 'dwelltime detect' run."""
    ws = _existing_workspace(workspace)
    path = ws.root / "incidents.json"
    incidents = orjson.loads(path.read_bytes()) if path.exists() else []
    if format == "json":
        sys.stdout.write(orjson.dumps(incidents, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    _incident_table(incidents)


@app.command("show")
def show_command(
    incident: Annotated[str, typer.Argument(help="Incident id (see 'dwelltime incidents').")],
    workspace: WorkspaceOpt = None,
) -> None:
    """One incident: what, who, when, and the timeline of its alerts with their explanations."""
    from dwelltime.detect.runner import load_alerts

    ws = _existing_workspace(workspace)
    path = ws.root / "incidents.json"
    incidents = orjson.loads(path.read_bytes()) if path.exists() else []
    found = next((i for i in incidents if i.get("id") == incident), None)
    if found is None:
        raise _fail(f"no incident {incident!r} in {ws.root} (run 'dwelltime detect' first)")
    console.rule(Text(f"{found['id']}  {found['entity']}  severity {found['severity']}"))
    console.print(
        Text(
            f"opened {found['opened_at']} (first evidence {found['first_event_at']}, last "
            f"{found['last_event_at']}); risk score {found['score']}; ATT&CK "
            f"{', '.join(found['techniques'])}; source addresses {', '.join(found['src_ips']) or '-'}"
        )
    )
    alerts = [a for a in load_alerts(ws).to_pylist() if a["incident_id"] == incident]
    table = Table(
        "time (UTC)", "detection", "severity", "explanation", "events", title="timeline", title_justify="left"
    )
    for alert in sorted(alerts, key=lambda a: a["time"]):
        table.add_row(
            Text(alert["time"].isoformat()),
            Text(alert["detection"]),
            Text(alert["severity"]),
            Text(alert["explanation"]),
            f"{len(alert['event_uids']):,}",
        )
    console.print(table)


def _scenario_params(items: list[str]) -> dict[str, dict[str, object]]:
    """``SCENARIO.NAME=VALUE`` options as per-scenario overrides (values stay text; the scenario coerces them)."""
    found: dict[str, dict[str, object]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        scenario, dot, name = key.strip().rpartition(".")
        if not sep or not dot or not scenario or not name:
            raise _fail(f"--param: expected SCENARIO.NAME=VALUE, got {item!r}")
        found.setdefault(scenario, {})[name] = value
    return found


@app.command("simulate")
def simulate_command(
    out: Annotated[Path | None, typer.Option("--out", help="Directory for logs/, mailboxes/ and truth.json.")] = None,
    org: Annotated[str, typer.Option("--org", help="cloud, onprem or hybrid.")] = "hybrid",
    users: Annotated[int, typer.Option(help="Number of people in the organisation.")] = 200,
    days: Annotated[int, typer.Option(help="Days to simulate.")] = 30,
    seed: Annotated[int, typer.Option(help="Same seed, same bytes.")] = 1,
    scenarios: Annotated[
        str, typer.Option(help="Comma-separated attacks ('all', or see 'dwelltime simulate --list').")
    ] = "all",
    list_scenarios: Annotated[bool, typer.Option("--list", help="List the attack scenarios and exit.")] = False,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            help="A scenario parameter, SCENARIO.NAME=VALUE (repeatable), e.g. apt-imap.mimic=true.",
        ),
    ] = None,
) -> None:
    """Simulate an organisation with benign behaviour and attacks, in the real log formats, with ground truth."""
    from dwelltime.simulate.run import simulate
    from dwelltime.simulate.scenarios import SCENARIOS

    if list_scenarios:
        table = Table("scenario", "org kinds", "what", "parameters (--param SCENARIO.NAME=VALUE)")
        for name, scenario in SCENARIOS.items():
            table.add_row(
                Text(name),
                Text(", ".join(scenario.org_kinds)),
                Text(scenario.summary),
                Text(", ".join(scenario.parameters())),
            )
        console.print(table)
        return
    if out is None:
        raise _fail("--out DIR is required")
    chosen = list(SCENARIOS) if scenarios.strip() == "all" else [n.strip() for n in scenarios.split(",") if n.strip()]
    if scenarios.strip() == "all":
        chosen = [n for n in chosen if org in SCENARIOS[n].org_kinds]
    try:
        with Progress(
            TextColumn("simulating"),
            BarColumn(bar_width=None),
            TextColumn("day {task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
            disable=not err_console.is_terminal,
        ) as progress:
            task = progress.add_task("days", total=days)
            result = simulate(
                org,
                users,
                days,
                seed,
                chosen,
                out,
                progress=lambda done, total: progress.update(task, completed=done),
                params=_scenario_params(param or []),
            )
    except DwelltimeError as exc:
        raise _fail(str(exc)) from exc
    table = Table(
        "format", "records", title=f"{org} organisation, {users} users, {days} days, seed {seed}", title_justify="left"
    )
    for fmt, count in result.records.items():
        table.add_row(Text(fmt), f"{count:,}")
    console.print(table)
    console.print(Text(f"attacks: {', '.join(result.attacks) or 'none'}"))
    for name, why in result.skipped.items():
        console.print(Text(f"skipped {name}: {why}", style="yellow"))
    console.print(Text(f"logs: {out / 'logs'}   mailboxes: {out / 'mailboxes'}   truth: {result.truth_path}"))


@app.command("eval")
def eval_command(
    truth: Annotated[Path, typer.Argument(help="truth.json written by 'dwelltime simulate'.")],
    workspace: WorkspaceOpt = None,
    out: Annotated[Path | None, typer.Option(help="Write the report as JSON here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Score the workspace's incidents against ground truth: detected, time to detect, false incidents."""
    from dwelltime.evaluate import evaluate, render
    from dwelltime.workspace import resolve_workspace

    try:
        report = evaluate(truth, resolve_workspace(workspace))
    except DwelltimeError as exc:
        raise _fail(str(exc)) from exc
    if out:
        out.write_text(report.to_json() + "\n")
    if as_json:
        sys.stdout.write(report.to_json() + "\n")
    else:
        render(report, console)


@app.command("tune")
def tune_command(
    budget: Annotated[float, typer.Option("--budget", help="Incidents a day the team can read.")],
    workspace: WorkspaceOpt = None,
    truth: Annotated[
        Path | None, typer.Option(help="truth.json of a simulation: also say what each threshold would miss.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Which incident threshold gives BUDGET incidents a day on this workspace's alerts (and what it would miss)."""
    from dwelltime.detect.identity import build_identities
    from dwelltime.detect.runner import load_alerts
    from dwelltime.evaluate import load_truth
    from dwelltime.incidents.threshold import load_threshold
    from dwelltime.incidents.tune import tune
    from dwelltime.store.engine import connect

    if budget <= 0:
        raise _fail("--budget must be positive (incidents a day)")
    try:
        ws = Workspace.open(workspace, create=False)
        alerts = load_alerts(ws)
        if alerts.num_rows == 0:
            raise _fail(f"no alerts in {ws.root} (run 'dwelltime detect' first)")
        con = connect(ws)
        con.execute("ALTER VIEW events RENAME TO events_raw")
        aliases = build_identities(con, ws.root / "identities.csv")
        row = con.execute("SELECT min(time), max(time) FROM events_raw").fetchone()
        days = (row[1] - row[0]).total_seconds() / 86400 if row and row[0] is not None else 1.0
        current = load_threshold(ws.root)
        report = tune(alerts, aliases, days, budget, load_truth(truth) if truth else None, current=current)
    except DwelltimeError as exc:
        raise _fail(str(exc)) from exc
    if as_json:
        sys.stdout.write(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    table = Table("threshold", "incidents", "per day", "within budget", "detected", "missed", "false / 1k users / wk")
    for r in report.rows:
        table.add_row(
            str(r.threshold),
            f"{r.incidents:,}",
            f"{r.per_day:.2f}",
            "yes" if r.within_budget else "no",
            "-" if r.detected is None else f"{r.detected}/{r.attacks}",
            Text(", ".join(r.missed) or ("-" if r.detected is None else "none")),
            "-" if r.false_per_1000_users_week is None else f"{r.false_per_1000_users_week:.2f}",
        )
    console.print(table)
    advice = (
        f"lowest threshold within {budget:g} a day: {report.recommended} (now {report.current}; "
        f"'dwelltime detect --threshold {report.recommended}' sets it)"
        if report.recommended is not None
        else f"no threshold tried stays within {budget:g} incidents a day"
    )
    console.print(Text(f"{report.days:.1f} days of data; {advice}"))


@app.command("demo")
def demo_command(
    workdir: Annotated[
        Path | None, typer.Option(help="Where to write logs and the workspace (default: a temp dir).")
    ] = None,
) -> None:
    """Run the main job end to end on synthetic data (what 'make demo' runs)."""
    from dwelltime.demo import run_demo

    raise typer.Exit(run_demo(console, workdir))


@app.command("version")
def version_command() -> None:
    """Print the version."""
    console.print(__version__)


def _register_command_groups() -> None:
    """Commands that live beside their code (scoping, notification), imported lazily by them."""
    from dwelltime.notify.cli import register as register_notify
    from dwelltime.scope.cli import register as register_scope

    register_scope(app)
    register_notify(app)


_register_command_groups()


def main() -> None:
    app(args=_bare_since(sys.argv[1:]))


def _bare_since(argv: list[str]) -> list[str]:
    """``detect --since`` with no value means ``--since last`` (Typer options always take a value)."""
    out = list(argv)
    for i, arg in enumerate(out):
        if arg == "--since" and "detect" in out[:i] and (i + 1 == len(out) or out[i + 1].startswith("--")):
            out.insert(i + 1, "last")
            break
    return out


if __name__ == "__main__":
    main()
