"""Score a workspace's incidents against simulator ground truth (``dwelltime eval``).

This is how every detection change is judged, so the rules are explicit and small:

* An incident **relates** to an attack when its event window ``[first_event_at,
  last_event_at]`` overlaps the attack window ``[first_malicious, last_malicious]`` and
  either its entity is the attack's entity (case-insensitive, through the truth's aliases:
  the on-prem login name and the UPN are one person) or its ``src_ips`` include one of the
  attacker's addresses (a spray incident raised on a sprayed account, an implant's C2
  address).  An incident on the attack's entity whose src_ips contain an attacker address
  relates even without window overlap.
* It **detects** the attack when, in addition, it was opened at or after the first malicious
  event -- an incident opened earlier was raised by something else -- unless its src_ips
  name the attacker (then it saw the attacker's own traffic; time to detect counts as 0).
* Time to detect = earliest ``opened_at`` of the detecting incidents minus ``first_malicious``.
* A **false incident** detects no attack.  One that relates to an attack but was opened before
  it (``early_for``) is counted as false: it was opened by benign activity.  Each false
  incident lists the planted confounders on its entity ("*" = org-wide) that overlap it.
* False incidents per 1,000 users per week = false / (users / 1000) / (days / 7).
"""

from __future__ import annotations

import ipaddress
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import NotRequired, TypedDict

import orjson
from rich.console import Console
from rich.table import Table

from dwelltime.errors import ConfigError

__all__ = [
    "AttackResult",
    "EvalReport",
    "FalseIncident",
    "Incident",
    "Truth",
    "TruthAttack",
    "TruthConfounder",
    "TruthRecord",
    "evaluate",
    "load_incidents",
    "load_truth",
    "parse_incidents",
    "render",
    "score",
]


# ------------------------------------------------------------------------------------ truth.json


class TruthRecord(TypedDict):
    """One vendor record the attack produced (a writer's RecordRef)."""

    format: str  # writer format id, e.g. "m365-audit", "dovecot"
    file: str  # path relative to the simulation's output directory
    line: int  # 1-based line in that file
    record_id: str  # the record's own id where the format has one (M365 Id, Entra id), else ""


class TruthAttack(TypedDict):
    """One planted attack."""

    scenario: str  # scenario name, e.g. "apt-imap"
    entity: str  # user principal (UPN) or host name the attack is about
    entity_type: NotRequired[str]  # "user" or "host"
    entity_aliases: NotRequired[list[str]]  # other names of the entity (on-prem login, e-mail address)
    first_malicious: str  # ISO 8601 UTC time of the first malicious event
    last_malicious: str  # ISO 8601 UTC time of the last malicious event
    attacker_ips: list[str]  # addresses the attacker used (sources, C2 destinations)
    records: list[TruthRecord]  # every malicious record written
    messages_read: list[str]  # Message-IDs of every message the attacker read


class TruthConfounder(TypedDict):
    """Benign behaviour planted to tempt a naive detector."""

    kind: str  # "travel", "vpn", "isp-change", "mobile-polling", "admin-search", ...
    entity: str  # user or host it concerns; "*" for org-wide confounders (office ISP change)
    start: str  # ISO 8601 UTC
    end: str  # ISO 8601 UTC


class Truth(TypedDict):
    """The whole ground-truth file the simulator writes (``truth.json``)."""

    attacks: list[TruthAttack]
    confounders: list[TruthConfounder]
    users: int  # users in the simulated organisation
    days: int  # days simulated
    aliases: NotRequired[dict[str, str]]  # any alias (login name, address) -> canonical entity
    seed: NotRequired[int]
    org: NotRequired[str]  # cloud, onprem, hybrid


# ------------------------------------------------------------------------------------- incidents


@dataclass(frozen=True, slots=True)
class Incident:
    """The incident fields scoring needs (DESIGN.md incident JSON)."""

    id: str
    entity: str
    opened_at: datetime
    first_event_at: datetime
    last_event_at: datetime
    entity_type: str = "user"
    severity: str = ""
    score: float = 0.0
    detections: tuple[str, ...] = ()
    techniques: tuple[str, ...] = ()
    src_ips: tuple[str, ...] = ()
    alert_count: int = 0


