"""``dwelltime simulate``: an organisation, its mail, its people, its attackers, in real log formats.

The run is one pass over the simulated days: each day's benign activity and the attack
activities of that day are merged in time order and handed to the writers, which return
a reference to every record they wrote.  The references of malicious activities become
the ground truth (``truth.json``); nothing else needs to be remembered, so memory stays
bounded by one day of activity whatever the length of the run.

Determinism: every component draws from its own ``random.Random`` seeded from the run
seed and the component's name, so the same arguments give the same bytes.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson

from dwelltime.errors import ConfigError
from dwelltime.simulate.activity import Activity, MailboxRead
from dwelltime.simulate.benign import BenignBehaviour
from dwelltime.simulate.corpus import build_corpus
from dwelltime.simulate.org import build_org
from dwelltime.simulate.scenarios import SCENARIOS, attack_entity, attacker_ips
from dwelltime.simulate.writers import RecordRef, WriterSet

ORG_KINDS = ("cloud", "onprem", "hybrid")
#: A fixed default start keeps runs reproducible without the caller choosing a date.
DEFAULT_START = date(2024, 4, 1)
#: Personal data planted in every message (beside truth.json): see ``corpus.PiiTruthWriter``.
PII_TRUTH = "pii_truth.jsonl.gz"

ProgressCallback = Callable[[int, int], None]


@dataclass
class SimulationResult:
    out: Path
    truth_path: Path
    org_kind: str
    users: int
    days: int
    records: dict[str, int] = field(default_factory=dict)
    attacks: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


@dataclass
class _AttackLog:
    name: str
    entity: str
    entity_type: str
    aliases: list[str]
    ips: list[str]
    first: datetime | None = None
    last: datetime | None = None
    records: list[RecordRef] = field(default_factory=list)
    messages: set[str] = field(default_factory=set)


def simulate(
    kind: str,
    users: int,
    days: int,
    seed: int,
    scenarios: Sequence[str],
    out: Path,
    start: date = DEFAULT_START,
    progress: ProgressCallback | None = None,
    params: Mapping[str, Mapping[str, object]] | None = None,
) -> SimulationResult:
    """Write logs (``out/logs``), mailboxes (``out/mailboxes``), ``out/truth.json`` and ``out/pii_truth.jsonl.gz``.

    ``params``: per scenario, parameter overrides (``{"apt-imap": {"mimic": "true"}}``).
    """
    if kind not in ORG_KINDS:
        raise ConfigError(f"unknown organisation kind {kind!r}; choose one of {', '.join(ORG_KINDS)}")
    stray = sorted(set(params or {}) - set(scenarios))
    if stray:
        raise ConfigError(f"parameters given for scenario(s) not simulated: {', '.join(stray)}")
    unknown = [name for name in scenarios if name not in SCENARIOS]
    if unknown:
        raise ConfigError(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
    if users < 10 or days < 1:
        raise ConfigError("simulate needs at least 10 users and 1 day")
    out.mkdir(parents=True, exist_ok=True)
    org = build_org(kind, users, seed, start, days)
    corpus = build_corpus(org, start, days, seed, out / "mailboxes", pii_truth=out / PII_TRUTH)
    benign = BenignBehaviour(org, corpus, start, days, seed)
    result = SimulationResult(out=out, truth_path=out / "truth.json", org_kind=kind, users=users, days=days)

    tz = ZoneInfo(org.timezone)
    by_day: dict[date, list[Activity]] = defaultdict(list)
    attacks: dict[str, _AttackLog] = {}
    avoid: list[str] = []
    last_day = start + timedelta(days=days - 1)
    for name in scenarios:
        scenario = SCENARIOS[name]
        if kind not in scenario.org_kinds:
            result.skipped[name] = f"needs an organisation of kind {', '.join(scenario.org_kinds)}"
            continue
        rng = random.Random(f"dwelltime-scenario:{seed}:{name}")
        activities = scenario(org, corpus, start, days, rng, avoid=list(avoid), **(params or {}).get(name, {}))
        entity = attack_entity(name, activities)
        avoid.append(entity)
        attacks[name] = _AttackLog(
            name=name,
            entity=entity,
            entity_type=scenario.entity_type,
            aliases=_aliases(org, entity),
            ips=attacker_ips(org, activities),
        )
        for activity in activities:
            day = min(max(activity.time.astimezone(tz).date(), start), last_day)
            by_day[day].append(activity)
        result.attacks.append(name)

    confounders: dict[tuple[str, str], list[datetime]] = {}
    counts: dict[str, int] = defaultdict(int)
    with WriterSet(out / "logs", org, seed) as writers:
        for offset in range(days):
            day = start + timedelta(days=offset)
            merged = sorted([*benign.day(day), *by_day.pop(day, [])], key=lambda a: a.time)
            for activity in merged:
                refs = writers.write(activity)
                for ref in refs:
                    counts[ref.format] += 1
                if activity.scenario is not None and activity.scenario in attacks:
                    _record_attack(attacks[activity.scenario], activity, refs)
                elif activity.confounder:
                    span = confounders.setdefault((activity.confounder, activity.user), [activity.time, activity.time])
                    span[0] = min(span[0], activity.time)
                    span[1] = max(span[1], activity.time)
            if progress:
                progress(offset + 1, days)
    result.records = dict(sorted(counts.items()))
    truth = _truth(org.kind, users, days, seed, attacks, confounders, org_aliases(org))
    result.truth_path.write_bytes(orjson.dumps(truth, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
    return result


def _record_attack(log: _AttackLog, activity: Activity, refs: list[RecordRef]) -> None:
    log.first = activity.time if log.first is None else min(log.first, activity.time)
    log.last = activity.time if log.last is None else max(log.last, activity.time)
    log.records.extend(refs)
    if isinstance(activity, MailboxRead):
        log.messages.update(m.message_id for m in activity.messages)


def _aliases(org: object, entity: str) -> list[str]:
    from dwelltime.simulate.model import Org

    assert isinstance(org, Org)
    for user in org.users:
        if user.upn == entity:
            return sorted({user.login, user.upn.split("@", 1)[0]} - {entity})
    return []


def org_aliases(org: object) -> dict[str, str]:
    """Every on-prem login name -> the person's UPN (how Dovecot/Postfix name the same person)."""
    from dwelltime.simulate.model import Org

    assert isinstance(org, Org)
    return {user.login: user.upn for user in org.users if user.login != user.upn}


def _iso(moment: datetime | None) -> str:
    return moment.isoformat().replace("+00:00", "Z") if moment else ""


def _truth(
    kind: str,
    users: int,
    days: int,
    seed: int,
    attacks: dict[str, _AttackLog],
    confounders: dict[tuple[str, str], list[datetime]],
    aliases: dict[str, str],
) -> dict[str, object]:
    return {
        "org": kind,
        "users": users,
        "days": days,
        "seed": seed,
        "aliases": aliases,
        "attacks": [
            {
                "scenario": log.name,
                "entity": log.entity,
                "entity_type": log.entity_type,
                "entity_aliases": log.aliases,
                "first_malicious": _iso(log.first),
                "last_malicious": _iso(log.last),
                "attacker_ips": log.ips,
                "records": [
                    {"format": r.format, "file": r.file, "line": r.line, "record_id": r.record_id} for r in log.records
                ],
                "messages_read": sorted(log.messages),
            }
            for log in attacks.values()
            if log.first is not None
        ],
        "confounders": [
            {"kind": kind_, "entity": entity, "start": _iso(span[0]), "end": _iso(span[1])}
            for (kind_, entity), span in sorted(confounders.items())
        ],
    }
