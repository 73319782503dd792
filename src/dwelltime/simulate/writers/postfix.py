"""Postfix lines in the shared ``onprem/mail.log`` (syslog, see :mod:`._syslog`).

One message (a MailFlow, or a MailSend over SMTP submission) becomes the lines Postfix
writes for it, in time order: ``smtpd`` connect and TLS, ``QUEUEID: client=`` (with
``sasl_method``/``sasl_username`` for authenticated submission), ``cleanup`` message-id,
``qmgr`` from/size/nrcpt, one ``lmtp`` (local mailbox, via Dovecot LMTP) or ``smtp``
(remote, via the mail gateway when the organisation has one) delivery line per
recipient with relay/delay/delays/dsn/status, ``smtpd`` disconnect with the command
counters, ``qmgr`` removed.  Locally submitted mail (no client address of its own) comes
in through ``pickup`` instead of ``smtpd``.

A local delivery also makes Dovecot's LMTP log ``lmtp(user)<pid><session>: msgid=<...>:
saved mail to INBOX``; those lines are written here too (their refs carry format
``dovecot``) because one message produces them.

A SignIn over SMTP is an authentication on the submission port: failure -> ``warning:
unknown[ip]: SASL LOGIN authentication failed: UGFzc3dvcmQ6`` (Postfix does not log the
user name; Dovecot's auth worker, Postfix's SASL backend, does, see :mod:`.dovecot`);
success without a message -> connect/disconnect with ``auth=1``.

Queue ids are Postfix's short form: five hex digits of the arrival's microseconds
followed by hex digits of the queue file's inode, as ``cleanup`` names them.
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from pathlib import Path

from dwelltime.simulate.activity import Activity, MailFlow, MailSend, SignIn
from dwelltime.simulate.model import Org
from dwelltime.simulate.writers._base import LineFiles, RecordRef, client_host, component_rng
from dwelltime.simulate.writers._syslog import MAIL_LOG, ProcessIds, SyslogClock, user_logins

FORMAT = "postfix"
_TLS = (
    ("TLSv1.3", "TLS_AES_256_GCM_SHA384", "256/256"),
    ("TLSv1.3", "TLS_AES_128_GCM_SHA256", "128/128"),
    ("TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384", "256/256"),
)
_STATUS = {
    "sent": ("2.0.0", "sent"),
    "deferred": ("4.4.1", "deferred"),
    "bounced": ("5.1.1", "bounced"),
}

Line = tuple[datetime, str, str]  # time, "tag[pid]: message", format of the line


class PostfixWriter:
    format = FORMAT

    def __init__(self, out_dir: Path, org: Org, seed: int = 0, timestamps: str = "iso", file: str = MAIL_LOG) -> None:
        self.org = org
        self.file = file
        self._files = LineFiles.acquire(out_dir)
        self._rng = component_rng(org, seed, "writer:postfix")
        self._clock = SyslogClock(org.timezone, timestamps)
        self._host, self._host_ip = client_host(org, "mta")
        self._store, self._store_ip = client_host(org, "mailstore")
        gateway = [h for h in org.hosts if h.role == "gateway"]
        self._gateway = f"{gateway[0].name}[{gateway[0].ip}]:25" if gateway else ""
        self._pids = ProcessIds(self._rng)
        self._qmgr = self._pids.fresh()
        self._logins = user_logins(org)
        self._partners = {p.domain for p in org.partners}

    def write(self, activity: Activity) -> list[RecordRef]:
        if isinstance(activity, MailFlow):
            return self._emit(*self._message(activity))
        if isinstance(activity, MailSend):
            flow = MailFlow(
                time=activity.time,
                user=activity.user,
                network=activity.network,
                message_id=activity.message_id,
                sender=activity.sender or activity.user,
                recipients=activity.recipients,
                size=activity.size,
                sasl_user=self._logins.get(activity.user, activity.user),
            )
            return self._emit(*self._message(flow))
        if isinstance(activity, SignIn):
            return self._emit(*self._auth(activity))
        return []

    def close(self) -> None:
        self._files.release()

    def _emit(self, lines: list[Line], record_id: str) -> list[RecordRef]:
        if not lines:
            return []
        lines.sort(key=lambda item: item[0])
        text = [f"{self._clock.stamp(when)} {self._host} {body}" for when, body, _ in lines]
        first = self._files.append(self.file, text)
        return [
            RecordRef(fmt, self.file, first + i, record_id if fmt == FORMAT else _session_of(body))
            for i, (_, body, fmt) in enumerate(lines)
        ]

    # -- ids ------------------------------------------------------------------------

    def queue_id(self, when: datetime) -> str:
        return f"{when.microsecond:05X}{self._rng.randint(0x10000, 0xFFFFFF):X}"

    def _dovecot_session(self) -> str:
        return base64.b64encode(self._rng.getrandbits(96).to_bytes(12, "big")).decode()

    def _client(self, flow: MailFlow) -> str:
        ip = flow.network.ip
        domain = flow.sender.rpartition("@")[2].lower()
        if not flow.sasl_user and domain in self._partners:
            return f"mail.{domain}[{ip}]"
        return f"unknown[{ip}]"

    def _local(self, address: str) -> bool:
        return address.rpartition("@")[2].lower() == self.org.domain

    # -- a message --------------------------------------------------------------------

    def _message(self, f: MailFlow) -> tuple[list[Line], str]:
        """The lines of one message and its queue id."""
        rng = self._rng
        t = f.time
        qid = f.queue_id  # named below, when the queue file is created
        lines: list[Line] = []
        sub = bool(f.sasl_user)
        smtpd = "postfix/submission/smtpd" if sub else "postfix/smtpd"
        local_pickup = not sub and f.network.net_class == "private" and self._local(f.sender)
        rcpts = f.recipients or [f.user]
        clock = 0.0
        if local_pickup:
            qid = qid or self.queue_id(t)
            lines.append(
                (t, f"postfix/pickup[{self._pids.of('pickup', 500)}]: {qid}: uid=33 from=<{f.sender}>", FORMAT)
            )
            client = ""
            pid = 0
        else:
            pid = self._pids.of(smtpd, 100)
            client = self._client(f)
            lines.append((t, f"{smtpd}[{pid}]: connect from {client}", FORMAT))
            version, cipher, bits = _TLS[rng.randrange(len(_TLS))]
            clock += rng.uniform(0.05, 0.3)
            lines.append(
                (
                    t + timedelta(seconds=clock),
                    f"{smtpd}[{pid}]: Anonymous TLS connection established from {client}: "
                    f"{version} with cipher {cipher} ({bits} bits)",
                    FORMAT,
                )
            )
            clock += rng.uniform(0.05, 0.4)
            qid = qid or self.queue_id(t + timedelta(seconds=clock))
            sasl = f", sasl_method=PLAIN, sasl_username={f.sasl_user}" if sub else ""
            lines.append((t + timedelta(seconds=clock), f"{smtpd}[{pid}]: {qid}: client={client}{sasl}", FORMAT))
        clock += rng.uniform(0.02, 0.2)
        message_id = _angle(f.message_id) if f.message_id else f"<{qid}@{self._host}.{self.org.domain}>"
        lines.append(
            (
                t + timedelta(seconds=clock),
                f"postfix/cleanup[{self._pids.of('cleanup', 100)}]: {qid}: message-id={message_id}",
                FORMAT,
            )
        )
        clock += rng.uniform(0.01, 0.1)
        queued = clock
        lines.append(
            (
                t + timedelta(seconds=clock),
                f"postfix/qmgr[{self._qmgr}]: {qid}: from=<{f.sender}>, size={f.size}, "
                f"nrcpt={len(rcpts)} (queue active)",
                FORMAT,
            )
        )
        if not local_pickup:
            commands = 6 + len(rcpts) + (1 if sub else 0)
            auth = " auth=1" if sub else ""
            lines.append(
                (
                    t + timedelta(seconds=clock + rng.uniform(0.01, 0.1)),
                    f"{smtpd}[{pid}]: disconnect from {client} ehlo=2 starttls=1{auth} mail=1 rcpt={len(rcpts)} "
                    f"data=1 quit=1 commands={commands}",
                    FORMAT,
                )
            )
        last = clock
        for rcpt in rcpts:
            done, delivery = self._delivery(t, queued, qid, rcpt, f, message_id)
            lines.extend(delivery)
            last = max(last, done)
        if f.status != "deferred":
            lines.append(
                (
                    t + timedelta(seconds=last + rng.uniform(0.001, 0.05)),
                    f"postfix/qmgr[{self._qmgr}]: {qid}: removed",
                    FORMAT,
                )
            )
        return lines, qid

    def _delivery(
        self, t: datetime, queued: float, qid: str, rcpt: str, f: MailFlow, message_id: str
    ) -> tuple[float, list[Line]]:
        rng = self._rng
        a = queued
        b = rng.uniform(0.001, 0.05)
        c = rng.uniform(0.002, 0.4)
        d = 0.02 + f.size / rng.uniform(2e6, 2e7)
        done = a + b + c + d
        dsn, status = _STATUS.get(f.status, ("2.0.0", "sent"))
        lines: list[Line] = []
        local = self._local(rcpt)
        if local:
            relay = (
                f"{self._store}[private/dovecot-lmtp]"
                if self._store == self._host
                else f"{self._store}[{self._store_ip}]:24"
            )
            session = self._dovecot_session()
            reply = f"250 2.0.0 <{rcpt}> {session[:16]} Saved" if status == "sent" else "450 4.2.0 Mailbox busy"
            agent = "lmtp"
            user = self._logins.get(rcpt.lower(), rcpt.partition("@")[0])
            lmtp_pid = self._pids.of("dovecot-lmtp", 20)
            if status == "sent":
                lines.append(
                    (
                        t + timedelta(seconds=done - d / 2),
                        f"dovecot: lmtp({user})<{lmtp_pid}><{session}>: msgid={message_id}: saved mail to INBOX",
                        "dovecot",
                    )
                )
        else:
            domain = rcpt.rpartition("@")[2].lower()
            relay = f.relay or self._gateway or f"mx.{domain}[{self._store_ip}]:25"
            reply = (
                f"250 2.0.0 Ok: queued as {self.queue_id(t + timedelta(seconds=done))}"
                if status == "sent"
                else "450 4.4.1 Connection timed out"
                if status == "deferred"
                else f"550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown"
            )
            agent = "smtp"
        pid = self._pids.of(f"postfix/{agent}", 100)
        delay = f"delay={done:.2f}, delays={a:.2f}/{b:.2f}/{c:.2f}/{d:.2f}"
        lines.append(
            (
                t + timedelta(seconds=done),
                f"postfix/{agent}[{pid}]: {qid}: to=<{rcpt}>, relay={relay}, {delay}, dsn={dsn}, "
                f"status={status} ({reply})",
                FORMAT,
            )
        )
        return done, lines

    # -- authentication ---------------------------------------------------------------

    def _auth(self, s: SignIn) -> tuple[list[Line], str]:
        """Lines of one SMTP AUTH attempt; the record id is the smtpd process (no queue id exists)."""
        rng = self._rng
        t = s.time
        ip = s.network.ip
        client = f"unknown[{ip}]"
        smtpd = "postfix/submission/smtpd"
        pid = self._pids.of(smtpd, 100)
        lines: list[Line] = [(t, f"{smtpd}[{pid}]: connect from {client}", FORMAT)]
        at = rng.uniform(0.3, 1.0)
        if s.success:
            lines.append(
                (
                    t + timedelta(seconds=at + rng.uniform(0.1, 2.0)),
                    f"{smtpd}[{pid}]: disconnect from {client} ehlo=2 starttls=1 auth=1 quit=1 commands=5",
                    FORMAT,
                )
            )
            return lines, f"{smtpd}[{pid}]"
        user = self._logins.get(s.user, s.user)
        reason = (
            "Authentication failure (Password mismatch?)"
            if s.user in self._logins
            else "User not known to the underlying authentication module"
        )
        session = self._dovecot_session()
        auth_pid = self._pids.of("auth-worker", 400)
        lines.append(
            (
                t + timedelta(seconds=at),
                f"dovecot: auth-worker({auth_pid}): pam({user},{ip},<{session}>): pam_authenticate() failed: {reason}",
                "dovecot",
            )
        )
        fail_at = at + rng.uniform(1.5, 2.5)  # the auth failure delay
        lines.append(
            (
                t + timedelta(seconds=fail_at),
                f"{smtpd}[{pid}]: warning: {client}: SASL LOGIN authentication failed: UGFzc3dvcmQ6",
                FORMAT,
            )
        )
        lines.append(
            (
                t + timedelta(seconds=fail_at + rng.uniform(0.01, 0.3)),
                f"{smtpd}[{pid}]: disconnect from {client} ehlo=1 auth=0/1 quit=1 commands=2/3",
                FORMAT,
            )
        )
        return lines, f"{smtpd}[{pid}]"


def _session_of(dovecot_line: str) -> str:
    """The Dovecot session id in one of the Dovecot lines this writer emits (``<session>``)."""
    start = dovecot_line.rfind("<", 0, dovecot_line.find(">:") if ">:" in dovecot_line else None)
    if ">)" in dovecot_line:  # auth-worker: pam(user,ip,<session>)
        start = dovecot_line.rfind("<", 0, dovecot_line.rfind(">)"))
        return dovecot_line[start + 1 : dovecot_line.rfind(">)")]
    return dovecot_line[start + 1 : dovecot_line.find(">:")]


def _angle(message_id: str) -> str:
    return message_id if message_id.startswith("<") else f"<{message_id}>"
