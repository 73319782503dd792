"""Postfix syslog lines -> normalized events, one mail_flow event per queued message.

Postfix writes one message's life across many lines from several daemons (smtpd,
cleanup, qmgr, smtp/lmtp/local/..., bounce), linked only by the queue id.  An
analyst wants one row per message ("who sent what to whom, from where, did it
arrive"), so queue lines are *reassembled*: they are folded into an open message
and the message becomes one event when qmgr logs ``removed`` (or when it has been
idle for a day of log time, or at end of file).  Lines that stand on their own
(connections, SASL failures, NOQUEUE rejects, postscreen verdicts) become events
immediately.

Syslog headers are split elsewhere (:mod:`dwelltime.sources.syslog`); this module
reads the header-split Table that parser hands over, with the columns
``source_line, raw, time, observer, program, pid, message``.

Every pattern is anchored and built from bounded or negated character classes,
so a hostile line (a megabyte of ``[`` or ``<``) costs linear time.
"""

from __future__ import annotations

import ipaddress
import re
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from dwelltime.schema import Action, EventClass, Outcome
from dwelltime.sources import syslog
from dwelltime.sources.base import Chunk, EventRows, ParseContext, Rejected, Source, uid_of

SOURCE_ID = "postfix"
#: uid namespace: the source family.
NAMESPACE = "postfix"

#: A message idle this long (in log time) is flushed as it stands: its queue id may
#: never see ``removed`` (log rotated, server crashed, message still deferred).
IDLE_FLUSH = timedelta(hours=24)
#: Open messages kept at most; beyond this the least recently active is flushed.
MAX_OPEN = 100_000
#: Lines of one message kept in ``raw`` at most (a message deferred for days logs many).
MAX_MESSAGE_LINES = 500

# --------------------------------------------------------------------------- patterns

#: Short queue ids are upper-case hex; long ones (enable_long_queue_ids) use a
#: vowel-free alphabet, which is what keeps them apart from words like "warning".
_QID = r"[0-9A-F]{5,}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,}"
_QUEUE_PREFIX = re.compile(rf"(?P<qid>{_QID}|NOQUEUE): (?P<rest>.*)", re.S)
_LEVEL = re.compile(r"(?P<level>warning|error|fatal|panic|info): (?P<rest>.*)", re.S)
#: host[address] with an optional :port; neither part may contain brackets or spaces.
_PEER = r"(?P<host>[^\s\[\]]*)\[(?P<ip>[^\s\[\]]*)\](?::(?P<port>\d{1,5}))?"
_BARE_PEER = r"\[(?P<ip>[^\s\[\]]*)\]:(?P<port>\d{1,5})"

_CONNECT = re.compile(rf"connect from {_PEER}(?P<tail>.*)", re.S)
_DISCONNECT = re.compile(rf"disconnect from {_PEER}(?: (?P<counters>.*))?", re.S)
_LOST = re.compile(
    rf"(?P<what>lost connection|timeout|too many errors|bare <LF> received) after (?P<stage>[^\s(]+)"
    rf"(?: \((?P<bytes>\d+) bytes\))? from {_PEER}:?(?P<tail>.*)",
    re.S,
)
_PIPELINING = re.compile(rf"improper command pipelining after (?P<stage>\S+) from {_PEER}:? ?(?P<tail>.*)", re.S)
_SSL_ERROR = re.compile(rf"SSL_accept error from {_PEER}: ?(?P<tail>.*)", re.S)
_TLS = re.compile(
    rf"(?P<trust>\w+) TLS connection established (?:from|to) {_PEER}: (?P<version>\S+) with cipher "
    r"(?P<cipher>\S+) \((?P<bits>\d+/\d+) bits\)(?P<tail>.*)",
    re.S,
)
_TLS_EXTRA = re.compile(r" (?P<key>[\w-]+) (?P<value>[^\s(]+)(?: \((?P<note>[^)]*)\))?")
_SASL_FAIL = re.compile(rf"{_PEER}: SASL (?P<mech>[\w-]+) authentication failed:? ?(?P<reason>.*)", re.S)
_NOT_RESOLVE = re.compile(r"hostname (?P<host>\S+) does not resolve to address (?P<ip>[0-9A-Fa-f:.]+)")
_RATE_LIMIT = re.compile(rf"(?P<what>[\w ]+ limit exceeded): (?P<count>\d+) from {_PEER} for service (?P<svc>\S+)")
_REJECT = re.compile(
    rf"(?P<act>reject|reject_warning|milter-reject|discard|milter-discard|filter|hold|milter-hold|redirect|"
    rf"header-redirect|milter-header-redirect|warn|info|bcc|prepend|replace|milter-reject-header): "
    rf"(?P<stage>[\w.-]+) from {_PEER}: ?(?P<rest>.*)",
    re.S,
)
_REPLY = re.compile(r"(?P<code>[245]\d\d)(?:[ -](?P<enh>[245]\.\d{1,3}\.\d{1,3}))?(?: |$)")
_REPLY_DATA = re.compile(r"<(?P<data>[^>]*)>: |: ")
#: A DNS blocklist hit names what was listed in brackets: "Client host [192.0.2.1] blocked using zen...".
_BLOCKED = re.compile(r"\[(?P<data>[^\[\]\s]*)\] blocked using (?P<list>[^\s;]+)")
#: The envelope summary smtpd appends to rejects (postscreen separates with commas).
_KV_TAIL = re.compile(
    r"(?:from=<(?P<from>[^>]*)>,? ?)?(?:to=<(?P<to>[^>]*)>,? ?)?(?:proto=(?P<proto>[^\s,]*),? ?)?"
    r"(?:helo=(?P<helo>.*))?",
    re.S,
)
_COUNTER = re.compile(r"(?P<cmd>[\w-]+)=(?P<ok>\d+)(?:/(?P<all>\d+))?")

