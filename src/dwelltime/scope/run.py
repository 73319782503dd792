"""``dwelltime scope``: from an account (and an incident) to the exposure report.

Steps: resolve the account's names (principal, on-prem logins) → load its events in the
window → group them into sessions and judge each (:mod:`dwelltime.scope.sessions`) → apply
the exposure rules against the mailbox index (:mod:`dwelltime.scope.messages`) → read the
exposed messages' text and find personal data in it → group correspondents into parties →
write the report (:mod:`dwelltime.scope.report`).  Every number in the report is computed
here once; notification letters take theirs from the report.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from dwelltime.detect.identity import build_identities
from dwelltime.errors import ConfigError
from dwelltime.scope.content import read_message_text
from dwelltime.scope.contract import (
    EXPOSURE_VERSION,
    PII_CATEGORIES,
    Attacker,
    DayActivity,
    ExposedMessage,
    Exposure,
    Party,
    empty_pii,
)
from dwelltime.scope.mailbox import load_index
from dwelltime.scope.messages import REPORTED_CONFIDENCE, MailboxView, exposed_messages
from dwelltime.scope.partners import PartnerDirectory, load_partners, registrable_domain
from dwelltime.scope.sessions import Judgement, group_sessions, judge, known_networks, load_events
from dwelltime.store.engine import connect
from dwelltime.workspace import Workspace

#: How far before an incident's first alert scoping looks by default: an intruder is often
#: inside well before the first alert (the point of low-and-slow access).
LOOKBACK = timedelta(days=30)


@dataclass
class ScopeOptions:
    account: str
    incident_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    attacker_ips: frozenset[str] = frozenset()
    attacker_sessions: frozenset[str] = frozenset()
    legit_ips: frozenset[str] = frozenset()
    partners: Path | None = None
    scan_pii: bool = True


@dataclass
class _Incident:
    id: str
    entity: str
    opened_at: datetime
    first_event_at: datetime
    last_event_at: datetime
    src_ips: list[str]
    techniques: list[str]
    raw: dict[str, Any] = field(default_factory=dict)


def load_incident(workspace: Workspace, incident_id: str) -> _Incident:
    path = workspace.root / "incidents.json"
    if not path.exists():
        raise ConfigError(f"no incidents in {workspace.root} (run 'dwelltime detect' first)")
    matches = [i for i in json.loads(path.read_text()) if str(i.get("id", "")).startswith(incident_id)]
    if len(matches) != 1:
        raise ConfigError(f"{'no' if not matches else 'several'} incident(s) matching {incident_id!r}")
    i = matches[0]
    return _Incident(
        id=str(i["id"]),
        entity=str(i["entity"]),
        opened_at=_parse(i["opened_at"]),
        first_event_at=_parse(i["first_event_at"]),
        last_event_at=_parse(i["last_event_at"]),
        src_ips=[str(x) for x in i.get("src_ips") or []],
        techniques=[str(x) for x in i.get("techniques") or []],
        raw=i,
    )


def scope(workspace: Workspace, options: ScopeOptions) -> Exposure:
    """The exposure report of ``options.account`` (see the module docstring)."""
    incident = load_incident(workspace, options.incident_id) if options.incident_id else None
    con = connect(workspace)
    con.execute("ALTER VIEW events RENAME TO events_raw")
    identities = build_identities(con, workspace.root / "identities.csv")
    con.execute("CREATE VIEW events AS SELECT * FROM events_raw")
    account = options.account.lower()
    principal = identities.get(account, account)
    names = sorted({principal, account, *(login for login, p in identities.items() if p == principal)})
    since, until = _window(con, options, incident, names)
    events = load_events(con, names, since, until)
    history_until = _history_until(events, incident, options, since)
    known_ips, known_asns = known_networks(con, names, history_until)
    sessions = [
        s
        for s in group_sessions([e for e in events if e.event_class != "mail_flow"])
        if any(e.outcome != "failure" for e in s.events)  # failed logins alone expose nothing
    ]
    judge(
        sessions,
        Judgement(
            incident_ips=frozenset(incident.src_ips) if incident else frozenset(),
            attacker_ips=options.attacker_ips,
            attacker_sessions=options.attacker_sessions,
            legit_ips=options.legit_ips,
            history_until=history_until,
        ),
        known_ips,
        known_asns,
    )
    owners = {n.split("@", 1)[0] for n in names} | set(names)
    mailbox = MailboxView(load_index(workspace), owners)
    flows = _mail_flows(con, since, until)
    result = exposed_messages(sessions, mailbox, flows)
    directory = load_partners(options.partners) if options.partners else PartnerDirectory(())
    index_rows = _index_rows(workspace, owners, set(result.messages))
    messages, values = _messages(result.messages, index_rows, options.scan_pii)
    own_domain = registrable_domain(principal.split("@", 1)[1]) if "@" in principal else None
    parties = _parties(messages, values, directory, own_domain, names)
    attacker_sessions = [s for s in sessions if s.verdict == "attacker"]
    attacker_events = [e for s in attacker_sessions for e in s.events]
    reported = [m for m in messages if m["confidence"] >= REPORTED_CONFIDENCE]
    totals = _distinct_totals([values[m["message_id"]] for m in reported])
    subjects = _subjects([values[m["message_id"]] for m in reported], reported)
    uncertainty = list(dict.fromkeys(result.uncertainty))
    uncertainty.append(
        f"counts use the {len(reported)} messages with confidence >= {REPORTED_CONFIDENCE}; "
        f"{len(messages) - len(reported)} more were possibly exposed (uncertain sessions or inferred reads)"
    )
    uncertainty.append(
        "data subjects are counted as distinct e-mail addresses and person names; one person named both ways "
        "may be counted twice"
    )
    return {
        "version": EXPOSURE_VERSION,
        "generated_at": _iso(datetime.now(UTC)),
        "account": principal,
        "aliases": [n for n in names if n != principal],
        "incident_id": incident.id if incident else None,
        "discovered_at": _iso(incident.opened_at) if incident else None,
        "window": {"since": _iso(since), "until": _iso(until)},
        "first_attacker_activity": _iso(min(e.time for e in attacker_events)) if attacker_events else None,
        "last_attacker_activity": _iso(max(e.time for e in attacker_events)) if attacker_events else None,
        "techniques": incident.techniques if incident else [],
        "sessions": [s.to_json() for s in sessions if s.verdict != "legitimate" or len(sessions) <= 200],
        "messages": messages,
        "parties": parties,
        "pii": totals,
        "data_subjects": subjects,
        "attacker": _attacker(attacker_sessions),
        "summary": {
            "messages": len(reported),
            "messages_certain": sum(1 for m in messages if m["confidence"] >= 0.9),
            "messages_uncertain": len(messages) - len(reported),
            "messages_not_in_index": sum(1 for m in reported if not m["in_index"]),
            "sessions_attacker": len(attacker_sessions),
            "sessions_uncertain": sum(1 for s in sessions if s.verdict == "uncertain"),
            "parties": len(parties),
            "data_subjects": subjects,
        },
        "uncertainty": uncertainty,
        "activity": _activity(attacker_events, reported),
    }


def _activity(events: list[Any], reported: list[ExposedMessage]) -> list[DayActivity]:
    per_day: Counter[str] = Counter(e.time.astimezone(UTC).date().isoformat() for e in events)
    by_uid = {e.uid: e.time for e in events}
    first_seen: Counter[str] = Counter()
    for message in reported:
        times = [by_uid[u] for u in message["evidence"] if u in by_uid]
        if times:
            first_seen[min(times).astimezone(UTC).date().isoformat()] += 1
    days = sorted(set(per_day) | set(first_seen))
    return [{"day": d, "events": per_day.get(d, 0), "messages": first_seen.get(d, 0)} for d in days]


def _history_until(events: list[Any], incident: _Incident | None, options: ScopeOptions, since: datetime) -> datetime:
    """Until when the account's behaviour is its own: the incident's first alert, else the first
    event from an address or session the analyst named, else the window's start."""
    if incident is not None:
        return incident.first_event_at
    named = [
        e.time
        for e in events
        if e.src_ip in options.attacker_ips or (e.session_id and e.session_id in options.attacker_sessions)
    ]
    return min(named) if named else since


