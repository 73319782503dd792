"""What happens in the simulated organisation, before it is written in any log format.

The behaviour models (people, scripts, attackers) produce these activity records;
the writers (one per vendor format) render them.  Keeping the two apart lets one
attack be written as Microsoft 365 audit records, Entra sign-ins, Dovecot syslog or
Zeek logs by the same scenario code, and lets ground truth be collected in one place:
every activity carries ``scenario`` (None for benign) and the writers report the
record ids they produced for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Network:
    """Where traffic comes from: an address and what the world knows about it."""

    ip: str
    country: str
    asn: int | None
    as_org: str
    net_class: str  # hosting, vpn, tor, mobile, isp, office, private
    city: str = ""


@dataclass(frozen=True, slots=True)
class Client:
    """A mail or browser client as the logs describe it."""

    kind: str  # outlook, owa, mobile, imap, script, browser
    user_agent: str
    client_info: str  # M365 ClientInfoString
    client_app_used: str  # Entra clientAppUsed
    app_id: str
    app_name: str
    protocol: str  # mapi, owa, activesync, imap, rest, ews, smtp


@dataclass(slots=True)
class Activity:
    """Base of every simulated activity."""

    time: datetime
    user: str  # UPN / e-mail address
    network: Network
    scenario: str | None = None  # attack id, or None for benign behaviour
    confounder: str | None = None  # benign behaviour planted to tempt a naive detector


@dataclass(slots=True)
class SignIn(Activity):
    client: Client | None = None
    success: bool = True
    error_code: int = 0
    failure_reason: str = ""
    session_id: str = ""
    interactive: bool = True
    mfa: str = ""  # e.g. "Microsoft Authenticator app" or "" when single factor
    risk_level: str = "none"


@dataclass(slots=True)
class MessageRef:
    """One message in a mailbox: what scoping and ground truth talk about."""

    message_id: str
    folder: str
    size: int


@dataclass(slots=True)
class MailboxRead(Activity):
    """Mail content accessed: M365 MailItemsAccessed (Bind / Sync) or an IMAP/POP session."""

    client: Client | None = None
    session_id: str = ""
    access_type: str = "Bind"  # Bind or Sync
    messages: list[MessageRef] = field(default_factory=list)
    folders: list[str] = field(default_factory=list)  # for Sync: folders synchronised
    duration_s: int = 0
    bytes_in: int = 0


@dataclass(slots=True)
class MailSend(Activity):
    client: Client | None = None
    session_id: str = ""
    message_id: str = ""
    subject: str = ""
    sender: str = ""
    recipients: list[str] = field(default_factory=list)
    size: int = 0
    operation: str = "Send"  # Send, SendAs, SendOnBehalf


@dataclass(slots=True)
class MailboxChange(Activity):
    """Inbox rules, forwarding, permissions, deletes (M365 cmdlets and item operations)."""

    operation: str = ""
    parameters: dict[str, str] = field(default_factory=dict)
    target_mailbox: str = ""
    messages: list[MessageRef] = field(default_factory=list)
    client: Client | None = None
    session_id: str = ""


@dataclass(slots=True)
class Consent(Activity):
    app_id: str = ""
    app_name: str = ""
    scopes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class AdminAction(Activity):
    operation: str = ""  # New-ComplianceSearch, New-MailboxExportRequest, ...
    parameters: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class MailFlow(Activity):
    """One message through the on-prem MTA (Postfix)."""

    queue_id: str = ""
    message_id: str = ""
    sender: str = ""
    recipients: list[str] = field(default_factory=list)
    size: int = 0
    relay: str = ""
    sasl_user: str = ""
    status: str = "sent"


@dataclass(slots=True)
class Connection(Activity):
    """A network connection seen by Zeek (conn.log, and ssl.log when TLS)."""

    dst_ip: str = ""
    dst_port: int = 0
    proto: str = "tcp"
    service: str = ""
    duration_s: float = 0.0
    bytes_orig: int = 0
    bytes_resp: int = 0
    server_name: str = ""  # TLS SNI