_PS_CONNECT = re.compile(rf"CONNECT from {_BARE_PEER}(?: to \[(?P<dip>[^\s\[\]]*)\]:(?P<dport>\d{{1,5}}))?")
_PS_DISCONNECT = re.compile(rf"DISCONNECT {_BARE_PEER}")
_PS_ACCESS = re.compile(
    rf"(?P<verdict>PASS NEW|PASS OLD|WHITELISTED|BLACKLISTED|ALLOWLISTED|DENYLISTED|WHITELIST VETO|"
    rf"ALLOWLIST VETO) {_BARE_PEER}"
)
_PS_DNSBL = re.compile(rf"DNSBL rank (?P<rank>-?\d+) for {_BARE_PEER}")
_PS_PREGREET = re.compile(rf"PREGREET (?P<count>\d+) after (?P<after>[\d.]+) from {_BARE_PEER}:? ?(?P<tail>.*)", re.S)
_PS_HANGUP = re.compile(rf"HANGUP after (?P<after>[\d.]+) from {_BARE_PEER} ?(?P<tail>.*)", re.S)
_PS_VIOLATION = re.compile(
    rf"(?P<what>COMMAND TIME LIMIT|COMMAND COUNT LIMIT|COMMAND LENGTH LIMIT|COMMAND PIPELINING|NON-SMTP COMMAND|"
    rf"BARE NEWLINE) from {_BARE_PEER} after (?P<stage>[^\s:]+):? ?(?P<tail>.*)",
    re.S,
)

_ANVIL = re.compile(
    r"statistics: max (?P<what>connection count|connection rate|message rate|recipient rate|newtls rate|"
    r"auth rate|newtls request rate|cache size) (?P<value>\d+)(?:/(?P<period>\w+))?"
    r"(?: for \((?P<key>[^()]*)\))? at (?P<at>.+)"
)
_DNSBLOG = re.compile(r"addr (?P<ip>\S+) listed by domain (?P<domain>\S+) as (?P<result>\S+)")
_MASTER = re.compile(r"(?P<what>daemon started|reload) -- version (?P<version>[^,]+), configuration (?P<conf>\S+)")
_SMTP_CONNECT = re.compile(rf"connect to {_PEER}: (?P<why>.*)", re.S)
_SMTP_SSL = re.compile(rf"SSL_connect error to {_PEER}: (?P<why>.*)", re.S)
_SMTP_CERT = re.compile(rf"certificate verification failed for {_PEER}: (?P<why>.*)", re.S)

# Queue-id lines (the text after "QID: ").
_Q_CLIENT = re.compile(rf"client={_PEER}(?P<kv>(?:, .*)?)", re.S)
_Q_MSGID = re.compile(r"(?P<resent>resent-)?message-id=(?P<id>.*)", re.S)
_Q_ACTIVE = re.compile(r"from=<(?P<from>.*)>, size=(?P<size>\d+), nrcpt=(?P<nrcpt>\d+)(?: \(queue active\))?", re.S)
_Q_EXPIRED = re.compile(r"from=<(?P<from>.*)>, status=(?P<status>expired), returned to sender", re.S)
_Q_DELIVERY = re.compile(r"(?P<kv>to=.*?), status=(?P<status>[\w-]+)(?: \((?P<resp>.*)\))?", re.S)
_Q_KV = re.compile(r"(?:^|(?<=, ))(?P<key>[\w-]+)=(?P<value><[^>]*>|[^,]*)(?:, |,?$)")
_Q_NOTIFY = re.compile(
    rf"(?P<who>sender|postmaster) (?P<kind>non-delivery|delivery status|delay|success) notification: (?P<qid>{_QID})"
)
_Q_PICKUP = re.compile(r"uid=(?P<uid>\d+) from=<(?P<from>.*)>", re.S)
_Q_POSTSUPER = re.compile(r"(?P<what>removed|requeued|placed on hold|released from hold|expired)")
_Q_SAID = re.compile(rf"host {_PEER} said: (?P<resp>.*)", re.S)
_Q_REFUSED = re.compile(rf"host {_PEER} refused to talk to me: (?P<resp>.*)", re.S)
_Q_LOST = re.compile(rf"lost connection with {_PEER} while (?P<stage>.*)", re.S)
_Q_TIMEOUT = re.compile(rf"conversation with {_PEER} timed out while (?P<stage>.*)", re.S)
_Q_SASL = re.compile(rf"SASL authentication failed; server {_PEER} said: (?P<resp>.*)", re.S)
_Q_PIX = re.compile(rf"enabling PIX workarounds: (?P<what>.*) for {_PEER}", re.S)
#: header_checks / body_checks actions; WARN and INFO arrive with the level already split off.
_Q_HEADER = re.compile(r"(?:(?P<act>[\w-]+): )?(?P<part>header|body) (?P<text>.*)", re.S)
_RELAY = re.compile(r"(?P<host>[^\s\[\]]*)\[(?P<addr>[^\s\[\]]*)\](?::(?P<port>\d{1,5}))?")
#: Any host[address] starting a word (the look-behind keeps the scan linear on hostile lines).
_ANY_PEER = re.compile(r"(?:^|(?<=[\s(]))(?P<host>[^\s\[\]]*)\[(?P<ip>[^\s\[\]]*)\](?::(?P<port>\d{1,5}))?")

_FINAL_OK = frozenset({"sent", "delivered", "forwarded"})
_FINAL_FAIL = frozenset({"bounced", "expired", "rejected", "undeliverable", "undeliverable-but-not-cached"})

# --------------------------------------------------------------------------- helpers


def canonical_ip(text: str | None) -> str | None:
    """Canonical address text, or None when ``text`` is not an IP address."""
    if not text:
        return None
    value = text.strip()
    if value[:5].lower() == "ipv6:":
        value = value[5:]
    try:
        addr = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return str(addr.ipv4_mapped)
    return str(addr)


