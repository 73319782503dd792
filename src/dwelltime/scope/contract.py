"""The exposure report's JSON contract: what ``dwelltime scope`` writes and ``notify`` reads.

Outside tooling reads this file too, so its shape is a public contract (DESIGN.md lists the
fields it must have at least; the rest are additions).  Written as TypedDicts so that the
producer (:mod:`dwelltime.scope`) and the consumers (:mod:`dwelltime.notify`) are checked
against one definition by mypy, and documented here once.

Every number a notification letter states must be found in this report: letters and drafts
take their facts from it, never from anywhere else.

Times are ISO 8601 UTC strings ending in ``Z``.  Personal-data counts are *distinct values*
per category (a value written twice in one message, or in two messages, counts once in a
total); categories are :data:`PII_CATEGORIES`, always all present (0 when none was found).
"""

from __future__ import annotations

from typing import Literal, TypedDict

EXPOSURE_VERSION = 1

PII_CATEGORIES: tuple[str, ...] = (
    "person_name",
    "email",
    "phone",
    "postal_address",
    "my_number",
    "passport",
    "bank_account",
    "payment_card",
    "date_of_birth",
    "health",
)
"""Personal-data categories, in report order.  ``health`` (health terms: illness, diagnosis,
medication, ...) is special-care-required personal information under APPI Art. 2(3) and a
special category under GDPR Art. 9, which changes what a regulator must be told."""

Verdict = Literal["attacker", "legitimate", "uncertain"]


class Window(TypedDict):
    since: str
    until: str


class Session(TypedDict):
    """One access session of the account in the window, with why it was judged as it was."""

    id: str  # M365 SessionId, Dovecot session id, or "run:<ip>|<client>" for sessionless records
    kind: str  # "m365" | "dovecot" | "run"
    verdict: Verdict
    start: str
    end: str
    src_ips: list[str]
    user_agents: list[str]
    protocols: list[str]
    events: int
    evidence: list[str]  # human sentences: "IP 203.0.113.5 is an incident source", "analyst: --attacker-ip"
    event_uids: list[str]


class Attachment(TypedDict):
    name: str
    content_type: str
    size: int


class ExposedMessage(TypedDict):
    message_id: str
    folder: str
    date: str | None
    sender: str | None
    to: list[str]
    cc: list[str]
    subject: str | None
    size: int | None
    attachments: list[Attachment]
    access: list[str]  # "bind" | "sync" | "send" | "forward" | "imap-fetch" | "imap-select" ...
    confidence: float  # 0..1: 1.0 read by id (Bind); lower when inferred from a folder (Sync, IMAP)
    evidence: list[str]  # event_uids the exposure rests on
    sessions: list[str]  # Session ids
    in_index: bool  # False: the logs name it but the mailbox set given to scope does not hold it
    pii: dict[str, int]


class Party(TypedDict):
    """An organisation whose mail (or whose people's data) was exposed."""

    organisation: str
    domain: str  # registrable domain (public-suffix list), e.g. example.co.jp
    domains: list[str]
    country: str | None  # from the partner directory, else None
    language: str | None  # "ja" | "en" (partner directory), else None
    domestic: bool | None
    contact: str | None
    in_directory: bool  # matched a row of the partner directory
    messages: int
    message_ids: list[str]
    correspondents: list[str]  # addresses of the party seen in the exposed messages
    pii: dict[str, int]
    data_subjects: int


class Attacker(TypedDict):
    """Indicators of the attacker, for sharing (STIX/MISP) and for the letters' advice."""

    ips: list[str]
    user_agents: list[str]
    app_ids: list[str]
    asns: list[str]
    countries: list[str]


class Summary(TypedDict):
    messages: int  # exposed (any confidence)
    messages_certain: int  # confidence >= 0.9
    messages_uncertain: int
    messages_not_in_index: int
    sessions_attacker: int
    sessions_uncertain: int
    parties: int
    data_subjects: int


class DayActivity(TypedDict):
    day: str  # YYYY-MM-DD (UTC)
    events: int  # the attacker's events that day
    messages: int  # messages first exposed that day (confidence >= 0.5)


class _ExposureAdditions(TypedDict, total=False):
    """Fields a report may lack (older reports; outside producers): readers must not require them."""

    activity: list[DayActivity]  # the attacker's activity per day, for charts


class Exposure(_ExposureAdditions):
    version: int
    generated_at: str
    account: str
    aliases: list[str]
    incident_id: str | None
    discovered_at: str | None  # the incident's opened_at (when a live deployment would have paged)
    window: Window
    first_attacker_activity: str | None
    last_attacker_activity: str | None
    techniques: list[str]
    sessions: list[Session]
    messages: list[ExposedMessage]
    parties: list[Party]
    pii: dict[str, int]
    data_subjects: int
    attacker: Attacker
    summary: Summary
    uncertainty: list[str]  # plain sentences on what the numbers cannot tell (e.g. IMAP fetch counters)


def empty_pii() -> dict[str, int]:
    return dict.fromkeys(PII_CATEGORIES, 0)