def _time(value: object, what: str) -> datetime:
    if not isinstance(value, str):
        raise ConfigError(f"{what}: expected an ISO 8601 time, got {value!r}")
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{what}: not an ISO 8601 time: {value!r}") from None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _ip(value: str) -> str:
    """Canonical text of an address, so "::ffff:1.2.3.4" and "1.2.3.4" compare equal."""
    try:
        addr = ipaddress.ip_address(value.strip().strip("[]"))
    except ValueError:
        return value.strip().lower()
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return str(addr.ipv4_mapped)
    return str(addr)


def _strs(value: object, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{what}: expected a list of strings")
    return tuple(value)


def _incident(raw: object, n: int) -> Incident:
    if not isinstance(raw, dict):
        raise ConfigError(f"incident #{n}: expected an object")
    where = f"incident {raw.get('id', '#' + str(n))}"
    for key in ("id", "entity", "opened_at", "first_event_at", "last_event_at"):
        if key not in raw:
            raise ConfigError(f"{where}: missing {key!r}")
    score = raw.get("score", 0.0)
    count = raw.get("alert_count", 0)
    return Incident(
        id=str(raw["id"]),
        entity=str(raw["entity"]),
        opened_at=_time(raw["opened_at"], f"{where} opened_at"),
        first_event_at=_time(raw["first_event_at"], f"{where} first_event_at"),
        last_event_at=_time(raw["last_event_at"], f"{where} last_event_at"),
        entity_type=str(raw.get("entity_type", "user")),
        severity=str(raw.get("severity", "")),
        score=float(score) if isinstance(score, int | float) else 0.0,
        detections=_strs(raw.get("detections"), f"{where} detections"),
        techniques=_strs(raw.get("techniques"), f"{where} techniques"),
        src_ips=tuple(_ip(i) for i in _strs(raw.get("src_ips"), f"{where} src_ips")),
        alert_count=int(count) if isinstance(count, int) else 0,
    )


def load_incidents(path: Path) -> list[Incident]:
    """Incidents from a JSON array (what ``dwelltime incidents --format json`` prints)."""
    try:
        data = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise ConfigError(f"no incidents at {path} (run 'dwelltime detect' on the workspace first)") from None
    except orjson.JSONDecodeError as e:
        raise ConfigError(f"{path}: not JSON: {e}") from None
    if not isinstance(data, list):
        raise ConfigError(f"{path}: expected a JSON array of incidents")
    return parse_incidents(data)


def parse_incidents(data: list[object]) -> list[Incident]:
    """Incidents from their JSON objects (the incident contract), each checked."""
    return [_incident(raw, n) for n, raw in enumerate(data)]


def load_truth(path: Path) -> Truth:
    """Read and check ``truth.json`` (the fields scoring relies on)."""
    try:
        data = orjson.loads(Path(path).read_bytes())
    except FileNotFoundError:
        raise ConfigError(f"no ground truth at {path}") from None
    except orjson.JSONDecodeError as e:
        raise ConfigError(f"{path}: not JSON: {e}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object")
    for key, kind in (("attacks", list), ("confounders", list), ("users", int), ("days", int)):
        if not isinstance(data.get(key), kind):
            raise ConfigError(f"{path}: {key!r} missing or not a {kind.__name__}")
    for n, a in enumerate(data["attacks"]):
        for key in ("scenario", "entity", "first_malicious", "last_malicious", "attacker_ips"):
            if not isinstance(a, dict) or key not in a:
                raise ConfigError(f"{path}: attack #{n} lacks {key!r}")
    for n, c in enumerate(data["confounders"]):
        for key in ("kind", "entity", "start", "end"):
            if not isinstance(c, dict) or key not in c:
                raise ConfigError(f"{path}: confounder #{n} lacks {key!r}")
    truth: Truth = data  # type: ignore[assignment]  # checked above, field by field
    return truth


# --------------------------------------------------------------------------------------- results


@dataclass(slots=True)
class AttackResult:
    scenario: str
    entity: str
    first_malicious: datetime
    last_malicious: datetime
    detected: bool = False
    opened_at: datetime | None = None  # earliest detecting incident
    ttd_seconds: float | None = None
    incident_ids: list[str] = field(default_factory=list)  # detecting incidents
    early_incident_ids: list[str] = field(default_factory=list)  # related, opened before the attack
    detections: list[str] = field(default_factory=list)  # detection ids in the detecting incidents

    def to_dict(self) -> dict[str, object]:
        return {
            "scenario": self.scenario,
            "entity": self.entity,
            "first_malicious": _iso(self.first_malicious),
            "last_malicious": _iso(self.last_malicious),
            "detected": self.detected,
            "opened_at": _iso(self.opened_at) if self.opened_at else None,
            "ttd_seconds": self.ttd_seconds,
            "incident_ids": self.incident_ids,
            "early_incident_ids": self.early_incident_ids,
            "detections": self.detections,
        }


@dataclass(slots=True)
class FalseIncident:
    id: str
    entity: str
    opened_at: datetime
    detections: list[str]
    confounders: list[str]  # kinds of planted confounders overlapping it
    early_for: list[str]  # scenarios it relates to but was opened before

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "entity": self.entity,
            "opened_at": _iso(self.opened_at),
            "detections": self.detections,
            "confounders": self.confounders,
            "early_for": self.early_for,
        }