def _port(text: str | None) -> int | None:
    if text is None:
        return None
    value = int(text)
    return value if value <= 65535 else None


def _addr(text: str | None) -> str | None:
    """An envelope address as we store it: lower-case, brackets removed; None if absent."""
    if text is None:
        return None
    value = text.strip()
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1]
    return value.lower()


def split_reply(text: str) -> dict[str, str | None]:
    """Split ``550 5.1.1 <x>: Recipient address rejected: ...; from=<a> to=<b> proto=P helo=<h>``.

    The envelope summary is located by the first ``; from=<`` / ``; to=<`` /
    ``; proto=`` after the reply; attacker-chosen addresses quoted in the reply can
    in principle mislead this, which only shifts text between two fields.
    """
    out: dict[str, str | None] = {}
    cut = -1
    for marker in ("; from=<", "; to=<", "; proto="):
        pos = text.find(marker)
        if pos >= 0 and (cut < 0 or pos < cut):
            cut = pos
    reply, tail = (text[:cut], text[cut + 2 :]) if cut >= 0 else (text, "")
    m = _REPLY.match(reply)
    if m:
        out["code"] = m.group("code")
        out["enhanced"] = m.group("enh")
        reply = reply[m.end() :]
    d = _REPLY_DATA.match(reply)
    if d and (m or d.group("data") is not None):  # a bare ": " only follows a status code
        out["data"] = d.group("data")
        reply = reply[d.end() :]
    blocked = _BLOCKED.search(reply)
    if blocked:
        out["dnsbl"] = blocked.group("list")
        out.setdefault("data", blocked.group("data"))
    out["message"] = reply.strip()
    if tail:
        kv = _KV_TAIL.match(tail.rstrip())
        if kv:
            out.update({k: kv.group(k) for k in ("from", "to", "proto", "helo")})
            helo = out.get("helo")
            if helo is not None and helo.startswith("<") and helo.endswith(">"):
                out["helo"] = helo[1:-1]
    return out


def parse_counters(text: str) -> dict[str, str]:
    """``ehlo=1 auth=0/1 quit=1 commands=2/3`` -> params (``cmd_auth=1``, ``cmd_auth_accepted=0`` ...)."""
    out: dict[str, str] = {}
    for token in text.split():
        m = _COUNTER.fullmatch(token)
        if m is None:
            continue
        cmd, ok, total = m.group("cmd"), m.group("ok"), m.group("all")
        name = "count" if cmd == "commands" else cmd
        if total is None:
            out[f"cmd_{name}"] = ok
        else:
            out[f"cmd_{name}"] = total
            out[f"cmd_{name}_accepted"] = ok
    return out


def _split_in_reply(text: str) -> tuple[str, str | None]:
    """``450 4.7.1 ... (in reply to RCPT TO command)`` -> (reply, "RCPT TO"); string ops, no backtracking."""
    marker = " (in reply to "
    if text.endswith(" command)"):
        cut = text.rfind(marker)
        if cut >= 0:
            return text[:cut], text[cut + len(marker) : -len(" command)")]
    return text, None


def _split_anvil_key(key: str) -> tuple[str | None, str | None]:
    """``smtpd:2001:db8::1`` / ``127.0.0.1:2525:192.0.2.1`` -> (service, client).

    Both halves may contain colons, so the split is the first one that leaves an
    address (or Postfix's ``unknown``) on the right.
    """
    if not key:
        return None, None
    pos = key.find(":")
    while pos >= 0:
        rest = key[pos + 1 :]
        if rest == "unknown" or canonical_ip(rest):
            return key[:pos], rest
        pos = key.find(":", pos + 1)
    return key, None


def parse_relay(text: str) -> dict[str, Any]:
    """``host[addr]:port`` / ``host[private/service]`` / ``none`` / ``local`` -> parts."""
    m = _RELAY.fullmatch(text)
    if not m:
        return {"host": text or None}
    addr = m.group("addr")
    ip = canonical_ip(addr)
    return {
        "host": m.group("host") or None,
        "ip": ip,
        "port": _port(m.group("port")),
        "service": None if ip else (addr or None),
    }


def parse_kv(text: str) -> dict[str, str]:
    """The ``key=value, key=value`` run of a delivery line (values may be ``<...>``)."""
    return {m.group("key"): m.group("value") for m in _Q_KV.finditer(text)}


# --------------------------------------------------------------------------- message state


