"""``dwelltime demo``: the main job, end to end, on data it makes itself.

It grows with the project: today it writes synthetic Microsoft 365 audit records
and Dovecot logs (plus a few malformed records, to show the quarantine at work),
ingests them twice into a temporary workspace (the second time storing nothing),
and summarises what an analyst would look at first.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from dwelltime.ingest import FileSummary, IngestOptions, ingest
from dwelltime.simulate.bulk import write_dovecot_log, write_m365_ndjson
from dwelltime.store.engine import connect
from dwelltime.workspace import Workspace


def run_demo(console: Console, workdir: Path | None = None, m365: int = 50_000, dovecot: int = 200_000) -> int:
    base = workdir or Path(tempfile.mkdtemp(prefix="dwelltime-demo-"))
    logs = base / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    console.rule("dwelltime demo")
    console.print(Text(f"writing synthetic logs to {logs}"))
    write_m365_ndjson(logs / "m365-audit.json", m365, seed=7)
    write_dovecot_log(logs / "mail.log", dovecot, seed=7)
    with (logs / "m365-audit.json").open("ab") as handle:  # damage, as real exports sometimes are
        handle.write(b'{"CreationTime": "2024-03-05T01:02:03", "Operation": \n')
        handle.write(b"\xff\xfe not text\n")
    ws = Workspace.open(base / "workspace")
    from dwelltime.enrich import Enricher

    enricher = Enricher()
    first = ingest([logs], ws, IngestOptions(year=2024, tz="Asia/Tokyo"), enricher=enricher)
    _summary(console, "first ingest", first)
    again = ingest([logs], ws, IngestOptions(year=2024, tz="Asia/Tokyo"), enricher=enricher)
    _summary(console, "same files again (nothing new is stored)", again)
    con = connect(ws)
    table = Table(title="failed logins by source network class and country", title_justify="left")
    for name in ("net class", "country", "failures", "users"):
        table.add_column(name)
    for net, country, failures, users in con.execute(
        "SELECT coalesce(src_net_class, '?'), coalesce(src_country, '?'), count(*), count(DISTINCT user) "
        "FROM events WHERE event_class = 'auth' AND outcome = 'failure' GROUP BY ALL ORDER BY 3 DESC LIMIT 8"
    ).fetchall():
        table.add_row(Text(net), Text(country), f"{failures:,}", f"{users:,}")
    console.print(table)
    reads = con.execute(
        "SELECT count(*), sum(len(message_ids)) FROM events WHERE event_class = 'mailbox_access'"
    ).fetchone()
    if reads:
        console.print(f"mailbox access events: {reads[0]:,}, naming {reads[1] or 0:,} message ids")
    console.print(Text(f"workspace: {ws.root}  (try: dwelltime status -w {ws.root})"))
    return 0 if all(s.ok for s in first + again) else 1


def _summary(console: Console, title: str, summaries: list[FileSummary]) -> None:
    table = Table(title=title, title_justify="left")
    for name in ("file", "format", "read", "quarantined", "stored", "duplicates", "seconds"):
        table.add_column(name)
    for s in summaries:
        table.add_row(
            Text(Path(s.path).name),
            Text(s.format or "—"),
            f"{s.read:,}",
            f"{s.quarantined:,}",
            f"{s.stored:,}",
            f"{s.duplicates:,}",
            f"{s.seconds:.2f}",
        )
    console.print(table)