@dataclass(slots=True)
class EvalReport:
    attacks: list[AttackResult]
    false_incidents: list[FalseIncident]
    incidents: int
    users: int
    days: int

    @property
    def detected(self) -> int:
        return sum(a.detected for a in self.attacks)

    @property
    def ttd(self) -> list[float]:
        return sorted(a.ttd_seconds for a in self.attacks if a.ttd_seconds is not None)

    @property
    def median_ttd_seconds(self) -> float | None:
        return statistics.median(self.ttd) if self.ttd else None

    @property
    def max_ttd_seconds(self) -> float | None:
        return self.ttd[-1] if self.ttd else None

    @property
    def false_per_1000_users_week(self) -> float:
        return len(self.false_incidents) * 1000 * 7 / (self.users * self.days)

    @property
    def false_by_confounder(self) -> dict[str, int]:
        """How many false incidents each confounder kind overlaps ("none": no confounder)."""
        counts: dict[str, int] = {}
        for f in self.false_incidents:
            for kind in f.confounders or ["none"]:
                counts[kind] = counts.get(kind, 0) + 1
        return dict(sorted(counts.items()))

    def to_dict(self) -> dict[str, object]:
        return {
            "summary": {
                "attacks": len(self.attacks),
                "detected": self.detected,
                "median_ttd_seconds": self.median_ttd_seconds,
                "max_ttd_seconds": self.max_ttd_seconds,
                "incidents": self.incidents,
                "false_incidents": len(self.false_incidents),
                "false_per_1000_users_week": round(self.false_per_1000_users_week, 4),
                "false_by_confounder": self.false_by_confounder,
                "users": self.users,
                "days": self.days,
            },
            "attacks": [a.to_dict() for a in self.attacks],
            "false_incidents": [f.to_dict() for f in self.false_incidents],
        }

    def to_json(self) -> str:
        return orjson.dumps(self.to_dict(), option=orjson.OPT_INDENT_2).decode()


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --------------------------------------------------------------------------------------- scoring


def _overlaps(a0: datetime, a1: datetime, b0: datetime, b1: datetime) -> bool:
    return a0 <= b1 and b0 <= a1


