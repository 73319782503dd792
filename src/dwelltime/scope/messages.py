"""Which messages a set of sessions exposed, each with its evidence and a confidence.

The rules follow what each log actually proves:

* **Bind** (MailItemsAccessed, ``mail_read`` with InternetMessageIds): those messages were
  opened — confidence 1.0.
* **Sync** (``mail_sync`` of a folder): the client downloaded the folder, and Microsoft's
  guidance is to treat every item in it at that time as accessed — every indexed message of
  the folder dated no later than the record, confidence :data:`SYNC_CONFIDENCE`.
* **Send** by the attacker: the message they wrote or sent on the victim's behalf — 1.0.
* **Forwarding** set up by the attacker (mailbox forwarding or a forwarding inbox rule):
  messages delivered to the Inbox after it, confidence :data:`FORWARD_CONFIDENCE`, or 1.0
  where a mail-flow log shows the copy leaving to the forwarding address.
* **Dovecot** sessions: messages named by fetch events (mail_log plugin) — 1.0; a session
  whose logout counters show bodies fetched but whose log names no message (stock Dovecot
  logs no fetch events) exposes each candidate message of the folders it touched (or of the
  whole mailbox when none is known) with probability ``body_count / candidates`` — the
  uncertainty is stated in the report, not hidden.

Sessions judged *uncertain* contribute too, at :data:`UNCERTAIN_FACTOR` of the confidence,
so an analyst sees what else may have been read; counts in the report's summary and in the
letters use messages at or above :data:`REPORTED_CONFIDENCE` only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc

from dwelltime.scope.folders import folder_key
from dwelltime.scope.sessions import Event, ScopedSession

SYNC_CONFIDENCE = 0.9
FORWARD_CONFIDENCE = 0.6
UNCERTAIN_FACTOR = 0.4
REPORTED_CONFIDENCE = 0.5

#: expose(message_id, access, confidence, event, session, folder)
Expose = Callable[[str, str, float, Event, ScopedSession, str | None], None]

INDEX_COLUMNS = ("uid", "owner", "folder", "folder_key", "message_id", "date", "size")


@dataclass
class Exposed:
    message_id: str
    folder: str | None = None
    confidence: float = 0.0
    access: set[str] = field(default_factory=set)
    evidence: set[str] = field(default_factory=set)
    sessions: set[str] = field(default_factory=set)
    index_uid: str | None = None

    def add(self, access: str, confidence: float, event: Event, session: str, folder: str | None) -> None:
        self.access.add(access)
        self.evidence.add(event.uid)
        self.sessions.add(session)
        if confidence > self.confidence:
            self.confidence = confidence
        if folder and not self.folder:
            self.folder = folder


class MailboxView:
    """The indexed messages of one account's mailbox, by id and by folder, for the exposure rules."""

    def __init__(self, index: pa.Table, owners: set[str]) -> None:
        mine = index.filter(pc.is_in(index.column("owner"), value_set=pa.array(sorted(owners), pa.string())))
        rows = mine.select(list(INDEX_COLUMNS)).to_pylist()
        self.by_id: dict[str, list[dict[str, object]]] = defaultdict(list)
        self.by_folder: dict[str, list[dict[str, object]]] = defaultdict(list)
        for row in rows:
            if row["message_id"]:
                self.by_id[str(row["message_id"])].append(row)
            self.by_folder[str(row["folder_key"])].append(row)
        self.rows = rows

    def find(self, message_id: str, folder: str | None) -> dict[str, object] | None:
        candidates = self.by_id.get(message_id) or []
        if not candidates:
            return None
        key = folder_key(folder)
        for row in candidates:
            if row["folder_key"] == key:
                return row
        return candidates[0]

    def folder_at(self, folder: str, moment: datetime) -> list[dict[str, object]]:
        """Messages of ``folder`` dated no later than ``moment`` (undated ones included)."""
        return [r for r in self.by_folder.get(folder_key(folder), []) if _not_after(r["date"], moment)]

    def all_at(self, moment: datetime, folders: set[str] | None = None) -> list[dict[str, object]]:
        keys = {folder_key(f) for f in folders} if folders else None
        return [r for r in self.rows if (keys is None or r["folder_key"] in keys) and _not_after(r["date"], moment)]


@dataclass
class ExposureResult:
    messages: dict[str, Exposed]
    uncertainty: list[str]


