"""``dwelltime demo``: the main job, end to end, on an organisation it simulates itself.

It grows with the project.  Today: simulate a hybrid organisation (200 people, 60
days, every attack scenario a hybrid organisation can suffer), ingest all of its logs
into a fresh workspace, show that a second ingest of a file stores nothing, run the
detection catalogue and the risk-based correlation, score the incidents against the
ground truth (``dwelltime eval``), and summarise what an analyst would look at first.
Then it indexes the simulated mailboxes, scopes the first user incidents (sessions, exposed
messages against ground truth, parties, personal data) and writes the notification set for the
first one.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from dwelltime.detect.pipeline import detect
from dwelltime.detect.registry import all_detections
from dwelltime.enrich import Enricher
from dwelltime.evaluate import evaluate, render
from dwelltime.ingest import FileSummary, IngestOptions, ingest
from dwelltime.simulate.run import simulate
from dwelltime.simulate.scenarios import SCENARIOS
from dwelltime.store.engine import connect
from dwelltime.workspace import Workspace

DEMO_ORG = "hybrid"
DEMO_USERS = 200
DEMO_DAYS = 60
DEMO_SEED = 2023


def run_demo(console: Console, workdir: Path | None = None, users: int = DEMO_USERS, days: int = DEMO_DAYS) -> int:
    base = workdir or Path(tempfile.mkdtemp(prefix="dwelltime-demo-"))
    console.rule("dwelltime demo")
    scenarios = [name for name, s in SCENARIOS.items() if DEMO_ORG in s.org_kinds]
    with _progress(console) as progress:
        task = progress.add_task(f"simulating {users} people over {days} days", total=days)
        result = simulate(
            DEMO_ORG,
            users,
            days,
            DEMO_SEED,
            scenarios,
            base / "sim",
            progress=lambda done, _total: progress.update(task, completed=done),
        )
    console.print(
        Text(
            f"simulated a {DEMO_ORG} organisation: {sum(result.records.values()):,} log records, "
            f"attacks planted: {', '.join(result.attacks)}"
        )
    )

    ws = Workspace.open(base / "workspace")
    enricher = Enricher()
    files = sorted(p for p in (base / "sim" / "logs").rglob("*") if p.is_file())
    seen: set[str] = set()
    with _progress(console) as progress:
        task = progress.add_task("ingesting", total=len(files))

        def advance(path: str, _records: int) -> None:
            if path not in seen:
                seen.add(path)
                progress.update(task, completed=len(seen))

        summaries = ingest(files, ws, IngestOptions(), enricher=enricher, progress=advance)
    _ingest_table(console, summaries)
    again = ingest([files[0]], ws, IngestOptions(), enricher=enricher)[0]
    console.print(
        Text(
            f"ingesting {files[0].name} again: {again.read:,} read, {again.stored:,} stored, "
            f"{again.duplicates:,} duplicates (nothing is stored twice)"
        )
    )

    con = connect(ws)
    table = Table(title="successful sign-ins by network class and country", title_justify="left")
    for name in ("network class", "country", "sign-ins", "users"):
        table.add_column(name, justify="left" if name in ("network class", "country") else "right")
    for net, country, count, people in con.execute(
        "SELECT coalesce(src_net_class, '?'), coalesce(src_country, '?'), count(*), count(DISTINCT user) "
        "FROM events WHERE event_class = 'auth' AND action = 'login' AND outcome = 'success' "
        "GROUP BY ALL ORDER BY 3 DESC LIMIT 10"
    ).fetchall():
        table.add_row(Text(net), Text(country), f"{count:,}", f"{people:,}")
    console.print(table)

    result_detect = detect(ws)
    console.print(
        Text(
            f"detection: {result_detect.alerts.num_rows:,} alerts from {len(all_detections())} detections, "
            f"{len(result_detect.incidents):,} incidents"
        )
    )
    incidents = Table(title="incidents (risk-based: alerts add risk to their entity)", title_justify="left")
    for name in ("opened (UTC)", "entity", "severity", "detections"):
        incidents.add_column(name)
    for incident in result_detect.incidents[:15]:
        incidents.add_row(
            Text(incident.opened_at.isoformat()),
            Text(incident.entity),
            Text(incident.severity),
            Text(", ".join(incident.detections)),
        )
    console.print(incidents)
    render(evaluate(result.truth_path, ws.root), console)

    truth = orjson.loads((base / "sim" / "truth.json").read_bytes())
    planted = Table(title="ground truth: the attacks hidden in these logs", title_justify="left")
    for name in ("scenario", "entity", "first malicious event (UTC)", "records", "messages read"):
        planted.add_column(name)
    for attack in truth["attacks"]:
        planted.add_row(
            Text(attack["scenario"]),
            Text(attack["entity"]),
            Text(attack["first_malicious"]),
            f"{len(attack['records']):,}",
            f"{len(attack['messages_read']):,}",
        )
    console.print(planted)
    _scope_and_notify(console, ws, base, truth, result_detect.incidents)
    console.print(Text(f"workspace: {ws.root}   logs: {base / 'sim' / 'logs'}   truth: {result.truth_path}"))
    console.print(Text(f"explore: dwelltime status -w {ws.root}", style="dim"))
    return 0 if all(s.ok for s in summaries) else 1


#: Scoping reads the text of every exposed message: the demo scopes the first few user incidents.
DEMO_SCOPED_INCIDENTS = 3


def _scope_and_notify(console: Console, ws: Workspace, base: Path, truth: dict[str, Any], incidents: list[Any]) -> None:
    """What the attackers read and who must be told: scope the first user incidents, notify for the first."""
    from dwelltime.notify.run import notify
    from dwelltime.scope.mailbox import index_path
    from dwelltime.scope.report import write_report
    from dwelltime.scope.run import ScopeOptions, scope

    summary = index_path(ws, base / "sim" / "mailboxes")
    console.print(Text(f"mailbox index: {summary.messages:,} messages in {len(summary.owners):,} mailboxes"))
    read_by = {a["entity"]: set(a["messages_read"]) for a in truth["attacks"] if a["messages_read"]}
    table = Table(title="scoping (what was read, whose data, who to tell)", title_justify="left")
    for name in ("incident", "account", "exposed", "ground truth", "found of truth", "parties", "data subjects"):
        table.add_column(name, justify="left" if name in ("incident", "account") else "right")
    users = [i for i in incidents if i.entity_type == "user" and i.entity in read_by][:DEMO_SCOPED_INCIDENTS]
    first_out: Path | None = None
    for incident in users:
        exposure = scope(ws, ScopeOptions(account=incident.entity, incident_id=incident.id))
        out = ws.root / "scope" / incident.id
        write_report(exposure, out)
        reported = {m["message_id"] for m in exposure["messages"] if m["confidence"] >= 0.5}
        expected = read_by[incident.entity]
        table.add_row(
            Text(incident.id),
            Text(incident.entity),
            f"{len(reported):,}",
            f"{len(expected):,}",
            f"{len(reported & expected):,}",
            f"{len(exposure['parties']):,}",
            f"{exposure['data_subjects']:,}",
        )
        if first_out is None:
            result = notify(exposure, incident.to_json(), None, out / "notify", org_name="Example Agency")
            first_out = out
            console.print(
                Text(
                    f"notify {incident.id}: {len(result.letters)} letters, PPC and GDPR drafts, STIX bundle, "
                    f"MISP event in {out / 'notify'}"
                )
            )
    console.print(table)
    if first_out is not None:
        console.print(Text(f"exposure report: {first_out / 'report.html'}", style="dim"))


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(bar_width=None),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def _ingest_table(console: Console, summaries: list[FileSummary]) -> None:
    totals: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0.0])
    for s in summaries:
        row = totals[s.format or "?"]
        for i, value in enumerate((1, s.read, s.quarantined, s.stored, s.duplicates, s.seconds)):
            row[i] += value
    table = Table(title="ingest", title_justify="left")
    for name in ("format", "files", "read", "quarantined", "stored", "duplicates", "seconds"):
        table.add_column(name, justify="left" if name == "format" else "right")
    for fmt, (count, read, quarantined, stored, duplicates, seconds) in sorted(totals.items()):
        table.add_row(
            Text(fmt),
            f"{count:,.0f}",
            f"{read:,.0f}",
            f"{quarantined:,.0f}",
            f"{stored:,.0f}",
            f"{duplicates:,.0f}",
            f"{seconds:.1f}",
        )
    console.print(table)
    for s in summaries:
        if s.error:
            console.print(Text(f"error: {s.error}", style="bold red"))