def _window(
    con: duckdb.DuckDBPyConnection, options: ScopeOptions, incident: _Incident | None, names: list[str]
) -> tuple[datetime, datetime]:
    bounds = con.execute(
        "SELECT min(time), max(time) FROM events WHERE lower(user) IN (SELECT unnest(?::VARCHAR[]))", [names]
    ).fetchone()
    if bounds is None or bounds[0] is None:
        raise ConfigError(f"no events stored for {options.account} (names tried: {', '.join(names)})")
    since = options.since or (incident.first_event_at - LOOKBACK if incident else bounds[0])
    until = options.until or bounds[1]
    if since > until:
        raise ConfigError(f"empty window: --since {_iso(since)} is after --until {_iso(until)}")
    return since, until


def _mail_flows(con: duckdb.DuckDBPyConnection, since: datetime, until: datetime) -> list[Any]:
    from dwelltime.scope.sessions import EVENT_COLUMNS, _event

    cols = ", ".join(f'"{c}"' for c in EVENT_COLUMNS)
    rows = con.execute(
        f"SELECT {cols} FROM events WHERE event_class = 'mail_flow' AND time >= ? AND time <= ? "
        "AND len(message_ids) > 0 ORDER BY time",
        [since, until],
    ).fetchall()
    return [_event(dict(zip(EVENT_COLUMNS, row, strict=True))) for row in rows]