@dataclass
class _Delivery:
    to: str
    status: str
    orig_to: str | None = None
    relay: str | None = None
    dsn: str | None = None
    delay: str | None = None
    delays: str | None = None
    tls: str | None = None
    response: str | None = None
    daemon: str | None = None

    def as_json(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class _Message:
    qid: str
    time: datetime | None
    line: int
    observer: str | None
    first_program: str
    last_seen: datetime | None
    raw: list[str] = field(default_factory=list)
    dropped_lines: int = 0
    client_host: str | None = None
    client_ip: str | None = None
    client_ip_raw: str | None = None
    client_port: int | None = None
    user: str | None = None
    sasl_method: str | None = None
    service: str | None = None
    message_id: str | None = None
    sender: str | None = None
    size: int | None = None
    nrcpt: str | None = None
    uid: str | None = None
    deliveries: dict[str, _Delivery] = field(default_factory=dict)
    attempts: int = 0
    relays: list[str] = field(default_factory=list)
    notes: list[dict[str, str]] = field(default_factory=list)
    notifications: list[str] = field(default_factory=list)
    expired: bool = False
    subject: str | None = None

    def add_raw(self, raw: str) -> None:
        if len(self.raw) < MAX_MESSAGE_LINES:
            self.raw.append(raw)
        else:
            self.dropped_lines += 1

    def add_relay(self, relay: str | None) -> None:
        if relay and relay != "none" and relay not in self.relays and len(self.relays) < 50:
            self.relays.append(relay)

    def add_note(self, note: dict[str, str | None]) -> None:
        if len(self.notes) < 50:
            self.notes.append({k: v for k, v in note.items() if v is not None})


@dataclass
class _Line:
    """One input row, with the parts every handler needs."""

    number: int
    raw: str
    time: datetime | None
    observer: str | None
    program: str
    pid: str | None
    daemon: str
    service: str | None
    level: str | None = None


# --------------------------------------------------------------------------- normalizer


class PostfixNormalizer:
    """Turns header-split Postfix syslog rows into events, carrying open messages across chunks.

    Use one instance per file: ``normalize`` each Table of rows in file order, then
    ``finish`` once to flush the messages still open.
    """

    def __init__(self, ctx: ParseContext, *, max_open: int = MAX_OPEN, idle: timedelta = IDLE_FLUSH) -> None:
        self.ctx = ctx
        self.max_open = max_open
        self.idle = idle
        self._rows = EventRows(SOURCE_ID, ctx.source_file)
        self._open: OrderedDict[str, _Message] = OrderedDict()
        self._now: datetime | None = None
        self._handlers: dict[str, Callable[[_Line, str], bool]] = {
            "smtpd": self._smtpd,
            "postscreen": self._postscreen,
            "tlsproxy": self._postscreen,
            "smtp": self._smtp,
            "lmtp": self._smtp,
            "anvil": self._anvil,
            "dnsblog": self._dnsblog,
            "master": self._master,
        }

    @property
    def open_messages(self) -> int:
        return len(self._open)

    # ---------------------------------------------------------------- public API

    def normalize(self, rows: pa.Table) -> tuple[pa.Table, list[Rejected], int]:
        """Events for ``rows`` (plus messages completed by them), rejected rows, rows consumed."""
        rejected: list[Rejected] = []
        consumed = 0
        cols = {
            name: rows.column(name).to_pylist()
            for name in ("source_line", "raw", "time", "observer", "program", "pid", "message")
        }
        for i in range(rows.num_rows):
            number, raw, message = cols["source_line"][i], cols["raw"][i], cols["message"][i]
            program = cols["program"][i]
            if message is None or not program:
                rejected.append(Rejected(number, "postfix line without program or message", raw or ""))
                continue
            parts = program.split("/")
            line = _Line(
                number=number,
                raw=raw,
                time=cols["time"][i],
                observer=cols["observer"][i],
                program=program,
                pid=cols["pid"][i],
                daemon=parts[-1],
                service=parts[1] if len(parts) > 2 else None,
            )
            self._line(line, message)
            consumed += 1
        self._expire()
        chunk = self._rows.take()
        return chunk.events, rejected, consumed

    def finish(self) -> pa.Table:
        """Events for every message still open (no ``removed`` seen before end of file)."""
        while self._open:
            _, msg = self._open.popitem(last=False)
            self._emit_message(msg, "end of file")
        return self._rows.take().events

    # ---------------------------------------------------------------- dispatch

    def _line(self, line: _Line, message: str) -> None:
        if line.time is not None and (self._now is None or line.time > self._now):
            self._now = line.time
        text = message
        lv = _LEVEL.match(text)
        if lv:
            line.level = lv.group("level")
            text = lv.group("rest")
        q = _QUEUE_PREFIX.match(text)
        if q and q.group("qid") != "NOQUEUE":
            rest = q.group("rest")
            lv = _LEVEL.match(rest)
            if lv:
                line.level = lv.group("level")
                rest = lv.group("rest")
            self._queue_line(line, q.group("qid"), rest)
            return
        if q:  # NOQUEUE: a rejected or filtered transaction that never got a queue file
            text = q.group("rest")
        handler = self._handlers.get(line.daemon)
        if handler is not None and handler(line, text):
            return
        if self._common(line, text):
            return
        self._other(line, text)

    def _emit(
        self,
        line: _Line,
        *,
        event_class: str,
        action: str,
        outcome: str,
        operation: str,
        params: dict[str, Any] | None = None,
        **values: Any,
    ) -> None:
        p: dict[str, Any] = {"program": line.program, "pid": line.pid}
        if line.service:
            p["service"] = line.service
        if line.level:
            p["level"] = line.level
        if params:
            p.update(params)
        self._rows.add(
            line.number,
            line.raw,
            event_uid=uid_of(NAMESPACE, f"{line.raw}\x1f{line.number}"),
            time=line.time,
            observer=line.observer,
            event_class=str(event_class),
            action=str(action),
            outcome=str(outcome),
            operation=operation,
            params=p,
            **values,
        )

    def _client_values(self, m: re.Match[str], params: dict[str, Any]) -> dict[str, Any]:
        """src_ip / src_port from a matched peer; the host name and odd addresses go to params."""
        ip_text = m.group("ip")
        ip = canonical_ip(ip_text)
        if ip is None and ip_text:
            params["src_ip_raw"] = ip_text
        host = m.groupdict().get("host")
        if host:
            params["client_host"] = host
        return {"src_ip": ip, "src_port": _port(m.group("port"))}

    def _other(self, line: _Line, text: str, **extra: Any) -> None:
        """A line we keep but do not normalize: class other, action = daemon name."""
        params: dict[str, Any] = {}
        values: dict[str, Any] = {}
        for m in _ANY_PEER.finditer(text):
            if canonical_ip(m.group("ip")):
                values = self._client_values(m, params)
                break
        detail = text if line.level else None
        values.update(extra)
        self._emit(
            line,
            event_class=EventClass.OTHER,
            action=line.daemon,
            outcome=Outcome.UNKNOWN,
            operation=line.daemon,
            params=params,
            status_detail=detail,
            **values,
        )

    # ---------------------------------------------------------------- per-daemon handlers

    def _reject(self, line: _Line, m: re.Match[str], qid: str | None) -> None:
        act = m.group("act")
        params: dict[str, Any] = {"queue_id": qid or "NOQUEUE", "smtp_stage": m.group("stage")}
        values = self._client_values(m, params)
        reply = split_reply(m.group("rest"))
        code = " ".join(x for x in (reply.get("code"), reply.get("enhanced")) if x) or None
        if reply.get("data") is not None:
            params["reply_target"] = reply["data"]
        if reply.get("dnsbl"):
            params["dnsbl_domain"] = reply["dnsbl"]
        params["reject_action"] = act
        if reply.get("proto"):
            params["proto"] = reply["proto"]
        if reply.get("helo") is not None:
            params["helo"] = reply["helo"]
        rcpt = _addr(reply.get("to"))
        if act in ("reject", "milter-reject"):
            action, outcome = Action.REJECT.value, Outcome.FAILURE.value
        elif act == "reject_warning":
            action, outcome = Action.REJECT.value, Outcome.UNKNOWN.value
        else:
            action, outcome = act.removeprefix("milter-"), Outcome.SUCCESS.value
        self._emit(
            line,
            event_class=EventClass.MAIL_FLOW,
            action=action,
            outcome=outcome,
            operation=act,
            params=params,
            sender=_addr(reply.get("from")),
            recipients=[rcpt] if rcpt else None,
            error_code=code,
            status_detail=reply.get("message") or None,
            protocol="smtp",
            **values,
        )

    def _smtpd(self, line: _Line, text: str) -> bool:
        m = _REJECT.match(text)
        if m:
            self._reject(line, m, None)
            return True
        if m := _CONNECT.match(text):
            params: dict[str, Any] = {}
            values = self._client_values(m, params)
            self._emit(
                line,
                event_class=EventClass.NETWORK,
                action=Action.CONNECT,
                outcome=Outcome.SUCCESS,
                operation="connect",
                params=params,
                protocol="smtp",
                **values,
            )
            return True
        if m := _DISCONNECT.match(text):
            params = parse_counters(m.group("counters") or "")
            values = self._client_values(m, params)
            auth_total = int(params.get("cmd_auth", 0))
            auth_ok = int(params.get("cmd_auth_accepted", auth_total))
            if auth_total > auth_ok:
                params["auth_failures"] = str(auth_total - auth_ok)
            self._emit(
                line,
                event_class=EventClass.NETWORK,
                action=Action.CONNECT,
                outcome=Outcome.SUCCESS,
                operation="disconnect",
                params=params,
                protocol="smtp",
                **values,
            )
            return True
        if line.level == "warning" and (m := _SASL_FAIL.match(text)):
            self._sasl_failure(line, m)
            return True
        for pattern, action in ((_LOST, None), (_PIPELINING, "violation"), (_SSL_ERROR, None)):
            if m := pattern.match(text):
                groups = m.groupdict()
                what = groups.get("what") or (
                    "SSL_accept error" if pattern is _SSL_ERROR else "improper command pipelining"
                )
                params = {"smtp_stage": groups.get("stage"), "bytes": groups.get("bytes")}
                if action is None:
                    action = "violation" if what in ("too many errors", "bare <LF> received") else Action.CONNECT
                tail = (groups.get("tail") or "").strip()
                values = self._client_values(m, params)
                self._emit(
                    line,
                    event_class=EventClass.NETWORK,
                    action=action,
                    outcome=Outcome.FAILURE,
                    operation=what,
                    params=params,
                    protocol="smtp",
                    status_detail=tail or None,
                    **values,
                )
                return True
        if m := _TLS.match(text):
            self._tls(line, m, client=True)
            return True
        if m := _RATE_LIMIT.match(text):
            params = {"limit": m.group("what"), "count": m.group("count"), "limit_service": m.group("svc")}
            values = self._client_values(m, params)
            self._emit(
                line,
                event_class=EventClass.NETWORK,
                action=Action.REJECT,
                outcome=Outcome.FAILURE,
                operation=m.group("what"),
                params=params,
                protocol="smtp",
                status_detail=text,
                **values,
            )
            return True
        if m := _NOT_RESOLVE.match(text):
            params = {"client_host": m.group("host")}
            # The address may be followed by ": reason"; IPv6 text can end in "::", so try both.
            ip = canonical_ip(m.group("ip")) or canonical_ip(m.group("ip").rstrip(":"))
            if ip is None:
                params["src_ip_raw"] = m.group("ip")
            self._emit(
                line,
                event_class=EventClass.NETWORK,
                action=Action.CONNECT,
                outcome=Outcome.UNKNOWN,
                operation="hostname does not resolve",
                params=params,
                src_ip=ip,
                status_detail=text,
            )
            return True
        return False

    def _sasl_failure(self, line: _Line, m: re.Match[str]) -> None:
        params: dict[str, Any] = {}
        values = self._client_values(m, params)
        reason = m.group("reason")
        user = None
        # Postfix >= 3.? appends ", sasl_username=NAME"; split it off without a regex.
        cut = reason.rfind(", sasl_username=")
        if cut >= 0:
            user = reason[cut + len(", sasl_username=") :].strip().lower() or None
            reason = reason[:cut]
        mech = m.group("mech").upper()
        detail = f"SASL {m.group('mech')} authentication failed" + (f": {reason}" if reason else "")
        params["reason"] = reason or None
        self._emit(
            line,
            event_class=EventClass.AUTH,
            action=Action.LOGIN,
            outcome=Outcome.FAILURE,
            operation="SASL authentication failed",
            params=params,
            user=user,
            auth_method=mech,
            protocol="smtp",
            status_detail=detail,
            **values,
        )

    def _tls(self, line: _Line, m: re.Match[str], *, client: bool) -> None:
        params: dict[str, Any] = {
            "tls_trustlevel": m.group("trust"),
            "tls_version": m.group("version"),
            "tls_cipher": m.group("cipher"),
            "tls_cipher_size": m.group("bits"),
        }
        for extra in _TLS_EXTRA.finditer(m.group("tail")):
            key = "tls_" + extra.group("key").replace("-", "_")
            params[key] = extra.group("value")
            note = extra.group("note")
            if note:
                if note.endswith(" bits"):
                    params[key + "_size"] = note[: -len(" bits")]
                else:
                    params[key + "_curve"] = note
        if client:
            values = self._client_values(m, params)
        else:
            values = {
                "dst_host": m.group("host") or None,
                "dst_ip": canonical_ip(m.group("ip")),
                "dst_port": _port(m.group("port")),
            }
        self._emit(
            line,
            event_class=EventClass.NETWORK,
            action=Action.TLS,
            outcome=Outcome.SUCCESS,
            operation="TLS connection established",
            params=params,
            protocol="smtp",
            **values,
        )

    def _postscreen(self, line: _Line, text: str) -> bool:
        if m := _REJECT.match(text):
            self._reject(line, m, None)
            return True
        values: dict[str, Any]
        params: dict[str, Any] = {}
        if m := _PS_CONNECT.match(text):
            values = self._client_values(m, params)
            values.update(dst_ip=canonical_ip(m.group("dip")), dst_port=_port(m.group("dport")))
            self._emit(
                line,
                event_class=EventClass.NETWORK,
                action=Action.CONNECT,
                outcome=Outcome.SUCCESS,
                operation="CONNECT",
                params=params,
                protocol="smtp",
                **values,
            )
            return True
        if m := _PS_DISCONNECT.match(text):
            values = self._client_values(m, params)
            self._emit(
                line,
                event_class=EventClass.NETWORK,
                action=Action.CONNECT,
                outcome=Outcome.SUCCESS,
                operation="DISCONNECT",
                params=params,
                protocol="smtp",
                **values,
            )
            return True
        if m := _PS_ACCESS.match(text):
            verdict = m.group("verdict")
            bad = verdict in ("BLACKLISTED", "DENYLISTED")
            values = self._client_values(m, params)
            params["postscreen_access"] = verdict
            self._emit(
                line,
                event_class=EventClass.NETWORK,
                action=Action.REJECT if bad else Action.CONNECT,
                outcome=Outcome.FAILURE if bad else Outcome.SUCCESS,
                operation=verdict,
                params=params,
                protocol="smtp",
                **values,
            )
            return True
        for pattern in (_PS_DNSBL, _PS_PREGREET, _PS_HANGUP, _PS_VIOLATION):
            if m := pattern.match(text):
                groups = m.groupdict()
                what = groups.get("what") or text.split(" ", 1)[0]
                values = self._client_values(m, params)
                params.update(
                    postscreen_violation=what,
                    smtp_stage=groups.get("stage"),
                    dnsbl_rank=groups.get("rank"),
                    after=groups.get("after"),
                    count=groups.get("count"),
                )
                tail = (groups.get("tail") or "").strip()
                self._emit(
                    line,
                    event_class=EventClass.NETWORK,
                    action="violation",
                    outcome=Outcome.FAILURE,
                    operation=what,
                    params=params,
                    protocol="smtp",
                    status_detail=tail or None,
                    **values,
                )
                return True
        return False

    def _smtp(self, line: _Line, text: str) -> bool:
        if m := _TLS.match(text):
            self._tls(line, m, client=False)
            return True
        for pattern, what in (
            (_SMTP_CONNECT, "connect to"),
            (_SMTP_SSL, "SSL_connect error"),
            (_SMTP_CERT, "certificate verification failed"),
        ):
            if m := pattern.match(text):
                self._emit(
                    line,
                    event_class=EventClass.NETWORK,
                    action=Action.CONNECT,
                    outcome=Outcome.FAILURE,
                    operation=what,
                    protocol="smtp",
                    status_detail=m.group("why"),
                    dst_host=m.group("host") or None,
                    dst_ip=canonical_ip(m.group("ip")),
                    dst_port=_port(m.group("port")),
                )
                return True
        return False

    def _anvil(self, line: _Line, text: str) -> bool:
        m = _ANVIL.match(text)
        if not m:
            return False
        service, client = _split_anvil_key(m.group("key") or "")
        params: dict[str, Any] = {
            "statistic": m.group("what"),
            "value": m.group("value"),
            "period": m.group("period"),
            "service_name": service,
            "at": m.group("at"),
        }
        ip = canonical_ip(client)
        if client and ip is None:
            params["src_ip_raw"] = client
        self._emit(
            line,
            event_class=EventClass.OTHER,
            action="anvil",
            outcome=Outcome.UNKNOWN,
            operation="statistics",
            params=params,
            src_ip=ip,
        )
        return True

    def _dnsblog(self, line: _Line, text: str) -> bool:
        m = _DNSBLOG.match(text)
        if not m:
            return False
        self._emit(
            line,
            event_class=EventClass.OTHER,
            action="dnsblog",
            outcome=Outcome.UNKNOWN,
            operation="listed",
            params={"dnsbl_domain": m.group("domain"), "dnsbl_result": m.group("result")},
            src_ip=canonical_ip(m.group("ip")),
        )
        return True

    def _master(self, line: _Line, text: str) -> bool:
        m = _MASTER.match(text)
        if not m:
            return False
        self._emit(
            line,
            event_class=EventClass.OTHER,
            action="master",
            outcome=Outcome.UNKNOWN,
            operation=m.group("what"),
            params={"version": m.group("version"), "config_path": m.group("conf")},
        )
        return True

    def _common(self, line: _Line, text: str) -> bool:
        """Lines several daemons write: SASL failures under other names, rejects (postscreen, proxies)."""
        if line.level == "warning" and (m := _SASL_FAIL.match(text)):
            self._sasl_failure(line, m)
            return True
        if m := _REJECT.match(text):
            self._reject(line, m, None)
            return True
        return False

    # ---------------------------------------------------------------- queue lines

    def _message(self, line: _Line, qid: str) -> _Message:
        msg = self._open.get(qid)
        if msg is None:
            if len(self._open) >= self.max_open:
                _, oldest = self._open.popitem(last=False)
                self._emit_message(oldest, "too many open messages")
            msg = _Message(
                qid=qid,
                time=line.time,
                line=line.number,
                observer=line.observer,
                first_program=line.program,
                last_seen=line.time,
            )
            self._open[qid] = msg
        else:
            self._open.move_to_end(qid)
            if line.time is not None:
                msg.last_seen = line.time
        msg.add_raw(line.raw)
        return msg

    def _queue_line(self, line: _Line, qid: str, rest: str) -> None:
        msg = self._message(line, qid)
        if m := _Q_DELIVERY.match(rest):
            kv = parse_kv(m.group("kv"))
            to = _addr(kv.get("to")) or ""
            relay = kv.get("relay")
            msg.attempts += 1
            msg.add_relay(relay)
            if to in msg.deliveries or len(msg.deliveries) < 1000:
                msg.deliveries[to] = _Delivery(
                    to=to,
                    status=m.group("status"),
                    orig_to=_addr(kv.get("orig_to")),
                    relay=relay,
                    dsn=kv.get("dsn"),
                    delay=kv.get("delay"),
                    delays=kv.get("delays"),
                    tls=kv.get("tls"),
                    response=m.group("resp"),
                    daemon=line.daemon,
                )
        elif m := _Q_ACTIVE.match(rest):
            msg.sender = _addr(m.group("from"))
            msg.size = int(m.group("size"))
            msg.nrcpt = m.group("nrcpt")
        elif m := _Q_CLIENT.match(rest):
            self._queue_client(line, msg, m)
        elif m := _Q_MSGID.match(rest):
            if not m.group("resent"):
                msg.message_id = m.group("id").strip()
        elif _Q_POSTSUPER.fullmatch(rest):
            if rest == "removed":
                self._open.pop(qid, None)
                self._emit_message(msg, "removed")
            else:
                msg.add_note({"event": rest, "daemon": line.daemon})
        elif m := _Q_EXPIRED.match(rest):
            msg.sender = _addr(m.group("from"))
            msg.expired = True
        elif m := _REJECT.match(rest):
            self._reject(line, m, qid)
            reply = split_reply(m.group("rest"))
            rcpt = _addr(reply.get("to"))
            act = m.group("act")
            if act.endswith("reject"):
                if rcpt:
                    msg.deliveries[rcpt] = _Delivery(
                        to=rcpt,
                        status="rejected",
                        response=reply.get("message"),
                        dsn=reply.get("enhanced"),
                        daemon=line.daemon,
                    )
                else:
                    msg.add_note({"event": act, "stage": m.group("stage"), "response": reply.get("message")})
                    msg.expired = True  # whole message refused: treat every recipient as failed
            if msg.sender is None and reply.get("from") is not None:
                msg.sender = _addr(reply.get("from"))
            if msg.client_ip is None:
                msg.client_ip = canonical_ip(m.group("ip"))
        elif m := _Q_NOTIFY.match(rest):
            msg.notifications.append(f"{m.group('who')} {m.group('kind')}: {m.group('qid')}")
        elif m := _Q_PICKUP.match(rest):
            msg.uid = m.group("uid")
            msg.sender = _addr(m.group("from"))
        elif m := _Q_SAID.match(rest) or _Q_REFUSED.match(rest) or _Q_SASL.match(rest):
            relay = f"{m.group('host')}[{m.group('ip')}]"
            msg.add_relay(relay)
            response, stage = _split_in_reply(m.group("resp"))
            msg.add_note({"event": "reply", "relay": relay, "response": response, "stage": stage})
        elif m := _Q_LOST.match(rest) or _Q_TIMEOUT.match(rest):
            relay = f"{m.group('host')}[{m.group('ip')}]"
            msg.add_relay(relay)
            msg.add_note(
                {
                    "event": "lost connection" if m.re is _Q_LOST else "timeout",
                    "relay": relay,
                    "stage": m.group("stage"),
                }
            )
        elif m := _Q_PIX.match(rest):
            relay = f"{m.group('host')}[{m.group('ip')}]" + (f":{m.group('port')}" if m.group("port") else "")
            msg.add_relay(relay)
            msg.add_note({"event": "PIX workarounds", "relay": relay, "response": m.group("what")})
        elif m := _Q_HEADER.match(rest):
            # "<part> <text> from host[ip]; from=<s> to=<r> proto=P helo=<h>": keep the text, drop the summary.
            text = m.group("text")
            cut = text.find("; from=<")
            text = text[:cut] if cut >= 0 else text
            if m.group("part") == "header" and text[:8].lower() == "subject:" and msg.subject is None:
                end = text.rfind(" from ")
                msg.subject = text[8 : end if end > 0 else len(text)].strip()
            msg.add_note(
                {"event": m.group("act") or line.level or "header", "text": f"{m.group('part')} {text}"[:1000]}
            )
        else:
            msg.add_note({"event": line.level or "other", "daemon": line.daemon, "text": rest[:1000]})

    def _queue_client(self, line: _Line, msg: _Message, m: re.Match[str]) -> None:
        params: dict[str, Any] = {}
        values = self._client_values(m, params)
        msg.client_host = params.get("client_host")
        msg.client_ip = values["src_ip"]
        msg.client_ip_raw = params.get("src_ip_raw")
        msg.client_port = values["src_port"]
        msg.service = line.service
        kv = parse_kv(m.group("kv").removeprefix(", "))
        user = kv.get("sasl_username")
        if user:
            msg.user = user.lower()
            msg.sasl_method = (kv.get("sasl_method") or "").upper() or None
            params.update(queue_id=msg.qid, sasl_sender=kv.get("sasl_sender"))
            self._emit(
                line,
                event_class=EventClass.AUTH,
                action=Action.LOGIN,
                outcome=Outcome.SUCCESS,
                operation="sasl login",
                params=params,
                user=msg.user,
                auth_method=msg.sasl_method,
                protocol="smtp",
                **values,
            )

    def _expire(self) -> None:
        """Flush messages idle for longer than ``idle`` of log time."""
        if self._now is None:
            return
        limit = self._now - self.idle
        while self._open:
            qid, msg = next(iter(self._open.items()))
            if msg.last_seen is None or msg.last_seen >= limit:
                break
            del self._open[qid]
            self._emit_message(msg, "idle")

    def _emit_message(self, msg: _Message, closed_by: str) -> None:
        deliveries = list(msg.deliveries.values())
        if msg.expired:
            for d in deliveries:
                if d.status not in _FINAL_OK and d.status not in _FINAL_FAIL:
                    d.status = "expired"
        statuses = [d.status for d in deliveries]
        if statuses and all(s in _FINAL_OK for s in statuses):
            outcome = Outcome.SUCCESS
        elif (statuses and all(s in _FINAL_FAIL for s in statuses)) or (msg.expired and not statuses):
            outcome = Outcome.FAILURE
        else:
            outcome = Outcome.UNKNOWN
        failed = next((d for d in deliveries if d.status not in _FINAL_OK), None)
        dsns = list(dict.fromkeys(d.dsn for d in deliveries if d.dsn))
        relay_parts = [parse_relay(r) for r in msg.relays]
        hosts = list(dict.fromkeys(p["host"] for p in relay_parts if p.get("host")))
        ips = list(dict.fromkeys(p["ip"] for p in relay_parts if p.get("ip")))
        ports = list(dict.fromkeys(p["port"] for p in relay_parts if p.get("port")))
        params: dict[str, Any] = {
            "queue_id": msg.qid,
            "statuses": [d.as_json() for d in deliveries] or None,
            "dsn": ",".join(dsns) or None,
            "relays": msg.relays or None,
            "nrcpt": msg.nrcpt,
            "client_host": msg.client_host,
            "src_ip_raw": msg.client_ip_raw,
            "sasl_method": msg.sasl_method,
            "service": msg.service,
            "uid": msg.uid,
            "attempts": str(msg.attempts),
            "notes": msg.notes or None,
            "notifications": msg.notifications or None,
            "closed_by": closed_by,
            "first_program": msg.first_program,
            "lines_not_kept": str(msg.dropped_lines) if msg.dropped_lines else None,
        }
        message_ids = [msg.message_id] if msg.message_id and msg.message_id != "<>" else None
        recipients = [d.to for d in deliveries if d.to] or None
        raw = "\n".join(msg.raw)
        self._rows.add(
            msg.line,
            raw,
            event_uid=uid_of(NAMESPACE, f"{msg.qid}\x1f{msg.raw[0]}\x1f{msg.line}"),
            time=msg.time,
            event_class=EventClass.MAIL_FLOW.value,
            action=Action.DELIVER.value,
            outcome=outcome.value,
            operation="message",
            user=msg.user,
            src_ip=msg.client_ip,
            src_port=msg.client_port,
            dst_host=",".join(hosts) or None,
            dst_ip=ips[0] if len(ips) == 1 else None,
            dst_port=ports[0] if len(ports) == 1 else None,
            observer=msg.observer,
            protocol="smtp" if msg.client_ip or msg.client_host else None,
            auth_method=msg.sasl_method,
            error_code=(failed.dsn if failed and outcome != Outcome.SUCCESS else None),
            status_detail=(failed.response if failed and outcome != Outcome.SUCCESS else None),
            message_ids=message_ids,
            bytes_out=msg.size,
            sender=msg.sender,
            recipients=recipients,
            subject=msg.subject,
            item_count=len(recipients) if recipients else None,
            params=params,
        )


# --------------------------------------------------------------------------- source

_SNIFF = re.compile(
    rb"\bpostfix(?:-[\w.-]+)?(?:/[\w.-]+)*/(?:smtpd|smtp|qmgr|cleanup|postscreen|pickup|local|"
    rb"lmtp|virtual|pipe|bounce|anvil|master|error|tlsproxy|dnsblog|scache|verify|postsuper|"
    rb"trivial-rewrite|sendmail|postdrop)\[\d+\]: "
)


def sniff(head: bytes, name: str) -> float:
    """Share of the first lines that are Postfix syslog lines (above the generic syslog source)."""
    lines = syslog.sniff_lines(head)
    if not lines or syslog.syslog_share(head) < 0.5:
        return 0.0
    hits = sum(1 for ln in lines if _SNIFF.search(ln))
    if hits == 0:
        return 0.0
    share = hits / len(lines)
    return 0.9 if share >= 0.5 else 0.3 + 0.5 * share


def parse(path: Path, ctx: ParseContext) -> Iterator[Chunk]:
    """Read a Postfix syslog file: headers split by the syslog layer, bodies normalized here.

    Other daemons' lines in the same file (Dovecot in a shared mail.log) are normalized
    by their own family, so a mail.log detected as Postfix loses nothing.
    """
    yield from syslog.parse_syslog(path, ctx, source_id=SOURCE_ID)


def _start(con: duckdb.DuckDBPyConnection, ctx: ParseContext) -> PostfixNormalizer:
    return PostfixNormalizer(ctx)


SOURCE = Source(id=SOURCE_ID, title="Postfix (syslog mail.log)", sniff=sniff, parse=parse)


#: How the syslog layer hands this module its rows (a mixed mail.log included).
SYSLOG_FAMILY = syslog.Family(
    id=SOURCE_ID,
    claim_sql=r"regexp_matches(program, '^postfix[^/]*/') OR program = 'postscreen'",
    start=_start,
)
