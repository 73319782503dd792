"""The normalized event schema: every parser writes it, every detection reads it.

One flat pyarrow schema, OCSF-inspired (class names and field meanings follow OCSF
where they fit) but flattened so that Parquet, DuckDB and Spark can all scan it
without nested-struct gymnastics.  Each field carries its documentation in the
Arrow field metadata so that ``dwelltime schema`` and the docs are generated from
the one place the truth lives.

Nothing here depends on anything else in the package.
"""

from __future__ import annotations

from enum import StrEnum

import pyarrow as pa


class EventClass(StrEnum):
    """What kind of thing happened (OCSF category, simplified)."""

    AUTH = "auth"  # sign-in / login attempts, logouts, session ends
    MAILBOX_ACCESS = "mailbox_access"  # reading mail: MailItemsAccessed, IMAP/POP fetches
    MAILBOX_CHANGE = "mailbox_change"  # rules, forwarding, permissions, deletes
    MAIL_SEND = "mail_send"  # a user sending (Send, SendAs, SendOnBehalf, SASL submit)
    MAIL_FLOW = "mail_flow"  # one message's passage through an MTA
    ADMIN = "admin"  # tenant / server administration, compliance search, export
    APP_CONSENT = "app_consent"  # OAuth grants
    NETWORK = "network"  # connections, TLS sessions
    OTHER = "other"  # recognised source, operation kept but not normalized further


