"""A STIX 2.1 bundle of the attacker's indicators, built and checked with the stix2 library.

What a recipient gets: who we are (identity, creator of every object), one indicator per
attacker address, user agent, OAuth application and domain, the incident as observed data with
a sighting of each indicator by us, the ATT&CK techniques as attack patterns that the
indicators ``indicate``, all under one TLP marking, gathered in a report.

Identifiers are UUIDv5 from the incident and the value, so running ``notify`` twice yields the
same ids and a recipient's platform updates objects instead of duplicating them.  Patterns are
built by :func:`pattern_string`, which escapes the attacker's text as the STIX patterning
grammar requires; the stix2 constructor then validates every pattern, and the finished bundle
is parsed back with custom content refused before it is written.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import stix2

from dwelltime.notify.attack import technique_name, technique_url
from dwelltime.notify.indicators import Indicators

TLP_LEVELS = ("white", "green", "amber", "red")
_TLP: dict[str, Any] = {
    "white": stix2.TLP_WHITE,
    "green": stix2.TLP_GREEN,
    "amber": stix2.TLP_AMBER,
    "red": stix2.TLP_RED,
}
_NAMESPACE = uuid.UUID("5d0e3f0c-94e5-4c0e-9b8a-8f0d1f6d9a21")  # dwelltime's, for deterministic ids

UA_PATH = "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'"


def tlp_marking(level: str) -> Any:
    """The stix2 library's TLP marking definition for ``white``/``green``/``amber``/``red``."""
    try:
        return _TLP[level.lower()]
    except KeyError:
        raise ValueError(f"TLP level {level!r} is not one of {', '.join(TLP_LEVELS)}") from None


def quote(value: str) -> str:
    """A STIX pattern string literal: single quotes, with ``\\`` and ``'`` backslash-escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def pattern_string(path: str, value: str) -> str:
    """``[path = 'value']`` with the value quoted safely."""
    return f"[{path} = {quote(value)}]"


def _id(kind: str, *parts: str) -> str:
    return f"{kind}--{uuid.uuid5(_NAMESPACE, '|'.join((kind, *parts)))}"


def build_bundle(indicators: Indicators, *, org_name: str, tlp: str, now: datetime) -> Any:
    """The bundle (a ``stix2.Bundle``), validated by the library as each object is made."""
    marking = tlp_marking(tlp)
    scope = indicators.incident_id or "no-incident"
    common: dict[str, Any] = {"created": now, "modified": now, "object_marking_refs": [marking.id]}
    identity = stix2.Identity(id=_id("identity", org_name), name=org_name, identity_class="organization", **common)
    owned = {**common, "created_by_ref": identity.id}
    first = indicators.first_seen or now
    last = max(indicators.last_seen or first, first)

    observables: list[Any] = []
    made: list[tuple[Any, str]] = []  # (indicator, kind) pairs
    for ip in indicators.ips:
        sco_type = stix2.IPv4Address if ip.version == 4 else stix2.IPv6Address
        observables.append(sco_type(value=ip.address, object_marking_refs=[marking.id]))
        path = "ipv4-addr:value" if ip.version == 4 else "ipv6-addr:value"
        seen = f"; {ip.sessions} attacker session(s)" if ip.sessions else "; listed by the incident's alerts"
        made.append(
            (
                _indicator(
                    scope,
                    "address",
                    pattern_string(path, ip.address),
                    f"Attacker address {ip.address}",
                    f"Source address of unauthorised mailbox access{seen}.",
                    ip.first_seen or first,
                    owned,
                ),
                "ip",
            )
        )
    for agent in indicators.user_agents:
        made.append(
            (
                _indicator(
                    scope,
                    "user-agent",
                    pattern_string(UA_PATH, agent),
                    "Attacker user agent",
                    "User-Agent of the attacker's sessions; benign clients may share it: combine with others.",
                    first,
                    owned,
                ),
                "ua",
            )
        )
    for app_id in indicators.app_ids:
        pattern = f"[user-account:user_id = {quote(app_id)} AND user-account:account_type = 'oauth-application']"
        made.append(
            (
                _indicator(
                    scope,
                    "app",
                    pattern,
                    f"OAuth application {app_id}",
                    "Client (application) id of an application the attacker used to reach the mailbox.",
                    first,
                    owned,
                ),
                "app",
            )
        )
    for domain in indicators.domains:
        observables.append(stix2.DomainName(value=domain, object_marking_refs=[marking.id]))
        made.append(
            (
                _indicator(
                    scope,
                    "domain",
                    pattern_string("domain-name:value", domain),
                    f"Attacker domain {domain}",
                    "Domain used by the attacker (given by the analyst).",
                    first,
                    owned,
                ),
                "domain",
            )
        )

    patterns = []
    for technique in indicators.techniques:
        name = technique_name(technique) or f"ATT&CK {technique}"
        patterns.append(
            stix2.AttackPattern(
                id=_id("attack-pattern", technique),
                name=name,
                external_references=[
                    {"source_name": "mitre-attack", "external_id": technique, "url": technique_url(technique)}
                ],
                **owned,
            )
        )
    relationships = [
        stix2.Relationship(
            id=_id("relationship", scope, indicator.id, "indicates", pattern.id),
            source_ref=indicator.id,
            relationship_type="indicates",
            target_ref=pattern.id,
            **owned,
        )
        for indicator, _ in made
        for pattern in patterns
    ]
    sightings: list[Any] = []
    observed: list[Any] = []
    if observables:
        observed_data = stix2.ObservedData(
            id=_id("observed-data", scope),
            first_observed=first,
            last_observed=last,
            number_observed=max(1, indicators.attacker_sessions),
            object_refs=[o.id for o in observables],
            **owned,
        )
        observed.append(observed_data)
        for indicator, _ in made:
            sightings.append(
                stix2.Sighting(
                    id=_id("sighting", scope, indicator.id),
                    sighting_of_ref=indicator.id,
                    observed_data_refs=[observed_data.id],
                    where_sighted_refs=[identity.id],
                    first_seen=first,
                    last_seen=last,
                    count=max(1, indicators.attacker_sessions),
                    description=f"Seen in incident {scope}.",
                    **owned,
                )
            )
    content = [*(i for i, _ in made), *patterns, *relationships, *observed, *observables, *sightings]
    report = stix2.Report(
        id=_id("report", scope),
        name=f"E-mail account compromise {scope}: attacker indicators",
        description=(
            "Indicators of an attacker who accessed a mailbox without authorisation. "
            "Only the attacker's infrastructure and techniques are included, nothing about the victims."
        ),
        published=now,
        report_types=["threat-actor", "attack-pattern", "indicator"],
        object_refs=[identity.id, *(o.id for o in content)],
        **owned,
    )
    bundle = stix2.Bundle(identity, marking, report, *content, id=_id("bundle", scope, now.isoformat()))
    stix2.parse(bundle.serialize(), allow_custom=False)  # refuse to write what the library would not read back
    return bundle


def _indicator(
    scope: str, kind: str, pattern: str, name: str, description: str, valid_from: datetime, owned: dict[str, Any]
) -> Any:
    return stix2.Indicator(
        id=_id("indicator", scope, pattern),
        name=name,
        description=description,
        indicator_types=["malicious-activity"],
        pattern=pattern,
        pattern_type="stix",
        pattern_version="2.1",
        valid_from=valid_from,
        labels=[kind],
        **owned,
    )