def _index_rows(workspace: Workspace, owners: set[str], ids: set[str]) -> dict[str, dict[str, Any]]:
    import pyarrow as pa
    import pyarrow.compute as pc

    index = load_index(workspace)
    if not ids or index.num_rows == 0:
        return {}
    mask = pc.and_(
        pc.is_in(index.column("owner"), value_set=pa.array(sorted(owners), pa.string())),
        pc.is_in(index.column("message_id"), value_set=pa.array(sorted(ids), pa.string())),
    )
    rows: dict[str, dict[str, Any]] = {}
    for row in index.filter(mask).to_pylist():
        rows.setdefault(str(row["message_id"]), row)
    return rows


def _messages(
    exposed: dict[str, Any], index_rows: dict[str, dict[str, Any]], scan_pii: bool
) -> tuple[list[ExposedMessage], dict[str, dict[str, set[str]]]]:
    """The report's message entries, and per message the personal-data values found (by category)."""
    out: list[ExposedMessage] = []
    values: dict[str, dict[str, set[str]]] = {}
    for mid in sorted(exposed, key=lambda m: (-exposed[m].confidence, m)):
        item = exposed[mid]
        row = index_rows.get(mid)
        found: dict[str, set[str]] = {c: set() for c in PII_CATEGORIES}
        if row is not None and scan_pii:
            found = _pii_values(row)
        values[mid] = found
        out.append(
            {
                "message_id": mid,
                "folder": str(row["folder"]) if row else (item.folder or ""),
                "date": _iso(row["date"]) if row and row["date"] else None,
                "sender": row["sender"] if row else None,
                "to": list(row["to"] or []) if row else [],
                "cc": list(row["cc"] or []) if row else [],
                "subject": row["subject"] if row else None,
                "size": row["size"] if row else None,
                "attachments": list(row["attachments"] or []) if row else [],
                "access": sorted(item.access),
                "confidence": round(item.confidence, 3),
                "evidence": sorted(item.evidence),
                "sessions": sorted(item.sessions),
                "in_index": row is not None,
                "pii": {c: len(found.get(c, ())) for c in PII_CATEGORIES},
            }
        )
    return out, values


def _pii_values(row: dict[str, Any]) -> dict[str, set[str]]:
    from dwelltime.scope.pii import find_pii

    text = read_message_text(
        str(row["source_path"]), int(row["source_offset"]), int(row["source_length"]), str(row["source_kind"])
    )
    found: dict[str, set[str]] = {c: set() for c in PII_CATEGORIES}
    for finding in find_pii(text.text):
        found.setdefault(finding.category, set()).add(finding.value)
    return found


def _distinct_totals(per_message: list[dict[str, set[str]]]) -> dict[str, int]:
    totals = empty_pii()
    for category in PII_CATEGORIES:
        totals[category] = len(set().union(*(m.get(category, set()) for m in per_message))) if per_message else 0
    return totals


def _subjects(per_message: list[dict[str, set[str]]], messages: list[ExposedMessage]) -> int:
    people: set[str] = set()
    for found in per_message:
        people.update(f"email:{v}" for v in found.get("email", set()))
        people.update(f"name:{v}" for v in found.get("person_name", set()))
    return len(people)