class Outcome(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    UNKNOWN = "unknown"


class Action(StrEnum):
    """Normalized actions.  Vendor operations not listed keep their own name in ``action``."""

    LOGIN = "login"
    LOGOUT = "logout"
    SESSION_END = "session_end"
    TOKEN_GRANT = "token_grant"  # noqa: S105 (an action name, not a secret)
    MAIL_READ = "mail_read"  # message content fetched / bound
    MAIL_SYNC = "mail_sync"  # client sync of a folder (content downloaded in bulk)
    SEND = "send"
    SEND_AS = "send_as"
    SEND_ON_BEHALF = "send_on_behalf"
    INBOX_RULE = "inbox_rule"
    FORWARDING = "forwarding"
    MAILBOX_PERMISSION = "mailbox_permission"
    RECIPIENT_PERMISSION = "recipient_permission"
    FOLDER_PERMISSION = "folder_permission"
    CONSENT = "consent"
    COMPLIANCE_SEARCH = "compliance_search"
    MAILBOX_EXPORT = "mailbox_export"
    TRANSPORT_RULE = "transport_rule"
    HARD_DELETE = "hard_delete"
    SOFT_DELETE = "soft_delete"
    MOVE_TO_DELETED = "move_to_deleted"
    DELIVER = "deliver"  # MTA delivery (one mail_flow row per message)
    REJECT = "reject"  # MTA refused a client / message
    CONNECT = "connect"
    TLS = "tls"
    ADMIN_CHANGE = "admin_change"


def _f(name: str, typ: pa.DataType, doc: str) -> pa.Field:
    return pa.field(name, typ, nullable=True, metadata={"doc": doc})


_STR = pa.string()
_LIST_STR = pa.list_(pa.string())

EVENT_FIELDS: list[pa.Field] = [
    _f("event_uid", _STR, "Stable 128-bit hex id of the record (source family + natural key); the dedup key."),
    _f("time", pa.timestamp("us", tz="UTC"), "When the event happened, UTC."),
    _f("event_class", _STR, "EventClass value."),
    _f("action", _STR, "Action value, or the vendor operation name where no normalized action fits."),
    _f("outcome", _STR, "success / failure / unknown."),
    _f("operation", _STR, "The vendor's own operation or message type, verbatim (e.g. MailItemsAccessed)."),
    _f("user", _STR, "Canonical lower-case principal (UPN, e-mail or local login name)."),
    _f("user_type", _STR, "Kind of principal as the vendor says (Regular, Admin, ServicePrincipal, ...)."),
    _f("src_ip", _STR, "Client address, canonical text form (IPv4 dotted, IPv6 compressed, no port)."),
    _f("src_port", pa.int32(), "Client port where known."),
    _f("dst_ip", _STR, "Server / destination address."),
    _f("dst_port", pa.int32(), "Server / destination port."),
    _f("dst_host", _STR, "Destination host name (relay, SNI, server)."),
    _f("observer", _STR, "Host that wrote the log (syslog hostname, originating server)."),
    _f("user_agent", _STR, "User agent or client info string, verbatim."),
    _f("client_app", _STR, "Client application as reported (Outlook, Browser, IMAP4, app name)."),
    _f(
        "protocol",
        _STR,
        "Access protocol: imap, pop3, smtp, submission, ews, graph, owa, activesync, mapi, browser, rest.",
    ),
    _f("session_id", _STR, "Session identifier linking events of one logon."),
    _f("correlation_id", _STR, "Request / correlation id where the vendor gives one."),
    _f("device_id", _STR, "Device identifier."),
    _f("auth_method", _STR, "Authentication method or mechanism (PLAIN, Password, MFA detail...)."),
    _f("error_code", _STR, "Vendor error or status code, as text."),
    _f("status_detail", _STR, "Human-readable failure reason or status detail."),
    _f("mailbox", _STR, "Mailbox acted on (owner address), lower-case."),
    _f("folder", _STR, "Primary folder acted on."),
    _f("folders", _LIST_STR, "All folders involved, in vendor order."),
    _f("message_ids", _LIST_STR, "RFC 5322 Message-IDs involved (with angle brackets as the vendor gives them)."),
    _f("item_count", pa.int64(), "Number of items involved (messages, operations)."),
    _f("bytes_in", pa.int64(), "Bytes from client to server."),
    _f("bytes_out", pa.int64(), "Bytes from server to client (e.g. mail content read)."),
    _f("sender", _STR, "Envelope or header sender, lower-case."),
    _f("recipients", _LIST_STR, "Recipients, lower-case."),
    _f("subject", _STR, "Message subject (attacker-controlled: always escape when shown)."),
    _f("target", _STR, "Object of a change: rule name, grantee, forwarding address, searched mailbox..."),
    _f("params", pa.map_(pa.string(), pa.string()), "Change parameters and other vendor detail, name -> value."),
    _f("app_id", _STR, "Application (client) id."),
    _f("app_name", _STR, "Application display name."),
    _f("scopes", _LIST_STR, "OAuth scopes / permissions granted or used."),
    _f("tenant", _STR, "Tenant / organisation / customer id."),
    _f("src_country", _STR, "ISO 3166-1 alpha-2 country of src_ip (enrichment)."),
    _f("src_city", _STR, "City of src_ip (enrichment, coarse)."),
    _f("src_lat", pa.float64(), "Latitude of src_ip (enrichment)."),
    _f("src_lon", pa.float64(), "Longitude of src_ip (enrichment)."),
    _f("src_asn", pa.int64(), "Autonomous system number of src_ip (enrichment)."),
    _f("src_as_org", _STR, "Autonomous system organisation of src_ip (enrichment)."),
    _f("src_net_class", _STR, "hosting, vpn, tor, mobile, isp, private, reserved or unknown (enrichment)."),
    _f("source_format", _STR, "Parser id that read the record (e.g. m365-audit)."),
    _f("source_file", _STR, "Path of the file the record came from, as given to ingest."),
    _f(
        "source_line",
        pa.int64(),
        "1-based line of the record in the (decompressed) file; for JSON documents the 1-based record ordinal.",
    ),
    _f("raw", _STR, "The vendor's original record, verbatim."),
]

EVENT_SCHEMA: pa.Schema = pa.schema(EVENT_FIELDS)
EVENT_COLUMNS: tuple[str, ...] = tuple(EVENT_SCHEMA.names)

ENRICHMENT_COLUMNS: tuple[str, ...] = (
    "src_country",
    "src_city",
    "src_lat",
    "src_lon",
    "src_asn",
    "src_as_org",
    "src_net_class",
)

QUARANTINE_SCHEMA: pa.Schema = pa.schema(
    [
        _f("quarantine_uid", _STR, "Stable id of the rejected record (file content + line), for exactly-once storage."),
        _f("source_file", _STR, "File the record came from."),
        _f("source_line", pa.int64(), "1-based line (or record ordinal) of the rejected record."),
        _f("source_format", _STR, "Parser that rejected it."),
        _f("reason", _STR, "Why it was rejected."),
        _f("raw", _STR, "The record as read (invalid bytes replaced; very long records truncated, see reason)."),
        _f("ingested_at", pa.timestamp("us", tz="UTC"), "When it was quarantined."),
    ]
)


def field_doc(name: str) -> str:
    """Documentation of one event field."""
    meta = EVENT_SCHEMA.field(name).metadata or {}
    return str(meta.get(b"doc", b"").decode())


def empty_events() -> pa.RecordBatch:
    """A zero-row batch in the event schema."""
    return pa.RecordBatch.from_pylist([], schema=EVENT_SCHEMA)
