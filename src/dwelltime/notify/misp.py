"""A MISP event of the attacker's indicators, built with PyMISP's own classes (no server involved).

Building through ``MISPEvent``/``MISPObject`` rather than writing JSON by hand means the
attribute types, categories and object templates are the ones PyMISP ships, so the file
imports into a MISP instance as it is.  Addresses are ``ip-port`` objects (the address with
when it was first and last seen); user agents, domains and application ids are attributes;
TLP and ATT&CK techniques are tags.
"""

from __future__ import annotations

from datetime import datetime

from pymisp import MISPEvent, MISPObject

from dwelltime.notify.attack import technique_name
from dwelltime.notify.indicators import Indicators
from dwelltime.notify.text import iso

# TLP -> MISP distribution: 0 your organisation, 1 this community, 2 connected communities, 3 all.
_DISTRIBUTION = {"red": 0, "amber": 1, "green": 2, "white": 3}
# dwelltime severity -> MISP threat level: 1 high, 2 medium, 3 low, 4 undefined.
_THREAT_LEVEL = {"critical": 1, "high": 1, "medium": 2, "low": 3}
ANALYSIS_ONGOING = 1


def attack_tag(technique: str) -> str:
    """MISP's galaxy tag for a technique when its name is known, else a plain ATT&CK tag with the id."""
    name = technique_name(technique)
    if name:
        return f'misp-galaxy:mitre-attack-pattern="{name} - {technique}"'
    return f'mitre-attack:technique="{technique}"'


def build_event(indicators: Indicators, *, org_name: str, tlp: str, now: datetime) -> MISPEvent:
    scope = indicators.incident_id or "no-incident"
    event = MISPEvent()
    event.info = f"E-mail account compromise {scope}: attacker indicators (reported by {org_name})"
    event.distribution = _DISTRIBUTION[tlp.lower()]
    event.threat_level_id = _THREAT_LEVEL.get(indicators.severity or "", 4)
    event.analysis = ANALYSIS_ONGOING
    event.set_date((indicators.first_seen or now).date())
    event.add_tag(f"tlp:{tlp.lower()}")
    for technique in indicators.techniques:
        event.add_tag(attack_tag(technique))

    for ip in indicators.ips:
        obj = MISPObject("ip-port")
        obj.comment = "Source address of unauthorised mailbox access"
        obj.add_attribute("ip-src", ip.address, to_ids=True)
        if ip.first_seen:
            obj.add_attribute("first-seen", iso(ip.first_seen))
        if ip.last_seen:
            obj.add_attribute("last-seen", iso(ip.last_seen))
        seen = f"{ip.sessions} attacker session(s)" if ip.sessions else "listed by the incident's alerts"
        obj.add_attribute("text", f"Incident {scope}: {seen}")
        event.add_object(obj)
    for agent in indicators.user_agents:
        event.add_attribute(
            "user-agent",
            agent,
            to_ids=False,
            comment="User-Agent of the attacker's sessions (benign clients may share it)",
        )
    for domain in indicators.domains:
        event.add_attribute("domain", domain, to_ids=True, comment="Domain used by the attacker (given by the analyst)")
    for app_id in indicators.app_ids:
        event.add_attribute(
            "text", app_id, to_ids=False, comment="OAuth application (client) id the attacker used to reach the mailbox"
        )
    for asn in indicators.asns:
        number = asn.upper().removeprefix("AS")
        if number.isdigit():
            event.add_attribute("AS", number, to_ids=False, comment="Network of attacker addresses")
    summary = (
        f"Unauthorised access to an e-mail account's mailbox (incident {scope}); "
        f"{indicators.attacker_sessions} attacker session(s)"
    )
    if indicators.first_seen and indicators.last_seen:
        summary += f" from {iso(indicators.first_seen)} to {iso(indicators.last_seen)}"
    event.add_attribute("text", summary + ".", to_ids=False, comment="Summary", disable_correlation=True)
    return event
