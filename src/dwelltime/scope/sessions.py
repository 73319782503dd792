"""The account's access sessions in a window, each judged attacker / legitimate / uncertain.

Scoping must not blame the victim's own reading on the attacker (precision: every wrongly
included message is a letter sent for nothing) nor miss the attacker's (recall: a partner
not told).  So each session is judged from evidence an analyst can check, strongest first:

1. the analyst's word: ``--attacker-session``, ``--attacker-ip``, ``--legit-ip``;
2. a source address of the incident (its alerts' addresses), unless the account used that
   address on several days before the incident began — alerts such as "one session from two
   networks" name the victim's own address too;
3. a session id also used from an attacker address (a stolen token or cookie replayed);
4. history: an address or network (AS) the account used on at least
   :data:`KNOWN_DAYS` distinct days before the incident began is the account's own;
5. anything else is *uncertain*, with what is new about it (address, AS, client).

Sessions: Microsoft 365 records by their SessionId, Dovecot records by Dovecot's session id
(the login line carries the address, later lines only the id), and records with no session
id as runs of one (address, client) pair.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import duckdb

from dwelltime.scope.contract import Session, Verdict

KNOWN_DAYS = 2

EVENT_COLUMNS = (
    "event_uid",
    "time",
    "event_class",
    "action",
    "outcome",
    "user",
    "src_ip",
    "src_asn",
    "src_as_org",
    "src_country",
    "src_net_class",
    "user_agent",
    "client_app",
    "protocol",
    "session_id",
    "app_id",
    "folder",
    "folders",
    "message_ids",
    "item_count",
    "bytes_out",
    "recipients",
    "target",
    "params",
    "source_format",
)


@dataclass
class Event:
    uid: str
    time: datetime
    event_class: str
    action: str
    outcome: str
    user: str
    src_ip: str | None
    asn: str | None
    country: str | None
    net_class: str | None
    user_agent: str | None
    protocol: str | None
    session_id: str | None
    app_id: str | None
    folder: str | None
    folders: list[str]
    message_ids: list[str]
    item_count: int | None
    recipients: list[str]
    target: str | None
    params: dict[str, str]
    source_format: str


@dataclass
class ScopedSession:
    id: str
    kind: str
    events: list[Event] = field(default_factory=list)
    src_ips: set[str] = field(default_factory=set)
    verdict: Verdict = "uncertain"
    evidence: list[str] = field(default_factory=list)

    def to_json(self) -> Session:
        times = [e.time for e in self.events]
        return {
            "id": self.id,
            "kind": self.kind,
            "verdict": self.verdict,
            "start": _iso(min(times)),
            "end": _iso(max(times)),
            "src_ips": sorted(self.src_ips),
            "user_agents": sorted({e.user_agent for e in self.events if e.user_agent}),
            "protocols": sorted({e.protocol for e in self.events if e.protocol}),
            "events": len(self.events),
            "evidence": self.evidence,
            "event_uids": [e.uid for e in self.events],
        }


@dataclass(frozen=True)
class Judgement:
    """What the analyst and the incident say, the inputs of :func:`judge`."""

    incident_ips: frozenset[str] = frozenset()
    attacker_ips: frozenset[str] = frozenset()
    attacker_sessions: frozenset[str] = frozenset()
    legit_ips: frozenset[str] = frozenset()
    history_until: datetime | None = None  # the account's own habits are learnt before this


def load_events(con: duckdb.DuckDBPyConnection, users: list[str], since: datetime, until: datetime) -> list[Event]:
    """The account's events (any of its names) in [since, until], oldest first."""
    cols = ", ".join(f'"{c}"' for c in EVENT_COLUMNS)
    rows = con.execute(
        f"SELECT {cols} FROM events WHERE lower(user) IN (SELECT unnest(?::VARCHAR[])) "
        "AND time >= ? AND time <= ? ORDER BY time, event_uid",
        [users, since, until],
    ).fetchall()
    return [_event(dict(zip(EVENT_COLUMNS, row, strict=True))) for row in rows]


