"""gateway-implant: the UNC4841 pattern -- an implant on the mail security gateway.

After exploiting the gateway appliance, the actor's implant calls home: small TLS sessions
at a fixed interval with jitter to one address in foreign hosting space the gateway never
talked to, sometimes with an SNI that names a made-up service, often with none.  Every few
days, during the operator's office hours, a much larger upload leaves on the same channel:
mail staged on the appliance, compressed, several megabytes to a hundred.  The entity is
the gateway host; its normal traffic (DNS, NTP, vendor updates, SMTP to partner MX) is the
benign behaviour's job.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dwelltime.errors import ConfigError
from dwelltime.simulate.activity import Activity, Connection, Network
from dwelltime.simulate.model import MailHost, Org
from dwelltime.simulate.scenarios._common import (
    TOKYO,
    CorpusView,
    at_local,
    attack_start_day,
    network_for,
    next_office_time,
    period,
    resolve_params,
    split_avoid,
    within,
)
from dwelltime.simulate.scenarios._networks import ASIA_HOSTING, EU_HOSTING, US_HOSTING

NAME = "gateway-implant"
ORG_KINDS = ("onprem", "hybrid")

C2_PREFIXES = ASIA_HOSTING + US_HOSTING + EU_HOSTING
_WORDS = ("cdn", "update", "static", "telemetry", "sync", "cloud", "edge", "api", "mail", "secure", "check", "assets")
_TLDS = (".com", ".net", ".org", ".info", ".xyz", ".top")


@dataclass(frozen=True, slots=True)
class Params:
    """Parameters of gateway-implant (defaults drawn from the scenario's rng).

    host: the compromised host (the org's mail host with role "gateway", else its MTA).
    first_day, first_hour: when the implant first calls home (hour in Tokyo time).
    duration_days: how long the implant runs, 20-90 days (cut at the end of the period).
    c2_ip: the command-and-control address (foreign hosting).
    sni: TLS server name the implant sends ("" = none, as many implants do).
    interval_minutes: beacon period, one of 5, 10, 15, 30, 60 minutes.
    jitter_fraction: +- share of the period added to each beacon, 0.05-0.3.
    upload_every_days: mean days between staged uploads, 2-7.
    upload_mb_min, upload_mb_max: size range of one upload, MB.
    """

    host: str
    first_day: date
    first_hour: float
    duration_days: int
    c2_ip: str
    sni: str
    interval_minutes: float
    jitter_fraction: float
    upload_every_days: float
    upload_mb_min: float
    upload_mb_max: float


def gateway_host(org: Org) -> MailHost:
    for role in ("gateway", "mta", "mailstore"):
        for h in org.hosts:
            if h.role == role:
                return h
    raise ConfigError("the organisation has no mail host for gateway-implant")


def defaults(org: Org, start: date, days: int, rng: random.Random, avoid: frozenset[str] = frozenset()) -> Params:
    first_day = attack_start_day(start, days, rng, min_length=min(20, max(1, days // 3)))
    c2 = rng.choice(C2_PREFIXES).draw(rng)
    sni = ""
    if rng.random() < 0.5:
        words = rng.sample(_WORDS, 2)
        sni = f"{words[0]}.{words[1]}-{rng.choice(_WORDS)}{rng.choice(_TLDS)}"
    lo = round(rng.uniform(3, 15), 1)
    return Params(
        host=gateway_host(org).name,
        first_day=first_day,
        first_hour=round(rng.uniform(0, 24), 2),
        duration_days=rng.randint(20, 90),
        c2_ip=c2.ip,
        sni=sni,
        interval_minutes=float(rng.choice((5, 10, 15, 30, 60))),
        jitter_fraction=round(rng.uniform(0.05, 0.3), 2),
        upload_every_days=round(rng.uniform(2, 7), 1),
        upload_mb_min=lo,
        upload_mb_max=round(lo + rng.uniform(10, 120), 1),
    )


def generate(
    org: Org, corpus: CorpusView, start: date, days: int, rng: random.Random, **params: object
) -> list[Activity]:
    avoid, rest = split_avoid(params)
    p = resolve_params(defaults(org, start, days, rng, avoid), rest)
    hosts = {h.name: h for h in org.hosts}
    if p.host not in hosts:
        raise ConfigError(f"no mail host {p.host!r} in the simulated organisation")
    host = hosts[p.host]
    c2 = network_for(p.c2_ip, C2_PREFIXES)
    src = Network(host.ip, "JP", None, org.name, "private" if ipaddress.ip_address(host.ip).is_private else "office")
    _, period_end = period(start, days)
    t0 = at_local(p.first_day, p.first_hour, TOKYO)
    end = min(period_end, t0 + timedelta(days=p.duration_days))

    out: list[Activity] = []
    period_s = p.interval_minutes * 60
    t = t0
    while t < end:
        if rng.random() > 0.01:  # now and then a beacon is lost (appliance busy, network blip)
            out.append(_beacon(host.name, src, c2, p.sni, t, rng))
        t += timedelta(seconds=period_s * (1 + rng.uniform(-p.jitter_fraction, p.jitter_fraction)))

    u = next_office_time(t0 + timedelta(days=rng.expovariate(1 / p.upload_every_days)), rng)
    while u < end:
        out.append(_upload(host.name, src, c2, p, u, rng))
        u = next_office_time(u + timedelta(days=rng.expovariate(1 / p.upload_every_days)), rng)
    return within(out, period_end)


def _beacon(host: str, src: Network, c2: Network, sni: str, t: datetime, rng: random.Random) -> Connection:
    return Connection(
        t,
        host,
        src,
        NAME,
        dst_ip=c2.ip,
        dst_port=443,
        proto="tcp",
        service="ssl",
        duration_s=round(rng.uniform(0.15, 1.8), 3),
        bytes_orig=rng.randint(220, 900),
        bytes_resp=rng.randint(150, 1400),
        server_name=sni,
    )


def _upload(host: str, src: Network, c2: Network, p: Params, t: datetime, rng: random.Random) -> Connection:
    size = int(rng.uniform(p.upload_mb_min, p.upload_mb_max) * 1_000_000)
    rate = rng.uniform(0.8, 6.0) * 1_000_000  # bytes per second through the office uplink
    return Connection(
        t,
        host,
        src,
        NAME,
        dst_ip=c2.ip,
        dst_port=443,
        proto="tcp",
        service="ssl",
        duration_s=round(size / rate, 3),
        bytes_orig=size,
        bytes_resp=rng.randint(4_000, 40_000),
        server_name=p.sni,
    )
