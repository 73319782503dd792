"""Dovecot 2.3 lines in the shared ``onprem/mail.log`` (syslog, see :mod:`._syslog`).

Configuration the lines assume (what a careful administrator of the NISC-type mail
server would have): ``auth_verbose = yes`` (so failed passwords are logged by the auth
worker with the PAM result), the default ``imap_logout_format`` (``in= out= deleted=
expunged= trashed= hdr_count= hdr_bytes= body_count= body_bytes=``) and the ``mail_log``
plugin with ``mail_log_events = delete undelete expunge copy`` and ``mail_log_fields = uid
box msgid size``.

What each activity becomes:

* SignIn over IMAP/POP3 -> success: ``imap-login: Login`` and a short session ending in
  ``Logged out`` (a client checking for mail); failure: ``auth-worker(pid): pam(user,ip,
  <session>): pam_authenticate() failed: ...`` then ``imap-login: Disconnected (auth failed,
  1 attempts in N secs)``.
* MailboxRead -> one whole session: Login, one ``fetch`` line per message read, and the
  logout counters consistent with what was fetched (``body_count`` = messages whose body
  was sent, ``hdr_count`` >= that, bytes adding up to the messages' sizes).
* MailboxChange over IMAP (deletes and moves) -> a session with mail_log ``copy``,
  ``delete`` and ``expunge`` lines and the ``deleted``/``expunged``/``trashed`` counters.

An activity is a complete session: behaviour code emits either a SignIn or a
MailboxRead for one IMAP connection, never both.

``fetch`` lines: stock Dovecot's mail_log plugin has no fetch event (its events are
delete, undelete, expunge, save, copy, mailbox_create/delete/rename, flag_change), so
per-message read evidence on a real Dovecot only exists where a site added it (a
patched plugin, or debug event logging).  The lines are written because ground truth
and scoping want per-message evidence (``fetch_log=True``, the default); pass
``fetch_log=False`` for logs a stock server would write, where only the logout counters
say how much was read.

IMAP UIDs are derived from (user, folder, Message-ID) so a message keeps its UID across
sessions without a table of every mailbox in memory; they are not in arrival order.
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from pathlib import Path

from dwelltime.simulate.activity import Activity, MailboxChange, MailboxRead, MessageRef, SignIn
from dwelltime.simulate.model import Org
from dwelltime.simulate.writers._base import LineFiles, RecordRef, client_host, component_rng, stable_int
from dwelltime.simulate.writers._syslog import MAIL_LOG, ProcessIds, SyslogClock, user_logins

FORMAT = "dovecot"
_DELETE_OPS = frozenset({"HardDelete", "SoftDelete", "MoveToDeletedItems", "Move", "Copy"})


def imap_box(folder: str) -> str:
    """Corpus folder -> IMAP mailbox name (the inbox is always ``INBOX``)."""
    return "INBOX" if folder.lower() in ("inbox", "") else folder.strip("/")


class DovecotWriter:
    format = FORMAT

    def __init__(
        self,
        out_dir: Path,
        org: Org,
        seed: int = 0,
        timestamps: str = "iso",
        fetch_log: bool = True,
        file: str = MAIL_LOG,
    ) -> None:
        self.org = org
        self.fetch_log = fetch_log
        self.file = file
        self._files = LineFiles.acquire(out_dir)
        self._rng = component_rng(org, seed, "writer:dovecot")
        self._clock = SyslogClock(org.timezone, timestamps)
        self._host, self._host_ip = client_host(org, "mailstore")
        self._pids = ProcessIds(self._rng)
        self._logins = user_logins(org)

    def write(self, activity: Activity) -> list[RecordRef]:
        if isinstance(activity, SignIn):
            lines, session = self._signin(activity)
        elif isinstance(activity, MailboxRead):
            lines, session = self._read(activity)
        elif isinstance(activity, MailboxChange) and activity.operation in _DELETE_OPS:
            lines, session = self._change(activity)
        else:
            return []
        return self.emit(lines, session)

    def emit(self, lines: list[tuple[datetime, str]], record_id: str) -> list[RecordRef]:
        """Write ``(time, 'tag: message')`` pairs as syslog lines; one ref per line."""
        if not lines:
            return []
        lines.sort(key=lambda pair: pair[0])
        host = self._host
        text = [f"{self._clock.stamp(when)} {host} {body}" for when, body in lines]
        first = self._files.append(self.file, text)
        return [RecordRef(FORMAT, self.file, first + i, record_id) for i in range(len(text))]

    def close(self) -> None:
        self._files.release()

    # -- pieces -----------------------------------------------------------------------

    def session_id(self) -> str:
        """Dovecot's session id: 12 random bytes in base64 (16 characters)."""
        return base64.b64encode(self._rng.getrandbits(96).to_bytes(12, "big")).decode()

    def login_name(self, upn: str) -> str:
        return self._logins.get(upn, upn)

    def _service(self, activity: Activity) -> str:
        client = getattr(activity, "client", None)
        return "pop3" if client is not None and client.protocol == "pop3" else "imap"

    def _login(self, service: str, when: datetime, user: str, ip: str, mpid: int, session: str) -> tuple[datetime, str]:
        method = "PLAIN" if self._rng.random() < 0.85 else "LOGIN"
        return (
            when,
            f"dovecot: {service}-login: Login: user=<{user}>, method={method}, rip={ip}, lip={self._host_ip}, "
            f"mpid={mpid}, TLS, session=<{session}>",
        )

    def auth_failure(self, when: datetime, upn: str, ip: str, session: str) -> tuple[datetime, str]:
        """The auth worker's line for a wrong password (also used for Postfix SASL via Dovecot)."""
        user = self.login_name(upn)
        reason = (
            "Authentication failure (Password mismatch?)"
            if upn in self._logins
            else "User not known to the underlying authentication module"
        )
        pid = self._pids.of("auth-worker", reuse=400)
        return when, f"dovecot: auth-worker({pid}): pam({user},{ip},<{session}>): pam_authenticate() failed: {reason}"

    # -- activities -------------------------------------------------------------------

    def _signin(self, s: SignIn) -> tuple[list[tuple[datetime, str]], str]:
        rng = self._rng
        service = self._service(s)
        session = self.session_id()
        user = self.login_name(s.user)
        ip = s.network.ip
        if not s.success:
            secs = rng.randint(2, 4)
            failed = self.auth_failure(s.time + timedelta(seconds=secs - 0.4), s.user, ip, session)
            disconnect = (
                s.time + timedelta(seconds=secs),
                f"dovecot: {service}-login: Disconnected (auth failed, 1 attempts in {secs} secs): user=<{user}>, "
                f"method=PLAIN, rip={ip}, lip={self._host_ip}, TLS, session=<{session}>",
            )
            return [failed, disconnect], session
        mpid = self._pids.fresh()
        lines = [self._login(service, s.time, user, ip, mpid, session)]
        end = s.time + timedelta(seconds=rng.uniform(0.3, 3.0))
        prefix = f"dovecot: {service}({user})<{mpid}><{session}>:"
        if service == "pop3":
            lines.append((end, f"{prefix} Disconnected: Logged out top=0/0, retr=0/0, del=0/0, size=0"))
        else:
            inb, out = rng.randint(60, 200), rng.randint(400, 2_500)
            lines.append((end, f"{prefix} Logged out {_counters(inb, out, 0, 0, 0, 0, 0, 0, 0)}"))
        return lines, session

    def _read(self, r: MailboxRead) -> tuple[list[tuple[datetime, str]], str]:
        rng = self._rng
        service = self._service(r)
        session = self.session_id()
        user = self.login_name(r.user)
        mpid = self._pids.fresh()
        lines = [self._login(service, r.time, user, r.network.ip, mpid, session)]
        prefix = f"dovecot: {service}({user})<{mpid}><{session}>:"
        duration = max(float(r.duration_s), 1.0 + 0.05 * len(r.messages))
        n = len(r.messages)
        body_bytes = hdr_bytes = 0
        for i, m in enumerate(r.messages):
            hdr = min(m.size, rng.randint(700, 2_600))
            hdr_bytes += hdr
            body_bytes += max(m.size - hdr, 0)
            if self.fetch_log:
                when = r.time + timedelta(seconds=0.5 + (duration - 1.0) * (i + 1) / (n + 1))
                lines.append((when, f"{prefix} fetch: {self._fields(r.user, m)}"))
        end = r.time + timedelta(seconds=duration)
        if service == "pop3":
            total = hdr_bytes + body_bytes
            lines.append((end, f"{prefix} Disconnected: Logged out top=0/0, retr={n}/{total}, del=0/{n}, size={total}"))
            return lines, session
        # A client lists headers of more messages than it opens.
        extra = rng.randint(0, 3 * n + 5) if n else rng.randint(0, 20)
        hdr_count = n + extra
        hdr_bytes += extra * rng.randint(600, 1_800)
        inb = 120 + 48 * (n + 3) + rng.randint(0, 200)
        out = hdr_bytes + body_bytes + 90 * (hdr_count + 2) + rng.randint(200, 900)
        counters = _counters(inb, out, 0, 0, 0, hdr_count, hdr_bytes, n, body_bytes)
        if rng.random() < 0.15:
            lines.append(
                (end, f"{prefix} Disconnected: Connection closed (UID FETCH finished 0.2 secs ago) {counters}")
            )
        else:
            lines.append((end, f"{prefix} Logged out {counters}"))
        return lines, session

    def _change(self, c: MailboxChange) -> tuple[list[tuple[datetime, str]], str]:
        rng = self._rng
        session = self.session_id()
        user = self.login_name(c.user)
        mpid = self._pids.fresh()
        lines = [self._login("imap", c.time, user, c.network.ip, mpid, session)]
        prefix = f"dovecot: imap({user})<{mpid}><{session}>:"
        moved = c.operation in ("SoftDelete", "MoveToDeletedItems", "Move", "Copy")
        dest = imap_box(c.parameters.get("DestFolder", "Trash"))
        when = c.time + timedelta(seconds=1)
        deleted = expunged = trashed = 0
        for m in c.messages:
            when += timedelta(seconds=rng.uniform(0.05, 0.6))
            if moved:
                dest_uid = 1 + stable_int(c.user, dest, m.message_id) % 500_000
                copy_fields = f"box={dest}, uid={dest_uid}, msgid={_angle(m.message_id)}, size={m.size}"
                lines.append((when, f"{prefix} copy from {imap_box(m.folder)}: {copy_fields}"))
                trashed += dest == "Trash"
            if c.operation != "Copy":
                lines.append((when, f"{prefix} delete: {self._fields(c.user, m)}"))
                deleted += 1
        if c.operation != "Copy" and c.messages:
            when += timedelta(seconds=rng.uniform(0.1, 1.0))
            for m in c.messages:
                lines.append((when, f"{prefix} expunge: {self._fields(c.user, m)}"))
                expunged += 1
        end = when + timedelta(seconds=rng.uniform(0.5, 5.0))
        inb = 150 + 60 * len(c.messages)
        out = 900 + 120 * len(c.messages)
        counters = _counters(inb, out, deleted, expunged, trashed, 0, 0, 0, 0)
        lines.append((end, f"{prefix} Logged out {counters}"))
        return lines, session

    def _fields(self, upn: str, m: MessageRef) -> str:
        box = imap_box(m.folder)
        uid = 1 + stable_int(upn, box, m.message_id) % 500_000
        return f"box={box}, uid={uid}, msgid={_angle(m.message_id)}, size={m.size}"


def _angle(message_id: str) -> str:
    return message_id if message_id.startswith("<") else f"<{message_id}>"


def _counters(
    inb: int, out: int, deleted: int, expunged: int, trashed: int, hdr_c: int, hdr_b: int, body_c: int, body_b: int
) -> str:
    return (
        f"in={inb} out={out} deleted={deleted} expunged={expunged} trashed={trashed} "
        f"hdr_count={hdr_c} hdr_bytes={hdr_b} body_count={body_c} body_bytes={body_b}"
    )