def score(truth: Truth, incidents: list[Incident]) -> EvalReport:
    """Match incidents to attacks and confounders (rules in the module docstring)."""
    users, days = truth["users"], truth["days"]
    if users <= 0 or days <= 0:
        raise ConfigError("truth: users and days must be positive")
    aliases = {k.lower(): v.lower() for k, v in truth.get("aliases", {}).items()}

    def canon(name: str) -> str:
        return aliases.get(name.lower(), name.lower())

    results: list[AttackResult] = []
    detecting: set[str] = set()
    early: dict[str, list[str]] = {}
    for atk in truth["attacks"]:
        first = _time(atk["first_malicious"], f"attack {atk['scenario']} first_malicious")
        last = _time(atk["last_malicious"], f"attack {atk['scenario']} last_malicious")
        names = {canon(atk["entity"])} | {canon(a) for a in atk.get("entity_aliases", [])}
        ips = {_ip(i) for i in atk["attacker_ips"]}
        res = AttackResult(atk["scenario"], atk["entity"], first, last)
        for inc in incidents:
            same_entity = canon(inc.entity) in names
            ip_match = bool(ips.intersection(inc.src_ips))
            overlap = _overlaps(inc.first_event_at, inc.last_event_at, first, last)
            if not ((same_entity and (overlap or ip_match)) or (ip_match and overlap)):
                continue
            if inc.opened_at < first and not ip_match:
                res.early_incident_ids.append(inc.id)
                early.setdefault(inc.id, []).append(atk["scenario"])
                continue
            res.incident_ids.append(inc.id)
            detecting.add(inc.id)
            ttd = max(0.0, (inc.opened_at - first).total_seconds())
            if res.ttd_seconds is None or ttd < res.ttd_seconds:
                res.ttd_seconds, res.opened_at = ttd, inc.opened_at
            res.detections.extend(d for d in inc.detections if d not in res.detections)
        res.detected = bool(res.incident_ids)
        results.append(res)

    confounders = [
        (c["kind"], c["entity"], _time(c["start"], "confounder start"), _time(c["end"], "confounder end"))
        for c in truth["confounders"]
    ]
    false: list[FalseIncident] = []
    for inc in incidents:
        if inc.id in detecting:
            continue
        kinds = sorted(
            {
                kind
                for kind, entity, start, end in confounders
                if (entity == "*" or canon(entity) == canon(inc.entity))
                and _overlaps(inc.first_event_at, inc.last_event_at, start, end)
            }
        )
        false.append(
            FalseIncident(inc.id, inc.entity, inc.opened_at, list(inc.detections), kinds, early.get(inc.id, []))
        )
    return EvalReport(results, false, len(incidents), users, days)


def evaluate(truth_path: str | Path, workspace: str | Path) -> EvalReport:
    """Score ``<workspace>/incidents.json`` against the ground truth at ``truth_path``."""
    truth = load_truth(Path(truth_path))
    incidents = load_incidents(Path(workspace) / "incidents.json")
    return score(truth, incidents)


# ------------------------------------------------------------------------------------- rendering


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = int(seconds)
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 86400}d{(s % 86400) // 3600:02d}h"


def render(report: EvalReport, console: Console) -> None:
    """Print the per-attack table, the false incidents and the headline figures."""
    table = Table(title="Attacks", show_lines=False)
    for col in ("scenario", "entity", "first malicious (UTC)", "detected", "time to detect", "incidents", "detections"):
        table.add_column(col)
    for a in report.attacks:
        table.add_row(
            a.scenario,
            a.entity,
            _iso(a.first_malicious),
            "[green]yes[/green]" if a.detected else "[red]no[/red]",
            _duration(a.ttd_seconds),
            ", ".join(a.incident_ids) or ("early: " + ", ".join(a.early_incident_ids) if a.early_incident_ids else "-"),
            ", ".join(a.detections) or "-",
        )
    console.print(table)
    if report.false_incidents:
        ft = Table(title="False incidents")
        for col in ("id", "entity", "opened (UTC)", "detections", "confounders"):
            ft.add_column(col)
        for f in report.false_incidents:
            ft.add_row(
                f.id, f.entity, _iso(f.opened_at), ", ".join(f.detections) or "-", ", ".join(f.confounders) or "-"
            )
        console.print(ft)
    console.print(
        f"detected {report.detected}/{len(report.attacks)} attacks; "
        f"median time to detect {_duration(report.median_ttd_seconds)}, max {_duration(report.max_ttd_seconds)}; "
        f"{len(report.false_incidents)} false of {report.incidents} incidents = "
        f"{report.false_per_1000_users_week:.2f} per 1,000 users per week"
    )
    if report.false_by_confounder:
        parts = ", ".join(f"{k}: {v}" for k, v in report.false_by_confounder.items())
        console.print(f"false incidents by confounder: {parts}")
