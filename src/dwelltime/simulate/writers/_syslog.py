"""The syslog file that Dovecot and Postfix share: timestamps, host names, process ids.

Timestamp style (a choice, documented): by default rsyslog's high-precision format
(``RSYSLOG_FileFormat``: ``2024-03-01T09:15:02.123456+09:00``), which Debian 12 and
recent Ubuntu write to ``/var/log/mail.log`` out of the box.  It carries the year and the
offset, so the file ingests without ``--year``/``--tz``.  ``style="rfc3164"`` writes the
traditional ``Mar  1 09:15:02`` in the organisation's zone instead (older systems, or
``$ActionFileDefaultTemplate RSYSLOG_TraditionalFileFormat``); such a file must be
ingested with ``--tz Asia/Tokyo`` and a year.

The lines of one activity are written together when the activity is written, in their
own time order.  A long IMAP session's ``Logged out`` therefore precedes the lines of
activities that started during the session, so time can step back by up to a session
length; a real syslog daemon writes strictly as it receives.  Ground truth needs line
numbers at write time, which rules out a reordering buffer.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dwelltime.simulate.model import Org

STYLES = ("iso", "rfc3164")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MAIL_LOG = "onprem/mail.log"


class SyslogClock:
    """Formats the timestamp at the start of each line."""

    def __init__(self, tz: str, style: str = "iso") -> None:
        if style not in STYLES:
            raise ValueError(f"unknown syslog timestamp style {style!r}; use one of {STYLES}")
        self.zone = ZoneInfo(tz)
        self.style = style

    def stamp(self, when: datetime) -> str:
        local = when.astimezone(self.zone)
        if self.style == "iso":
            return local.isoformat(timespec="microseconds")
        return f"{_MONTHS[local.month - 1]} {local.day:2d} {local:%H:%M:%S}"


class ProcessIds:
    """Process ids of one host's daemons: a pid is reused by a service for a while (Postfix's
    ``max_use``, Dovecot's login processes), then a new one comes from the kernel's counter."""

    def __init__(self, rng: random.Random, pid_max: int = 4_194_304) -> None:
        self._rng = rng
        self._next = rng.randint(1_500, 60_000)
        self._pid_max = pid_max
        self._pools: dict[str, tuple[int, int]] = {}

    def fresh(self) -> int:
        self._next += self._rng.randint(1, 60)
        if self._next >= self._pid_max:
            self._next = 300 + self._rng.randint(0, 1_000)
        return self._next

    def of(self, service: str, reuse: int = 50) -> int:
        """A pid for ``service``, the same one for up to ``reuse`` calls."""
        pid, left = self._pools.get(service, (0, 0))
        if left <= 0:
            pid, left = self.fresh(), self._rng.randint(max(1, reuse // 2), reuse)
        self._pools[service] = (pid, left - 1)
        return pid


def user_logins(org: Org) -> dict[str, str]:
    """UPN -> on-prem login name (what Dovecot and Postfix SASL log)."""
    return {u.upn: u.login for u in org.users}


def offsets(start: datetime, seconds: float) -> datetime:
    return start + timedelta(seconds=seconds)