def _event(r: dict[str, object]) -> Event:
    params = r["params"]
    return Event(
        uid=str(r["event_uid"]),
        time=r["time"],  # type: ignore[arg-type]
        event_class=str(r["event_class"] or ""),
        action=str(r["action"] or ""),
        outcome=str(r["outcome"] or ""),
        user=str(r["user"] or ""),
        src_ip=_opt(r["src_ip"]),
        asn=_opt(r["src_as_org"]) or _opt(r["src_asn"]),
        country=_opt(r["src_country"]),
        net_class=_opt(r["src_net_class"]),
        user_agent=_opt(r["user_agent"]) or _opt(r["client_app"]),
        protocol=_opt(r["protocol"]),
        session_id=_opt(r["session_id"]),
        app_id=_opt(r["app_id"]),
        folder=_opt(r["folder"]),
        folders=[str(f) for f in (r["folders"] or []) if f],  # type: ignore[attr-defined]
        message_ids=[str(m) for m in (r["message_ids"] or []) if m],  # type: ignore[attr-defined]
        item_count=int(r["item_count"]) if r["item_count"] is not None else None,  # type: ignore[call-overload]
        recipients=[str(x).lower() for x in (r["recipients"] or []) if x],  # type: ignore[attr-defined]
        target=_opt(r["target"]),
        params=dict(params) if isinstance(params, dict) else {str(k): str(v) for k, v in (params or [])},  # type: ignore[attr-defined]
        source_format=str(r["source_format"] or ""),
    )


