"""Attacker networks: real /24 prefixes of real hosting, ISP and mobile networks.

The detectors enrich addresses with the bundled GeoIP and AS data, so an attacker address
the simulator invents must resolve to what the scenario claims (a Japanese VPS really is a
Japanese VPS in the data).  Every prefix below was chosen from the provider's announced
space and is checked address by address against :class:`dwelltime.enrich.Enricher` in
``tests/simulate/test_scenarios.py``; ``as_org`` is spelled as the GeoLite2 ASN data spells
it.  Scenarios draw host addresses from these pools with their own ``random.Random``.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass

from dwelltime.simulate.activity import Network


@dataclass(frozen=True, slots=True)
class Prefix:
    """One /24 of a real network and what the world knows about it."""

    cidr: str
    country: str
    asn: int
    as_org: str
    net_class: str  # hosting, isp, mobile
    city: str = ""

    def draw(self, rng: random.Random) -> Network:
        """A host address in this prefix (never the network or broadcast address)."""
        net = ipaddress.ip_network(self.cidr)
        ip = net.network_address + rng.randrange(1, net.num_addresses - 1)
        return Network(str(ip), self.country, self.asn, self.as_org, self.net_class, self.city)

    def draw_many(self, rng: random.Random, count: int) -> list[Network]:
        """``count`` distinct host addresses in this prefix (a spray operator's range)."""
        net = ipaddress.ip_network(self.cidr)
        offsets = rng.sample(range(1, net.num_addresses - 1), count)
        return [
            Network(str(net.network_address + o), self.country, self.asn, self.as_org, self.net_class, self.city)
            for o in offsets
        ]


_GMO = "GMO Internet,Inc"
_CHOOPA = "AS-CHOOPA"
_ALIBABA = "Alibaba US Technology Co., Ltd."
_TENCENT = "Tencent Building, Kejizhongyi Avenue"
_DO = "DIGITALOCEAN-ASN"
_AMAZON = "AMAZON-02"
_MSFT = "MICROSOFT-CORP-MSN-AS-BLOCK"
_HETZNER = "Hetzner Online GmbH"

# VPS and cloud space inside Japan: what an actor uses to look domestic (the NISC case).
JP_HOSTING: tuple[Prefix, ...] = (
    Prefix("160.251.142.0/24", "JP", 7506, _GMO, "hosting"),  # GMO ConoHa
    Prefix("163.44.170.0/24", "JP", 7506, _GMO, "hosting", "Tokyo"),
    Prefix("45.32.20.0/24", "JP", 20473, _CHOOPA, "hosting", "Heiwajima"),  # Vultr Tokyo
    Prefix("202.182.100.0/24", "JP", 20473, _CHOOPA, "hosting", "Heiwajima"),
    Prefix("47.74.10.0/24", "JP", 45102, _ALIBABA, "hosting", "Tokyo"),  # Alibaba Cloud Tokyo
    Prefix("43.133.20.0/24", "JP", 132203, _TENCENT, "hosting", "Tokyo"),  # Tencent Cloud Tokyo
)

# Hosting in Hong Kong and Singapore: typical implant command-and-control space.
ASIA_HOSTING: tuple[Prefix, ...] = (
    Prefix("47.242.10.0/24", "HK", 45102, _ALIBABA, "hosting"),
    Prefix("8.210.30.0/24", "HK", 45102, _ALIBABA, "hosting"),
    Prefix("43.129.10.0/24", "HK", 132203, _TENCENT, "hosting"),
    Prefix("119.28.10.0/24", "HK", 132203, _TENCENT, "hosting"),
    Prefix("139.180.130.0/24", "SG", 20473, _CHOOPA, "hosting"),
    Prefix("159.65.10.0/24", "SG", 14061, _DO, "hosting", "Singapore"),
    Prefix("104.248.150.0/24", "SG", 14061, _DO, "hosting"),
)

US_HOSTING: tuple[Prefix, ...] = (
    Prefix("143.198.20.0/24", "US", 14061, _DO, "hosting"),
    Prefix("167.99.10.0/24", "US", 14061, _DO, "hosting", "North Bergen"),
    Prefix("165.22.10.0/24", "US", 14061, _DO, "hosting", "Seattle"),
    Prefix("18.191.10.0/24", "US", 16509, _AMAZON, "hosting", "Columbus"),
)

EU_HOSTING: tuple[Prefix, ...] = (
    Prefix("95.216.10.0/24", "FI", 24940, _HETZNER, "hosting"),
    Prefix("162.55.10.0/24", "DE", 24940, _HETZNER, "hosting"),
    Prefix("3.120.50.0/24", "DE", 16509, _AMAZON, "hosting", "Frankfurt am Main"),
    Prefix("206.189.30.0/24", "GB", 14061, _DO, "hosting", "London"),
    Prefix("45.140.185.0/24", "DE", 51167, "Contabo GmbH", "hosting"),
)

# Public-cloud space where multi-tenant SaaS apps (and malicious ones) run.
APP_CLOUD: tuple[Prefix, ...] = (
    Prefix("52.168.30.0/24", "US", 8075, _MSFT, "hosting", "Washington"),
    Prefix("20.51.10.0/24", "US", 8075, _MSFT, "hosting"),
    Prefix("18.191.10.0/24", "US", 16509, _AMAZON, "hosting", "Columbus"),
    Prefix("3.120.50.0/24", "DE", 16509, _AMAZON, "hosting", "Frankfurt am Main"),
)

# Ranges from which password sprays are commonly run (bulletproof-ish and cheap VPS hosts).
SPRAY_HOSTING: tuple[Prefix, ...] = (
    Prefix("5.181.234.0/24", "US", 9009, "M247 Europe SRL", "hosting"),
    Prefix("45.140.185.0/24", "DE", 51167, "Contabo GmbH", "hosting"),
    Prefix("95.216.10.0/24", "FI", 24940, _HETZNER, "hosting"),
    Prefix("143.198.20.0/24", "US", 14061, _DO, "hosting"),
)

# US residential broadband: where residential-proxy services exit.
US_RESIDENTIAL: tuple[Prefix, ...] = (
    Prefix("73.162.10.0/24", "US", 7922, "COMCAST-7922", "isp", "Saratoga"),
    Prefix("99.12.30.0/24", "US", 7018, "ATT-INTERNET4", "isp"),
    Prefix("71.80.10.0/24", "US", 20115, "CHARTER-20115", "isp", "Smithfield"),
)

# Nigerian mobile carrier space (MTN Nigeria, AS29465): a classic BEC origin.
NG_MOBILE: tuple[Prefix, ...] = (
    Prefix("197.210.10.0/24", "NG", 29465, "MTN NIGERIA Communication limited", "mobile", "Lagos"),
)

ALL_PREFIXES: tuple[Prefix, ...] = tuple(
    dict.fromkeys(
        JP_HOSTING + ASIA_HOSTING + US_HOSTING + EU_HOSTING + APP_CLOUD + SPRAY_HOSTING + US_RESIDENTIAL + NG_MOBILE
    )
)