def exposed_messages(
    sessions: list[ScopedSession], mailbox: MailboxView, flows: list[Event] | None = None
) -> ExposureResult:
    """Apply the rules of the module docstring to the attacker and uncertain sessions."""
    out: dict[str, Exposed] = {}
    notes: list[str] = []

    def expose(mid: str, access: str, conf: float, event: Event, session: ScopedSession, folder: str | None) -> None:
        factor = 1.0 if session.verdict == "attacker" else UNCERTAIN_FACTOR
        item = out.setdefault(mid, Exposed(mid))
        item.add(access, round(conf * factor, 3), event, session.id, folder)

    for session in sessions:
        if session.verdict == "legitimate":
            continue
        fetched_ids = False
        touched_folders: set[str] = set()
        for event in session.events:
            if event.folder:
                touched_folders.add(event.folder)
            touched_folders.update(event.folders)
            if event.action == "mail_read" and event.message_ids:
                access = "imap-fetch" if event.source_format == "dovecot" else "bind"
                fetched_ids = fetched_ids or event.source_format == "dovecot"
                for mid in event.message_ids:
                    row = mailbox.find(mid, event.folder)
                    expose(mid, access, 1.0, event, session, _folder(row) or event.folder)
            elif event.action == "mail_sync":
                for folder in event.folders or ([event.folder] if event.folder else []):
                    present = mailbox.folder_at(folder, event.time)
                    if not present:
                        notes.append(f"Sync of folder {folder!r}: the mailbox index holds no message of that folder")
                    for row in present:
                        expose(str(row["message_id"]), "sync", SYNC_CONFIDENCE, event, session, _folder(row))
            elif event.event_class == "mail_send" and event.message_ids:
                for mid in event.message_ids:
                    expose(mid, "send", 1.0, event, session, event.folder or "Sent Items")
            elif _is_forwarding(event):
                _forwarded(event, session, mailbox, flows or [], expose, notes)
        if session.kind == "dovecot" and not fetched_ids:
            _dovecot_counters(session, touched_folders, mailbox, expose, notes)
    return ExposureResult(out, notes)


def _is_forwarding(event: Event) -> bool:
    if event.action == "forwarding":
        return True
    if event.action == "inbox_rule":
        keys = {k.lower() for k in event.params}
        return bool(keys & {"forwardto", "redirectto", "forwardasattachmentto"})
    return False


def _forwarded(
    event: Event, session: ScopedSession, mailbox: MailboxView, flows: list[Event], expose: Expose, notes: list[str]
) -> None:
    target = (event.target or "").lower()
    for key, value in event.params.items():
        if key.lower() in ("forwardto", "redirectto", "forwardasattachmentto", "forwardingsmtpaddress"):
            target = value.lower()
    proven = {mid for f in flows if f.time >= event.time and target and target in f.recipients for mid in f.message_ids}
    inbox = mailbox.folder_at("Inbox", datetime.max.replace(tzinfo=event.time.tzinfo))
    later = [r for r in inbox if isinstance(r["date"], datetime) and r["date"] >= event.time]
    for row in later:
        mid = str(row["message_id"])
        expose(mid, "forward", 1.0 if mid in proven else FORWARD_CONFIDENCE, event, session, _folder(row))
    for mid in proven - {str(r["message_id"]) for r in later}:
        expose(mid, "forward", 1.0, event, session, None)
    notes.append(
        f"forwarding to {target or 'an address'} set at {_iso(event.time)}: Inbox mail delivered after it counted"
        f" as exposed ({len(proven)} copies seen leaving in mail-flow logs)"
    )


def _dovecot_counters(
    session: ScopedSession, folders: set[str], mailbox: MailboxView, expose: Expose, notes: list[str]
) -> None:
    bodies = 0
    for event in session.events:
        if event.action == "session_end":
            count = event.params.get("body_count") or event.params.get("retr")
            if count and str(count).isdigit():
                bodies += int(count)
    if bodies <= 0:
        return
    end = max(e.time for e in session.events)
    candidates = mailbox.all_at(end, folders or None)
    if not candidates:
        return
    confidence = min(1.0, bodies / len(candidates))
    last = session.events[-1]
    for row in candidates:
        expose(str(row["message_id"]), "imap-session", confidence, last, session, _folder(row))
    scope = f"folders {', '.join(sorted(folders))}" if folders else "the whole mailbox"
    notes.append(
        f"Dovecot session {session.id}: {bodies} message bodies fetched but no message named in the log;"
        f" each of {len(candidates)} messages in {scope} counted with probability {confidence:.2f}"
    )


def _not_after(date: object, moment: datetime) -> bool:
    """Undated messages count as present (a missing Date header must not hide a message)."""
    return not isinstance(date, datetime) or date <= moment


def _folder(row: dict[str, object] | None) -> str | None:
    return str(row["folder"]) if row and row.get("folder") else None


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
