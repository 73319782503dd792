"""The attacker's indicators, gathered once for both sharing formats (STIX and MISP).

Only the attacker is shared: addresses, clients, applications and domains it used, and the
ATT&CK techniques seen.  Nothing about the victims (the account, the parties, personal data)
goes into a bundle meant for other organisations.  Values come from the logs, so each is
checked for what it claims to be (an IP address parses as one, a domain is a host name) and
the rest are listed as skipped rather than shared malformed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dwelltime.notify.attack import valid_technique
from dwelltime.notify.text import clean, parse_time
from dwelltime.scope.contract import Exposure, Session
from dwelltime.scope.partners import is_domain_name


@dataclass(frozen=True)
class IpSighting:
    address: str
    version: int  # 4 or 6
    first_seen: datetime | None
    last_seen: datetime | None
    sessions: int  # attacker sessions that used it
    source: str  # "sessions" | "incident"


@dataclass(frozen=True)
class Indicators:
    incident_id: str | None
    ips: tuple[IpSighting, ...]
    user_agents: tuple[str, ...]
    app_ids: tuple[str, ...]
    domains: tuple[str, ...]
    asns: tuple[str, ...]
    countries: tuple[str, ...]
    techniques: tuple[str, ...]
    first_seen: datetime | None
    last_seen: datetime | None
    attacker_sessions: int
    severity: str | None
    skipped: tuple[str, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return not (self.ips or self.user_agents or self.app_ids or self.domains)


def gather(exposure: Exposure, incident: Mapping[str, Any] | None, *, extra_domains: Iterable[str] = ()) -> Indicators:
    """Indicators from the exposure report's ``attacker`` block, its attacker sessions and the incident."""
    skipped: list[str] = []
    attacker_sessions = [s for s in exposure["sessions"] if s["verdict"] == "attacker"]
    addresses: dict[str, IpSighting] = {}
    for raw in [*exposure["attacker"]["ips"], *(ip for s in attacker_sessions for ip in s["src_ips"])]:
        _add_ip(addresses, raw, attacker_sessions, "sessions", skipped)
    for raw in (incident or {}).get("src_ips") or []:
        _add_ip(addresses, str(raw), attacker_sessions, "incident", skipped)

    user_agents = _unique(
        [*exposure["attacker"]["user_agents"], *(ua for s in attacker_sessions for ua in s["user_agents"])]
    )
    domains: list[str] = []
    for raw in extra_domains:
        domain = raw.strip().lower().rstrip(".")
        if is_domain_name(domain):
            domains.append(domain)
        else:
            skipped.append(f"domain {clean(raw)!r}: not a host name")
    techniques: list[str] = []
    for technique in [*exposure["techniques"], *((incident or {}).get("techniques") or [])]:
        if valid_technique(str(technique)):
            techniques.append(str(technique))
        else:
            skipped.append(f"technique {clean(technique)!r}: not an ATT&CK id")
    first = exposure["first_attacker_activity"] or (incident or {}).get("first_event_at")
    last = exposure["last_attacker_activity"] or (incident or {}).get("last_event_at")
    return Indicators(
        incident_id=exposure["incident_id"] or (incident or {}).get("id"),
        ips=tuple(addresses.values()),
        user_agents=tuple(user_agents),
        app_ids=tuple(_unique(exposure["attacker"]["app_ids"])),
        domains=tuple(dict.fromkeys(domains)),
        asns=tuple(_unique(exposure["attacker"]["asns"])),
        countries=tuple(_unique(exposure["attacker"]["countries"])),
        techniques=tuple(dict.fromkeys(techniques)),
        first_seen=parse_time(first) if first else None,
        last_seen=parse_time(last) if last else None,
        attacker_sessions=len(attacker_sessions),
        severity=(incident or {}).get("severity"),
        skipped=tuple(skipped),
    )


def _add_ip(
    addresses: dict[str, IpSighting], raw: str, sessions: list[Session], source: str, skipped: list[str]
) -> None:
    try:
        address = ipaddress.ip_address(raw.strip())
    except ValueError:
        skipped.append(f"address {clean(raw)!r}: not an IP address")
        return
    key = address.compressed
    if key in addresses:
        return
    using = [s for s in sessions if _same_ip(s["src_ips"], address)]
    starts = [parse_time(s["start"]) for s in using]
    ends = [parse_time(s["end"]) for s in using]
    addresses[key] = IpSighting(
        address=key,
        version=address.version,
        first_seen=min(starts) if starts else None,
        last_seen=max(ends) if ends else None,
        sessions=len(using),
        source=source,
    )


def _same_ip(values: list[str], address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    for value in values:
        try:
            if ipaddress.ip_address(value.strip()) == address:
                return True
        except ValueError:
            continue
    return False


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v and v.strip()))
