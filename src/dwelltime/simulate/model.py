"""The simulated organisation as data: people, networks, clients, partners, mail hosts.

Built once per (kind, users, seed) by :mod:`dwelltime.simulate.org`; read by the benign
behaviour, the attack scenarios, the mailbox corpus and the writers.  Plain frozen
dataclasses: no behaviour here, so every part of the simulator can rely on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from dwelltime.simulate.activity import Client, Network


@dataclass(frozen=True, slots=True)
class Partner:
    """An organisation the users correspond with."""

    name: str
    domain: str  # registrable domain, e.g. "example-trading.co.jp"
    country: str  # ISO 3166-1 alpha-2
    language: str  # "ja" or "en"
    contacts: tuple[str, ...] = ()  # e-mail addresses of people there


@dataclass(frozen=True, slots=True)
class User:
    upn: str  # e-mail address / UPN, lower-case
    login: str  # on-prem login name (Dovecot / Postfix SASL)
    name_ja: str
    name_en: str
    department: str
    role: str  # staff, manager, admin, executive, service
    home: Network  # residential ISP egress (its IP churns: see home_pool)
    home_pool: tuple[str, ...]  # CIDRs the home address is drawn from
    mobile: Network | None  # carrier network of the user's phone (None: no phone)
    mobile_pool: tuple[str, ...]
    clients: tuple[Client, ...]  # clients this user uses (desktop, web, phone, imap)
    mobile_poll_minutes: tuple[int, int] | None  # ActiveSync polling interval range
    imap_user: bool  # uses an IMAP client on-prem
    vpn_user: bool  # uses a commercial VPN from home now and then
    traveller: bool  # has business trips abroad in the period
    start: date  # first working day (new staff join mid-period)
    work_hours: tuple[int, int]  # usual start and end hour, local time


@dataclass(frozen=True, slots=True)
class MailHost:
    name: str  # host name as it appears in syslog
    ip: str  # address in the org network
    role: str  # "mailstore" (Dovecot), "mta" (Postfix), "gateway" (mail security gateway)


@dataclass(frozen=True, slots=True)
class Org:
    kind: str  # cloud, onprem, hybrid
    name: str
    domain: str
    tenant_id: str
    timezone: str  # IANA, "Asia/Tokyo"
    users: tuple[User, ...]
    office: tuple[Network, ...]  # office NAT egress addresses before the ISP change
    office_after_change: tuple[Network, ...]  # after the office ISP change
    isp_change_day: date | None
    partners: tuple[Partner, ...]
    hosts: tuple[MailHost, ...]
    admins: tuple[str, ...] = field(default_factory=tuple)  # UPNs of legitimate administrators

    def user(self, upn: str) -> User:
        for candidate in self.users:
            if candidate.upn == upn:
                return candidate
        raise KeyError(upn)
