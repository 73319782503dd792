"""ATT&CK technique names for the ids dwelltime's detections raise, for sharing formats that want a name.

STIX attack-pattern objects need a ``name`` and MISP's galaxy tags are written
``"<name> - <id>"``; the id alone is what the exposure report carries.  An id missing from this
table is still shared, under its id, never under a guessed name.
"""

from __future__ import annotations

import re

TECHNIQUE_NAMES: dict[str, str] = {
    "T1020": "Automated Exfiltration",
    "T1030": "Data Transfer Size Limits",
    "T1041": "Exfiltration Over C2 Channel",
    "T1070.008": "Clear Mailbox Data",
    "T1071.001": "Web Protocols",
    "T1078": "Valid Accounts",
    "T1078.004": "Cloud Accounts",
    "T1098": "Account Manipulation",
    "T1098.002": "Additional Email Delegate Permissions",
    "T1110": "Brute Force",
    "T1110.001": "Password Guessing",
    "T1110.003": "Password Spraying",
    "T1114": "Email Collection",
    "T1114.002": "Remote Email Collection",
    "T1114.003": "Email Forwarding Rule",
    "T1119": "Automated Collection",
    "T1190": "Exploit Public-Facing Application",
    "T1528": "Steal Application Access Token",
    "T1530": "Data from Cloud Storage",
    "T1534": "Internal Spearphishing",
    "T1539": "Steal Web Session Cookie",
    "T1550.001": "Application Access Token",
    "T1550.004": "Web Session Cookie",
    "T1564.008": "Email Hiding Rules",
    "T1566": "Phishing",
    "T1566.002": "Spearphishing Link",
    "T1571": "Non-Standard Port",
    "T1621": "Multi-Factor Authentication Request Generation",
}

_TECHNIQUE = re.compile(r"T\d{4}(?:\.\d{3})?")


def valid_technique(technique_id: str) -> bool:
    return _TECHNIQUE.fullmatch(technique_id) is not None


def technique_name(technique_id: str) -> str | None:
    return TECHNIQUE_NAMES.get(technique_id)


def technique_url(technique_id: str) -> str:
    """The technique's page on attack.mitre.org (sub-techniques as ``T1114/002``)."""
    return "https://attack.mitre.org/techniques/" + technique_id.replace(".", "/") + "/"
