"""Writing the exposure report: JSON (the contract), CSV (messages, parties) and one HTML page.

The HTML page is self-contained (inline CSS and SVG charts, no script, no external asset) so
it can be mailed to a manager or opened on an air-gapped laptop.  Everything in it that came
from a log or a mailbox — subjects, addresses, file names, user agents, organisation names —
is attacker-controllable and goes through :func:`html.escape`; nothing is inserted raw.
"""

from __future__ import annotations

import csv
import html
import json
from collections import Counter
from pathlib import Path
from typing import Any

from dwelltime.scope.contract import PII_CATEGORIES, Exposure

_CSV_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def write_report(exposure: Exposure, out: Path) -> list[Path]:
    """Write exposure.json, messages.csv, parties.csv and report.html into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    written = [
        _write(out / "exposure.json", json.dumps(exposure, ensure_ascii=False, indent=2) + "\n"),
        _messages_csv(exposure, out / "messages.csv"),
        _parties_csv(exposure, out / "parties.csv"),
        _write(out / "report.html", render_html(exposure)),
    ]
    return written


def _write(path: Path, text: str) -> Path:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (subjects are attacker text)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_CSV_FORMULA) else text


_MESSAGE_COLUMNS = ("message_id", "folder", "date", "sender", "to", "subject", "confidence", "access", "in_index")
_PARTY_COLUMNS = ("organisation", "domain", "country", "language", "in_directory", "messages", "data_subjects")


def _messages_csv(exposure: Exposure, path: Path) -> Path:
    rows = [dict(m, to=";".join(m["to"]), access=";".join(m["access"])) for m in exposure["messages"]]
    return _write_csv(path, _MESSAGE_COLUMNS, rows)


def _parties_csv(exposure: Exposure, path: Path) -> Path:
    return _write_csv(path, _PARTY_COLUMNS, [dict(p) for p in exposure["parties"]])


def _write_csv(path: Path, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> Path:
    """One row per item: the given columns, then the personal-data counts by category."""
    tmp = path.with_suffix(".csv.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*columns, *PII_CATEGORIES])
        for row in rows:
            writer.writerow([_cell(row.get(c)) for c in columns] + [row["pii"].get(c, 0) for c in PII_CATEGORIES])
    tmp.replace(path)
    return path


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _bar_chart(title: str, items: list[tuple[str, int]], width: int = 640) -> str:
    """A horizontal bar chart as inline SVG (labels escaped)."""
    if not items:
        return f"<p><em>{_e(title)}: nothing to show.</em></p>"
    top = max(v for _, v in items) or 1
    row = 22
    height = row * len(items) + 30
    bars = []
    for i, (label, value) in enumerate(items):
        y = 24 + i * row
        length = int((width - 320) * value / top)
        bars.append(
            f'<text x="0" y="{y + 14}" font-size="12">{_e(label[:38])}</text>'
            f'<rect x="250" y="{y}" width="{max(length, 1)}" height="16" fill="#b03a2e"/>'
            f'<text x="{255 + length}" y="{y + 13}" font-size="12">{value}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="{_e(title)}"><text x="0" y="14" font-size="13" font-weight="bold">{_e(title)}</text>'
        + "".join(bars)
        + "</svg>"
    )


def _activity(exposure: Exposure) -> list[tuple[str, int]]:
    if "activity" in exposure:
        return [(d["day"], d["events"]) for d in exposure["activity"]]
    days: Counter[str] = Counter()
    for session in exposure["sessions"]:
        if session["verdict"] == "attacker":
            days[session["start"][:10]] += session["events"]
    return sorted(days.items())


def render_html(exposure: Exposure) -> str:
    summary = exposure["summary"]
    window = exposure["window"]
    pii_rows = "".join(f"<tr><td>{_e(c)}</td><td>{exposure['pii'].get(c, 0)}</td></tr>" for c in PII_CATEGORIES)
    party_rows = "".join(
        f"<tr><td>{_e(p['organisation'])}</td><td>{_e(p['domain'])}</td><td>{_e(p['country'] or '')}</td>"
        f"<td>{'yes' if p['in_directory'] else 'no'}</td><td>{p['messages']}</td><td>{p['data_subjects']}</td>"
        f"<td>{_e(', '.join(f'{k} {v}' for k, v in p['pii'].items() if v))}</td></tr>"
        for p in exposure["parties"]
    )
    session_rows = "".join(
        f"<tr class='{_e(s['verdict'])}'><td>{_e(s['id'])}</td><td>{_e(s['verdict'])}</td><td>{_e(s['start'])}</td>"
        f"<td>{_e(s['end'])}</td><td>{_e(', '.join(s['src_ips']))}</td><td>{_e('; '.join(s['user_agents'])[:160])}</td>"
        f"<td>{s['events']}</td><td>{_e('; '.join(s['evidence']))}</td></tr>"
        for s in exposure["sessions"]
        if s["verdict"] != "legitimate"
    )
    message_rows = "".join(
        f"<tr><td>{_e(m['date'] or '')}</td><td>{_e(m['folder'])}</td><td>{_e(m['sender'] or '')}</td>"
        f"<td>{_e(m['subject'] or '')}</td><td>{m['confidence']:.2f}</td><td>{_e(', '.join(m['access']))}</td>"
        f"<td>{_e(', '.join(a['name'] for a in m['attachments']))}</td>"
        f"<td>{_e(', '.join(f'{k} {v}' for k, v in m['pii'].items() if v))}</td></tr>"
        for m in exposure["messages"][:5000]
    )
    uncertainty = "".join(f"<li>{_e(u)}</li>" for u in exposure["uncertainty"])
    attacker = exposure["attacker"]
    charts = _bar_chart("Attacker events per day (UTC)", _activity(exposure)[-60:]) + _bar_chart(
        "Exposed messages per party", [(p["organisation"], p["messages"]) for p in exposure["parties"][:25]]
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Exposure report: {_e(exposure["account"])}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; font-size: 13px; }}
td, th {{ border: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; }}
th {{ background: #eee; }} tr.attacker td {{ background: #fbe9e7; }} tr.uncertain td {{ background: #fff8e1; }}
.k {{ font-size: 1.6em; font-weight: bold; }} .box {{ display: inline-block; margin-right: 2em; }}
</style></head><body>
<h1>Exposure report: {_e(exposure["account"])}</h1>
<p>Incident {_e(exposure["incident_id"] or "none")} · window {_e(window["since"])} – {_e(window["until"])} ·
attacker active {_e(exposure["first_attacker_activity"] or "—")} – {_e(exposure["last_attacker_activity"] or "—")} ·
generated {_e(exposure["generated_at"])}</p>
<div><span class="box"><span class="k">{summary["messages"]}</span> messages exposed</span>
<span class="box"><span class="k">{summary["messages_uncertain"]}</span> possibly exposed</span>
<span class="box"><span class="k">{summary["parties"]}</span> parties</span>
<span class="box"><span class="k">{summary["data_subjects"]}</span> data subjects</span>
<span class="box"><span class="k">{summary["sessions_attacker"]}</span> attacker sessions</span></div>
{charts}
<h2>Personal data (distinct values)</h2><table><tr><th>category</th><th>count</th></tr>{pii_rows}</table>
<h2>Affected parties</h2><table><tr><th>organisation</th><th>domain</th><th>country</th><th>in directory</th>
<th>messages</th><th>data subjects</th><th>personal data</th></tr>{party_rows}</table>
<h2>Attacker indicators</h2><p>Addresses: {_e(", ".join(attacker["ips"]))}<br>
Networks: {_e(", ".join(attacker["asns"]))}<br>
Clients: {_e("; ".join(attacker["user_agents"]))}<br>App ids: {_e(", ".join(attacker["app_ids"]))}</p>
<h2>Sessions (attacker and uncertain)</h2><table><tr><th>session</th><th>verdict</th><th>start</th><th>end</th>
<th>addresses</th><th>client</th><th>events</th><th>evidence</th></tr>{session_rows}</table>
<h2>What the numbers cannot tell</h2><ul>{uncertainty}</ul>
<h2>Exposed messages</h2><table><tr><th>date</th><th>folder</th><th>from</th><th>subject</th><th>confidence</th>
<th>access</th><th>attachments</th><th>personal data</th></tr>{message_rows}</table>
</body></html>
"""
