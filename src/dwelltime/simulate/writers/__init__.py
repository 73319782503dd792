"""Writers: simulated activities rendered in the real vendor log formats.

Each writer (``m365``, ``entra``, ``dovecot``, ``postfix``, ``zeek``) is built as
``Writer(out_dir, org)``, appends to files under ``out_dir`` as activities are written,
returns a :class:`RecordRef` for every record (ground truth lists the malicious ones) and
is byte-deterministic: the same activities in the same order give the same bytes.
Writers never import the parsers (:mod:`dwelltime.sources`): a misunderstanding of a
format shared by writer and parser would hide itself.

:func:`route` decides which formats an activity is written in; :class:`WriterSet` holds
one writer per format, creates them on first use and writes through the router.

Files (relative to the output directory):

=========  ===================================================================
m365       ``m365/audit-YYYY-MM-DD.json`` (Management Activity API records)
entra      ``entra/signins-YYYY-MM-DD.json`` (Graph sign-ins)
dovecot    ``onprem/mail.log`` (syslog, shared with Postfix as on a real host)
postfix    ``onprem/mail.log``
zeek       ``zeek/conn.log``, ``zeek/ssl.log``
=========  ===================================================================
"""

from __future__ import annotations

from pathlib import Path

from dwelltime.simulate.activity import (
    Activity,
    AdminAction,
    Connection,
    Consent,
    MailboxChange,
    MailboxRead,
    MailFlow,
    MailSend,
    SignIn,
)
from dwelltime.simulate.model import Org
from dwelltime.simulate.writers._base import RecordRef, Writer
from dwelltime.simulate.writers.dovecot import DovecotWriter
from dwelltime.simulate.writers.entra import EntraWriter
from dwelltime.simulate.writers.m365 import M365Writer
from dwelltime.simulate.writers.postfix import PostfixWriter
from dwelltime.simulate.writers.zeek import ZeekWriter

__all__ = ["FORMATS", "RecordRef", "Writer", "WriterSet", "make_writer", "route"]

#: Every format a writer exists for, in the order WriterSet writes them.
FORMATS: tuple[str, ...] = ("entra", "m365", "dovecot", "postfix", "zeek")
_ONPREM_MAILBOX = frozenset({"imap", "pop3"})
_CLOUD = ("entra", "m365")


def route(activity: Activity, org: Org) -> tuple[str, ...]:
    """The formats ``activity`` is written in.

    * Connection -> zeek; MailFlow -> postfix (on-prem and hybrid organisations; a cloud
      tenant's mail flow has no log of ours).
    * Anything done with an IMAP/POP3 client -> dovecot; with SMTP -> postfix (a SignIn
      is an AUTH on the submission port, a MailSend a submitted message).
    * SignIn with a cloud client -> entra and m365 (tenants have both the sign-in log and
      the audit log's UserLoggedIn/UserLoginFailed; the m365 writer keeps interactive
      ones only).  A SignIn without a client follows the organisation: dovecot on-prem,
      cloud otherwise.
    * MailboxRead, MailSend, MailboxChange, Consent, AdminAction by a cloud client -> m365.
    """
    if isinstance(activity, Connection):
        return ("zeek",)
    if isinstance(activity, MailFlow):
        return ("postfix",) if org.kind in ("onprem", "hybrid") else ()
    client = getattr(activity, "client", None)
    protocol = client.protocol if client is not None else ""
    if protocol in _ONPREM_MAILBOX:
        if isinstance(activity, (SignIn, MailboxRead, MailboxChange)):
            return ("dovecot",)
        return ("postfix",) if isinstance(activity, MailSend) else ()
    if protocol == "smtp":
        return ("postfix",) if isinstance(activity, (SignIn, MailSend)) else ()
    if isinstance(activity, SignIn):
        if client is None and org.kind == "onprem":
            return ("dovecot",)
        return _CLOUD
    if isinstance(activity, (MailboxRead, MailSend, MailboxChange, Consent, AdminAction)):
        return ("m365",)
    return ()


def make_writer(name: str, out_dir: Path, org: Org, seed: int = 0, timestamps: str = "iso") -> Writer:
    """One writer by format name; ``timestamps`` is the syslog style for dovecot/postfix."""
    if name == "m365":
        return M365Writer(out_dir, org, seed)
    if name == "entra":
        return EntraWriter(out_dir, org, seed)
    if name == "dovecot":
        return DovecotWriter(out_dir, org, seed, timestamps=timestamps)
    if name == "postfix":
        return PostfixWriter(out_dir, org, seed, timestamps=timestamps)
    if name == "zeek":
        return ZeekWriter(out_dir, org, seed)
    raise ValueError(f"unknown writer {name!r}; known: {', '.join(FORMATS)}")


class WriterSet:
    """All writers of one output directory, behind the router.

    Writers are created on first use so an on-prem run creates no cloud files.  Use as a
    context manager or call :meth:`close` (Zeek's ``#close`` trailers are written then).
    """

    def __init__(self, out_dir: Path, org: Org, seed: int = 0, timestamps: str = "iso") -> None:
        self.out_dir = out_dir
        self.org = org
        self.seed = seed
        self.timestamps = timestamps
        self._writers: dict[str, Writer] = {}

    def writer(self, name: str) -> Writer:
        found = self._writers.get(name)
        if found is None:
            found = make_writer(name, self.out_dir, self.org, self.seed, self.timestamps)
            self._writers[name] = found
        return found

    def write(self, activity: Activity) -> list[RecordRef]:
        refs: list[RecordRef] = []
        for name in route(activity, self.org):
            refs.extend(self.writer(name).write(activity))
        return refs

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()

    def __enter__(self) -> WriterSet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