def _opt(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def known_networks(con: duckdb.DuckDBPyConnection, users: list[str], before: datetime) -> tuple[set[str], set[str]]:
    """Addresses and AS organisations the account used on >= KNOWN_DAYS distinct days before ``before``."""
    rows = con.execute(
        "SELECT kind, value FROM ("
        " SELECT 'ip' AS kind, src_ip AS value, count(DISTINCT CAST(time AS DATE)) AS days FROM events"
        "  WHERE lower(user) IN (SELECT unnest(?::VARCHAR[])) AND time < ? AND src_ip IS NOT NULL"
        "  AND outcome IS DISTINCT FROM 'failure' GROUP BY ALL"
        " UNION ALL"
        " SELECT 'asn', src_as_org, count(DISTINCT CAST(time AS DATE)) FROM events"
        "  WHERE lower(user) IN (SELECT unnest(?::VARCHAR[])) AND time < ? AND src_as_org IS NOT NULL"
        "  AND outcome IS DISTINCT FROM 'failure' GROUP BY ALL"
        ") WHERE days >= ?",
        [users, before, users, before, KNOWN_DAYS],
    ).fetchall()
    ips = {str(v) for k, v in rows if k == "ip"}
    asns = {str(v) for k, v in rows if k == "asn"}
    return ips, asns


def group_sessions(events: list[Event]) -> list[ScopedSession]:
    """Sessions of the account's events (see the module docstring)."""
    sessions: dict[str, ScopedSession] = {}
    for event in events:
        if event.session_id:
            kind = "dovecot" if event.source_format == "dovecot" else "m365"
            key = f"{kind}:{event.session_id}"
        else:
            kind = "run"
            key = f"run:{event.src_ip or '-'}|{event.user_agent or '-'}"
        session = sessions.setdefault(key, ScopedSession(key, kind))
        session.events.append(event)
        if event.src_ip:
            session.src_ips.add(event.src_ip)
    accesses = [s for s in sessions.values() if not all(e.protocol in _DELIVERY for e in s.events)]
    return sorted(accesses, key=lambda s: (s.events[0].time, s.id))


#: Local delivery agents: their "sessions" put mail into the mailbox, they read nothing.
_DELIVERY = frozenset({"lmtp", "lda"})


def judge(sessions: list[ScopedSession], judgement: Judgement, known_ips: set[str], known_asns: set[str]) -> None:
    """Set each session's verdict and evidence, in place."""
    trusted_incident_ips = {ip for ip in judgement.incident_ips if ip in known_ips}
    attacker_ips = set(judgement.attacker_ips) | (set(judgement.incident_ips) - trusted_incident_ips)
    # A session id used from an attacker address is the attacker's wherever else it appears.
    stolen_ids = {e.session_id for s in sessions for e in s.events if e.session_id and e.src_ip in attacker_ips} - {
        None
    }
    for session in sessions:
        evidence: list[str] = []
        verdict: Verdict
        analyst_attacker = session.id in judgement.attacker_sessions or any(
            e.session_id in judgement.attacker_sessions for e in session.events if e.session_id
        )
        named_ips = sorted(session.src_ips & attacker_ips)
        analyst_ips = sorted(session.src_ips & set(judgement.attacker_ips))
        if analyst_attacker:
            verdict = "attacker"
            evidence.append("analyst: --attacker-session")
        elif analyst_ips:
            verdict = "attacker"
            evidence.append(f"analyst: --attacker-ip {', '.join(analyst_ips)}")
        elif named_ips:
            verdict = "attacker"
            evidence.append(f"source address {', '.join(named_ips)} is an incident source never used before it")
        elif any(e.session_id in stolen_ids for e in session.events if e.session_id):
            verdict = "attacker"
            evidence.append("session id also used from an attacker address (token or cookie replay)")
        elif session.src_ips and session.src_ips <= set(judgement.legit_ips):
            verdict = "legitimate"
            evidence.append("analyst: --legit-ip")
        else:
            verdict, found = _by_history(session, known_ips, known_asns)
            evidence.extend(found)
        for ip in sorted(session.src_ips & trusted_incident_ips):
            evidence.append(f"{ip} appears in the incident but was used by the account on earlier days")
        session.verdict = verdict
        session.evidence = evidence
    _same_network_as_attacker(sessions, known_asns)


def _same_network_as_attacker(sessions: list[ScopedSession], known_asns: set[str]) -> None:
    """Uncertain sessions from an attacker's network (AS) that the account never used are the attacker's.

    Intruders rotate addresses inside one hosting or VPN provider; an address the incident
    never named, in a network the account had never used before, next to the attacker's own
    sessions, is far likelier theirs than the account owner's.
    """
    attacker_networks: dict[str, str] = {}
    for session in sessions:
        if session.verdict == "attacker":
            for event in session.events:
                if event.asn and event.src_ip and event.asn not in known_asns:
                    attacker_networks.setdefault(event.asn, event.src_ip)
    for session in sessions:
        if session.verdict != "uncertain":
            continue
        shared = sorted({e.asn for e in session.events if e.asn in attacker_networks and e.src_ip})
        if shared:
            session.verdict = "attacker"
            session.evidence.append(
                f"network {', '.join(shared)} is the attacker's (as {attacker_networks[shared[0]]}) "
                "and was never used by the account before the incident"
            )


def _by_history(session: ScopedSession, known_ips: set[str], known_asns: set[str]) -> tuple[Verdict, list[str]]:
    if not session.src_ips:
        return "uncertain", ["no source address recorded for this session"]
    new_ips = sorted(session.src_ips - known_ips)
    if not new_ips:
        return "legitimate", [f"address {', '.join(sorted(session.src_ips))} used by the account on earlier days"]
    asns = {e.asn for e in session.events if e.src_ip in new_ips and e.asn}
    if asns and asns <= known_asns:
        return "legitimate", [
            f"new address {', '.join(new_ips)} in a network the account uses ({', '.join(sorted(asns))})"
        ]
    classes = sorted({e.net_class for e in session.events if e.src_ip in new_ips and e.net_class})
    what = f"address {', '.join(new_ips)} and network {', '.join(sorted(asns)) or 'unknown'} new for the account"
    if classes:
        what += f" (class {', '.join(classes)})"
    return "uncertain", [what]


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