def _parties(
    messages: list[ExposedMessage],
    values: dict[str, dict[str, set[str]]],
    directory: PartnerDirectory,
    own_domain: str | None,
    own_names: list[str],
) -> list[Party]:
    by_domain: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"ids": [], "correspondents": set(), "domains": set(), "values": []}
    )
    for message in messages:
        if message["confidence"] < REPORTED_CONFIDENCE:
            continue
        addresses = [a for a in [message["sender"], *message["to"], *message["cc"]] if a]
        seen_here: set[str] = set()
        for address in addresses:
            domain = address.rsplit("@", 1)[-1]
            org = registrable_domain(domain)
            if not org or org == own_domain or address in own_names:
                continue
            entry = by_domain[org]
            entry["correspondents"].add(address)
            entry["domains"].add(domain)
            if org not in seen_here:
                entry["ids"].append(message["message_id"])
                entry["values"].append(values.get(message["message_id"], {}))
                seen_here.add(org)
    parties: list[Party] = []
    for org, entry in by_domain.items():
        partner = directory.match([org, *sorted(entry["domains"])])
        pii = _distinct_totals(entry["values"])
        names = set().union(*(v.get("person_name", set()) for v in entry["values"])) if entry["values"] else set()
        emails = set().union(*(v.get("email", set()) for v in entry["values"])) if entry["values"] else set()
        subjects = len({f"email:{a}" for a in entry["correspondents"] | emails} | {f"name:{n}" for n in names})
        parties.append(
            {
                "organisation": partner.organisation if partner else org,
                "domain": org,
                "domains": sorted(entry["domains"]),
                "country": partner.country if partner else None,
                "language": partner.language if partner else None,
                "domestic": partner.domestic if partner else None,
                "contact": partner.contact if partner else None,
                "in_directory": partner is not None,
                "messages": len(entry["ids"]),
                "message_ids": sorted(entry["ids"]),
                "correspondents": sorted(entry["correspondents"]),
                "pii": pii,
                "data_subjects": subjects,
            }
        )
    parties.sort(key=lambda p: (-p["messages"], p["domain"]))
    return parties


#: Microsoft first-party application ids (Office, Exchange Online, Outlook, Teams, Graph
#: Explorer, Azure CLI/PowerShell...).  Every tenant's users use them, so as indicators shared
#: with partners they would only match everybody; the attacker's own (consented) apps stay.
FIRST_PARTY_APP_IDS = frozenset(
    {
        "d3590ed6-52b3-4102-aeff-aad2292ab01c",  # Microsoft Office
        "00000002-0000-0ff1-ce00-000000000000",  # Office 365 Exchange Online
        "00000003-0000-0000-c000-000000000000",  # Microsoft Graph
        "00000006-0000-0ff1-ce00-000000000000",  # Microsoft Office 365 Portal
        "1fec8e78-bce4-4aaf-ab1b-5451cc387264",  # Microsoft Teams
        "27922004-5251-4030-b22d-91ecd9a37ea4",  # Outlook Mobile
        "5d661950-3475-41cd-a2c3-d671a3162bc1",  # Outlook (new)
        "4765445b-32c6-49b0-83e6-1d93765276ca",  # OfficeHome
        "89bee1f7-5e6e-4d8a-9f3d-ecd601259da7",  # Office365 Shell WCSS-Client
        "04b07795-8ddb-461a-bbee-02f9e1bf7b46",  # Azure CLI
        "1950a258-227b-4e31-a9cf-717495945fc2",  # Azure PowerShell
        "de8bc8b5-d9f9-48b1-a8ad-b748da725064",  # Graph Explorer
    }
)


def _is_indicator_agent(value: str) -> bool:
    """User agents worth sharing: not Exchange's ``Client=...`` descriptors, which name a protocol
    (REST, OWA, ActiveSync) every user of the tenant shows, not the attacker's software."""
    return not value.startswith("Client=")


def _attacker(sessions: list[Any]) -> Attacker:
    ips: Counter[str] = Counter()
    agents: set[str] = set()
    apps: set[str] = set()
    asns: set[str] = set()
    countries: set[str] = set()
    for session in sessions:
        for event in session.events:
            if event.src_ip:
                ips[event.src_ip] += 1
            if event.user_agent and _is_indicator_agent(event.user_agent):
                agents.add(event.user_agent)
            if event.app_id and event.app_id.lower() not in FIRST_PARTY_APP_IDS:
                apps.add(event.app_id)
            if event.asn and event.src_ip:
                asns.add(event.asn)
            if event.country:
                countries.add(event.country)
    return {
        "ips": sorted(ips),
        "user_agents": sorted(agents),
        "app_ids": sorted(apps),
        "asns": sorted(asns),
        "countries": sorted(countries),
    }


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(str(text).replace("Z", "+00:00")).astimezone(UTC)


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
