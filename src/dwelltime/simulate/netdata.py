"""Real address space for the simulated organisation: whose network, where, what kind.

Every prefix below is a real block of a real AS, chosen by querying the GeoLite2-derived
data bundled with dwelltime (geoip2fast June 2024 for country and AS organisation, the 2018
City database for the city) -- not typed from memory -- so that enrichment of simulated logs
says what the simulator meant: a home address really is an NTT OCN address in Tokyo, a
"foreign hosting" address really is DigitalOcean in the US.  Each block lies inside one AS
block and one country block of that data (tests/simulate/test_org.py checks every prefix).

``net_class`` is the simulator's truth, which can be finer than what an AS-level classifier
can know: au and SoftBank phones use the same AS as their fixed lines (enrichment says isp),
commercial VPN exits sit on hosting networks such as M247 and Datacamp (enrichment says
hosting), and "office" is the organisation's own business line on an ordinary ISP.

AS numbers come from public registrations; the bundled data has AS names only.  SAKURA
Internet operates several ASNs (7684, 9370, 9371) under one name; its blocks are given
its main AS 9370, which may not be the originating AS of every block.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass
from functools import cache

from dwelltime.simulate.activity import Network

__all__ = [
    "DESTINATIONS",
    "PREFIXES",
    "Destination",
    "Prefix",
    "by_cidr",
    "group",
    "groups",
    "network_at",
    "prefix_of",
    "random_ip",
]


@dataclass(frozen=True, slots=True)
class Prefix:
    """One real address block and what the simulator means by it."""

    cidr: str
    asn: int
    as_org: str  # spelled exactly as the bundled GeoLite2 data spells it
    country: str
    net_class: str  # isp, mobile, office, hosting, vpn, tor
    city: str
    group: str  # pool name, e.g. "home-ocn", "mobile-docomo", "vpn-m247", "abroad-us"


_ROWS: tuple[tuple[str, int, str, str, str, str, str], ...] = (
    # Japanese residential ISPs (sub-blocks whose city is in the Tokyo area)
    ("221.113.128.0/20", 4713, "NTT Communications Corporation", "JP", "isp", "Tokyo", "home-ocn"),
    ("153.230.192.0/20", 4713, "NTT Communications Corporation", "JP", "isp", "Tokyo", "home-ocn"),
    ("123.220.160.0/20", 4713, "NTT Communications Corporation", "JP", "isp", "Tokyo", "home-ocn"),
    ("138.243.224.0/20", 4713, "NTT Communications Corporation", "JP", "isp", "Tokyo", "home-ocn"),
    ("153.249.224.0/20", 4713, "NTT Communications Corporation", "JP", "isp", "Saitama", "home-ocn"),
    ("153.253.240.0/20", 4713, "NTT Communications Corporation", "JP", "isp", "Tokyo", "home-ocn"),
    ("122.1.0.0/20", 4713, "NTT Communications Corporation", "JP", "isp", "Kawagoe", "home-ocn"),
    ("153.246.192.0/20", 4713, "NTT Communications Corporation", "JP", "isp", "Tokyo", "home-ocn"),
    ("211.0.240.0/20", 4713, "NTT Communications Corporation", "JP", "isp", "Saitama", "home-ocn"),
    ("114.167.0.0/20", 4713, "NTT Communications Corporation", "JP", "isp", "Tokyo", "home-ocn"),
    ("124.213.32.0/20", 2516, "KDDI CORPORATION", "JP", "isp", "Tokyo", "home-kddi"),
    ("111.238.32.0/20", 2516, "KDDI CORPORATION", "JP", "isp", "Tokyo", "home-kddi"),
    ("175.109.224.0/20", 2516, "KDDI CORPORATION", "JP", "isp", "Tokyo", "home-kddi"),
    ("36.12.96.0/20", 2516, "KDDI CORPORATION", "JP", "isp", "Tokyo", "home-kddi"),
    ("106.144.0.0/20", 2516, "KDDI CORPORATION", "JP", "isp", "Tokyo", "home-kddi"),
    ("114.20.48.0/20", 2516, "KDDI CORPORATION", "JP", "isp", "Tokyo", "home-kddi"),
    ("175.133.224.0/20", 2516, "KDDI CORPORATION", "JP", "isp", "Tokyo", "home-kddi"),
    ("125.29.80.0/20", 2516, "KDDI CORPORATION", "JP", "isp", "Tokyo", "home-kddi"),
    ("101.110.32.0/20", 17676, "SoftBank Corp.", "JP", "isp", "Tokyo", "home-softbank"),
    ("219.188.0.0/20", 17676, "SoftBank Corp.", "JP", "isp", "Tokyo", "home-softbank"),
    ("219.206.64.0/20", 17676, "SoftBank Corp.", "JP", "isp", "Tokyo", "home-softbank"),
    ("126.204.208.0/20", 17676, "SoftBank Corp.", "JP", "isp", "Tokyo", "home-softbank"),
    ("219.212.192.0/20", 17676, "SoftBank Corp.", "JP", "isp", "Tokyo", "home-softbank"),
    ("119.72.192.0/20", 17676, "SoftBank Corp.", "JP", "isp", "Tokyo", "home-softbank"),
    ("219.67.176.0/20", 17676, "SoftBank Corp.", "JP", "isp", "Tokyo", "home-softbank"),
    ("126.253.176.0/20", 17676, "SoftBank Corp.", "JP", "isp", "Tokyo", "home-softbank"),
    ("159.28.192.0/20", 2527, "Sony Network Communications Inc.", "JP", "isp", "Tokyo", "home-sonet"),
    ("110.66.208.0/20", 2527, "Sony Network Communications Inc.", "JP", "isp", "Tokyo", "home-sonet"),
    ("164.70.160.0/20", 2527, "Sony Network Communications Inc.", "JP", "isp", "Tokyo", "home-sonet"),
    ("121.101.64.0/20", 2527, "Sony Network Communications Inc.", "JP", "isp", "Tokyo", "home-sonet"),
    ("118.240.64.0/20", 2527, "Sony Network Communications Inc.", "JP", "isp", "Yokohama", "home-sonet"),
    ("59.146.64.0/20", 2527, "Sony Network Communications Inc.", "JP", "isp", "Tokyo", "home-sonet"),
    ("119.241.160.0/20", 2518, "BIGLOBE Inc.", "JP", "isp", "Tokyo", "home-biglobe"),
    ("60.236.80.0/20", 2518, "BIGLOBE Inc.", "JP", "isp", "Tokyo", "home-biglobe"),
    ("203.136.80.0/20", 2518, "BIGLOBE Inc.", "JP", "isp", "Sumida", "home-biglobe"),
    ("221.171.80.0/20", 2518, "BIGLOBE Inc.", "JP", "isp", "Tokyo", "home-biglobe"),
    ("118.109.208.0/20", 2518, "BIGLOBE Inc.", "JP", "isp", "Yokohama", "home-biglobe"),
    ("210.138.144.0/20", 2497, "Internet Initiative Japan Inc.", "JP", "isp", "Chiba", "home-iij"),
    ("172.123.240.0/20", 2497, "Internet Initiative Japan Inc.", "JP", "isp", "Tokyo", "home-iij"),
    ("118.151.176.0/20", 2497, "Internet Initiative Japan Inc.", "JP", "isp", "Musashino", "home-iij"),
    ("133.221.224.0/20", 2497, "Internet Initiative Japan Inc.", "JP", "isp", "Tokyo", "home-iij"),
    ("61.23.208.0/20", 9824, "JCOM Co., Ltd.", "JP", "isp", "Fujisawa", "home-jcom"),
    ("202.72.64.0/20", 9824, "JCOM Co., Ltd.", "JP", "isp", "Matsudo", "home-jcom"),
    ("59.168.208.0/20", 9824, "JCOM Co., Ltd.", "JP", "isp", "Tokyo", "home-jcom"),
    ("27.139.160.0/20", 9824, "JCOM Co., Ltd.", "JP", "isp", "Chiba", "home-jcom"),
    ("42.146.64.0/20", 9824, "JCOM Co., Ltd.", "JP", "isp", "Tokyo", "home-jcom"),
    ("220.150.112.0/20", 4685, "Asahi Net", "JP", "isp", "Tokyo", "home-asahinet"),
    ("157.107.192.0/20", 4685, "Asahi Net", "JP", "isp", "Saitama", "home-asahinet"),
    ("119.150.64.0/20", 4685, "Asahi Net", "JP", "isp", "Tokyo", "home-asahinet"),
    # au (KDDI) and SoftBank phones: same AS as the fixed lines
    ("106.128.0.0/16", 2516, "KDDI CORPORATION", "JP", "mobile", "Tokyo", "mobile-au"),
    ("106.133.0.0/16", 2516, "KDDI CORPORATION", "JP", "mobile", "Tokyo", "mobile-au"),
    ("106.181.0.0/16", 2516, "KDDI CORPORATION", "JP", "mobile", "Tokyo", "mobile-au"),
    ("126.233.0.0/16", 17676, "SoftBank Corp.", "JP", "mobile", "Osaka", "mobile-softbank"),
    ("126.212.0.0/16", 17676, "SoftBank Corp.", "JP", "mobile", "Futtsu", "mobile-softbank"),
    ("126.193.0.0/16", 17676, "SoftBank Corp.", "JP", "mobile", "Tokyo", "mobile-softbank"),
    ("220.159.56.0/24", 9605, "NTT DOCOMO, INC.", "JP", "mobile", "Tokyo", "mobile-docomo"),
    ("1.79.16.0/20", 9605, "NTT DOCOMO, INC.", "JP", "mobile", "Tokyo", "mobile-docomo"),
    ("49.97.68.0/22", 9605, "NTT DOCOMO, INC.", "JP", "mobile", "Tokyo", "mobile-docomo"),
    ("220.159.208.0/20", 9605, "NTT DOCOMO, INC.", "JP", "mobile", "Tokyo", "mobile-docomo"),
    ("49.97.86.0/24", 9605, "NTT DOCOMO, INC.", "JP", "mobile", "Tokyo", "mobile-docomo"),
    ("1.79.128.0/19", 9605, "NTT DOCOMO, INC.", "JP", "mobile", "Tokyo", "mobile-docomo"),
    ("219.105.160.0/20", 138384, "Rakuten Mobile, Inc.", "JP", "mobile", "", "mobile-rakuten"),
    ("61.213.224.0/20", 138384, "Rakuten Mobile, Inc.", "JP", "mobile", "", "mobile-rakuten"),
    ("202.176.32.0/20", 138384, "Rakuten Mobile, Inc.", "JP", "mobile", "Tokyo", "mobile-rakuten"),
    ("58.138.90.0/24", 2497, "Internet Initiative Japan Inc.", "JP", "office", "Tokyo", "office-a"),
    ("122.212.192.0/24", 17506, "ARTERIA Networks Corporation", "JP", "office", "Tokyo", "office-b"),
    ("36.53.12.0/22", 9370, "SAKURA Internet Inc.", "JP", "hosting", "Osaka", "hosting-jp-sakura"),
    ("49.212.216.0/22", 9370, "SAKURA Internet Inc.", "JP", "hosting", "Osaka", "hosting-jp-sakura"),
    ("153.120.116.0/22", 9370, "SAKURA Internet Inc.", "JP", "hosting", "Osaka", "hosting-jp-sakura"),
    ("160.16.48.0/22", 9370, "SAKURA Internet Inc.", "JP", "hosting", "Osaka", "hosting-jp-sakura"),
    ("157.7.140.0/22", 7506, "GMO Internet,Inc", "JP", "hosting", "Tokyo", "hosting-jp-gmo"),
    ("157.7.116.0/22", 7506, "GMO Internet,Inc", "JP", "hosting", "Tokyo", "hosting-jp-gmo"),
    ("157.7.40.0/22", 7506, "GMO Internet,Inc", "JP", "hosting", "Tokyo", "hosting-jp-gmo"),
    ("203.189.104.0/22", 7506, "GMO Internet,Inc", "JP", "hosting", "Tokyo", "hosting-jp-gmo"),
    ("61.206.32.0/22", 4694, "IDC Frontier Inc.", "JP", "hosting", "Tokyo", "hosting-jp-idcf"),
    ("210.152.132.0/22", 4694, "IDC Frontier Inc.", "JP", "hosting", "Tokyo", "hosting-jp-idcf"),
    ("202.234.8.0/22", 4694, "IDC Frontier Inc.", "JP", "hosting", "Tokyo", "hosting-jp-idcf"),
    ("198.13.56.0/22", 20473, "AS-CHOOPA", "JP", "hosting", "Heiwajima", "hosting-jp-vultr"),
    ("149.28.24.0/22", 20473, "AS-CHOOPA", "JP", "hosting", "Heiwajima", "hosting-jp-vultr"),
    ("202.182.100.0/22", 20473, "AS-CHOOPA", "JP", "hosting", "Heiwajima", "hosting-jp-vultr"),
    ("54.199.64.0/20", 16509, "AMAZON-02", "JP", "hosting", "Tokyo", "hosting-jp-aws"),
    ("52.69.48.0/20", 16509, "AMAZON-02", "JP", "hosting", "Tokyo", "hosting-jp-aws"),
    ("54.238.96.0/20", 16509, "AMAZON-02", "JP", "hosting", "Tokyo", "hosting-jp-aws"),
    ("172.104.92.0/22", 63949, "Akamai Connected Cloud", "JP", "hosting", "Tokyo", "hosting-jp-linode"),
    ("103.29.68.0/22", 63949, "Akamai Connected Cloud", "JP", "hosting", "Tokyo", "hosting-jp-linode"),
    ("104.131.96.0/20", 14061, "DIGITALOCEAN-ASN", "US", "hosting", "Clifton", "hosting-do"),
    ("104.236.0.0/20", 14061, "DIGITALOCEAN-ASN", "US", "hosting", "Clifton", "hosting-do"),
    ("138.197.192.0/20", 14061, "DIGITALOCEAN-ASN", "US", "hosting", "Santa Clara", "hosting-do"),
    ("139.59.232.0/21", 14061, "DIGITALOCEAN-ASN", "SG", "hosting", "Singapore", "hosting-do"),
    ("139.59.224.0/22", 14061, "DIGITALOCEAN-ASN", "SG", "hosting", "Singapore", "hosting-do"),
    ("188.226.144.0/20", 14061, "DIGITALOCEAN-ASN", "NL", "hosting", "Amsterdam", "hosting-do"),
    ("146.185.160.0/20", 14061, "DIGITALOCEAN-ASN", "NL", "hosting", "Amsterdam", "hosting-do"),
    ("44.36.240.0/22", 20473, "AS-CHOOPA", "US", "hosting", "San Diego", "hosting-vultr"),
    ("44.56.207.0/24", 20473, "AS-CHOOPA", "US", "hosting", "San Diego", "hosting-vultr"),
    ("44.36.15.0/24", 20473, "AS-CHOOPA", "US", "hosting", "San Diego", "hosting-vultr"),
    ("45.114.190.0/24", 20473, "AS-CHOOPA", "SG", "hosting", "", "hosting-vultr"),
    ("217.163.23.0/24", 20473, "AS-CHOOPA", "DE", "hosting", "Frankfurt am Main", "hosting-vultr"),
    ("141.227.140.0/24", 16276, "OVH SAS", "FR", "hosting", "Courbevoie", "hosting-ovh"),
    ("141.227.134.0/24", 16276, "OVH SAS", "FR", "hosting", "Courbevoie", "hosting-ovh"),
    ("141.227.128.0/24", 16276, "OVH SAS", "FR", "hosting", "Courbevoie", "hosting-ovh"),
    ("198.245.48.0/20", 16276, "OVH SAS", "CA", "hosting", "Montreal", "hosting-ovh"),
    ("91.233.8.0/22", 24940, "Hetzner Online GmbH", "DE", "hosting", "Bad Wildungen", "hosting-hetzner"),
    ("213.133.96.0/20", 24940, "Hetzner Online GmbH", "DE", "hosting", "Nuremberg", "hosting-hetzner"),
    ("213.239.192.0/20", 24940, "Hetzner Online GmbH", "DE", "hosting", "Nuremberg", "hosting-hetzner"),
    ("135.181.160.0/20", 24940, "Hetzner Online GmbH", "FI", "hosting", "", "hosting-hetzner"),
    ("155.226.156.0/23", 16509, "AMAZON-02", "US", "hosting", "Harrisburg", "hosting-aws"),
    ("192.111.5.0/24", 16509, "AMAZON-02", "US", "hosting", "Santa Clara", "hosting-aws"),
    ("69.64.152.0/24", 16509, "AMAZON-02", "US", "hosting", "Denver", "hosting-aws"),
    ("13.251.16.0/20", 16509, "AMAZON-02", "SG", "hosting", "Singapore", "hosting-aws"),
    ("18.136.176.0/20", 16509, "AMAZON-02", "SG", "hosting", "Singapore", "hosting-aws"),
    ("18.196.32.0/20", 16509, "AMAZON-02", "DE", "hosting", "Frankfurt am Main", "hosting-aws"),
    ("45.79.96.0/20", 63949, "Akamai Connected Cloud", "US", "hosting", "Fremont", "hosting-linode"),
    ("172.105.152.0/21", 63949, "Akamai Connected Cloud", "US", "hosting", "Absecon", "hosting-linode"),
    ("172.104.52.0/22", 63949, "Akamai Connected Cloud", "SG", "hosting", "Singapore", "hosting-linode"),
    ("154.28.90.0/24", 9009, "M247 Europe SRL", "JP", "vpn", "", "vpn-m247"),
    ("176.113.64.0/24", 9009, "M247 Europe SRL", "JP", "vpn", "", "vpn-m247"),
    ("157.254.59.0/24", 9009, "M247 Europe SRL", "US", "vpn", "The Bronx", "vpn-m247"),
    ("157.254.144.0/24", 9009, "M247 Europe SRL", "US", "vpn", "Burbank", "vpn-m247"),
    ("172.111.211.0/24", 9009, "M247 Europe SRL", "GB", "vpn", "Maidenhead", "vpn-m247"),
    ("185.130.186.0/24", 9009, "M247 Europe SRL", "SG", "vpn", "Singapore", "vpn-m247"),
    ("179.61.150.0/24", 9009, "M247 Europe SRL", "DE", "vpn", "Frankfurt am Main", "vpn-m247"),
    ("181.214.49.0/24", 60068, "Datacamp Limited", "JP", "vpn", "", "vpn-datacamp"),
    ("143.244.40.0/24", 60068, "Datacamp Limited", "JP", "vpn", "", "vpn-datacamp"),
    ("104.164.172.0/24", 60068, "Datacamp Limited", "US", "vpn", "San Jose", "vpn-datacamp"),
    ("104.252.119.0/24", 60068, "Datacamp Limited", "US", "vpn", "San Jose", "vpn-datacamp"),
    ("89.213.127.0/24", 60068, "Datacamp Limited", "GB", "vpn", "Whitchurch", "vpn-datacamp"),
    ("85.198.38.0/24", 60068, "Datacamp Limited", "SG", "vpn", "", "vpn-datacamp"),
    ("191.101.69.0/24", 60068, "Datacamp Limited", "DE", "vpn", "Frankfurt am Main", "vpn-datacamp"),
    ("185.177.207.0/24", 60729, "Stiftung Erneuerbare Freiheit", "DE", "tor", "Berlin", "tor"),
    ("185.220.102.0/24", 60729, "Stiftung Erneuerbare Freiheit", "DE", "tor", "", "tor"),
    ("185.220.100.0/24", 205100, "F3 Netze e.V.", "DE", "tor", "", "tor"),
    ("109.70.100.0/24", 208323, "Foundation for Applied Privacy", "AT", "tor", "", "tor"),
    ("162.247.74.0/24", 4224, "CALYX-AS", "US", "tor", "New York", "tor"),
    ("162.247.73.0/24", 4224, "CALYX-AS", "US", "tor", "New York", "tor"),
    ("199.249.225.0/24", 62744, "QUINTEX", "US", "tor", "Spokane", "tor"),
    ("44.31.250.0/24", 62744, "QUINTEX", "US", "tor", "San Diego", "tor"),
    ("50.172.44.0/22", 7922, "COMCAST-7922", "US", "isp", "Chicago", "abroad-us"),
    ("67.169.112.0/20", 7922, "COMCAST-7922", "US", "isp", "Oakland", "abroad-us"),
    ("24.23.166.0/24", 7922, "COMCAST-7922", "US", "isp", "San Jose", "abroad-us"),
    ("108.83.148.0/22", 7018, "ATT-INTERNET4", "US", "isp", "Chicago", "abroad-us"),
    ("12.160.22.0/24", 7018, "ATT-INTERNET4", "US", "isp", "Chicago", "abroad-us"),
    ("16.203.144.0/20", 20115, "CHARTER-20115", "US", "isp", "Palo Alto", "abroad-us"),
    ("156.19.176.0/20", 20115, "CHARTER-20115", "US", "isp", "Los Angeles", "abroad-us"),
    ("173.4.112.0/20", 21928, "T-MOBILE-AS21928", "US", "mobile", "Los Angeles", "abroad-us-mobile"),
    ("184.228.208.0/20", 21928, "T-MOBILE-AS21928", "US", "mobile", "Chicago", "abroad-us-mobile"),
    ("70.196.128.0/20", 22394, "CELLCO-PART", "US", "mobile", "New Orleans", "abroad-us-mobile"),
    ("174.226.32.0/20", 22394, "CELLCO-PART", "US", "mobile", "Yorktown", "abroad-us-mobile"),
    ("203.125.64.0/20", 3758, "SingNet", "SG", "isp", "Singapore", "abroad-sg"),
    ("115.66.33.0/24", 3758, "SingNet", "SG", "isp", "Singapore", "abroad-sg"),
    ("101.127.224.0/20", 4657, "StarHub Ltd", "SG", "isp", "Singapore", "abroad-sg"),
    ("171.1.240.0/20", 4657, "StarHub Ltd", "SG", "isp", "Singapore", "abroad-sg"),
    ("119.74.176.0/20", 9506, "Singtel Fibre Broadband", "SG", "isp", "Singapore", "abroad-sg"),
    ("87.155.32.0/20", 3320, "Deutsche Telekom AG", "DE", "isp", "Dusseldorf", "abroad-de"),
    ("93.223.144.0/20", 3320, "Deutsche Telekom AG", "DE", "isp", "Dusseldorf", "abroad-de"),
    ("141.77.96.0/20", 3320, "Deutsche Telekom AG", "DE", "isp", "Munich", "abroad-de"),
    ("91.65.48.0/20", 3209, "Vodafone GmbH", "DE", "isp", "Berlin", "abroad-de"),
    ("193.202.28.0/24", 3209, "Vodafone GmbH", "DE", "isp", "Munich", "abroad-de"),
    ("82.113.96.0/20", 6805, "Telefonica Germany", "DE", "mobile", "Frankfurt am Main", "abroad-de-mobile"),
    ("92.228.48.0/20", 6805, "Telefonica Germany", "DE", "mobile", "Bonn", "abroad-de-mobile"),
    ("31.114.48.0/20", 2856, "British Telecommunications PLC", "GB", "isp", "London", "abroad-gb"),
    ("31.110.32.0/20", 2856, "British Telecommunications PLC", "GB", "isp", "London", "abroad-gb"),
    ("194.202.213.0/24", 2856, "British Telecommunications PLC", "GB", "isp", "London", "abroad-gb"),
    ("94.175.208.0/20", 5089, "Virgin Media", "GB", "isp", "London", "abroad-gb"),
    ("193.39.182.0/23", 5089, "Virgin Media", "GB", "isp", "London", "abroad-gb"),
    ("31.101.80.0/20", 12576, "EE Limited", "GB", "mobile", "London", "abroad-gb-mobile"),
    ("31.123.128.0/20", 12576, "EE Limited", "GB", "mobile", "London", "abroad-gb-mobile"),
    ("118.45.112.0/20", 4766, "Korea Telecom", "KR", "isp", "Seoul", "abroad-kr"),
    ("211.195.192.0/20", 4766, "Korea Telecom", "KR", "isp", "Seoul", "abroad-kr"),
    ("218.152.160.0/20", 4766, "Korea Telecom", "KR", "isp", "Seoul", "abroad-kr"),
    ("116.127.0.0/20", 9318, "SK Broadband Co Ltd", "KR", "isp", "Seoul", "abroad-kr"),
    ("1.236.240.0/20", 9318, "SK Broadband Co Ltd", "KR", "isp", "Seoul", "abroad-kr"),
    ("122.43.192.0/20", 17858, "LG POWERCOMM", "KR", "isp", "Seoul", "abroad-kr"),
    ("219.252.36.0/23", 9644, "SK Telecom", "KR", "mobile", "Seoul", "abroad-kr-mobile"),
    ("123.228.80.0/20", 9644, "SK Telecom", "KR", "mobile", "Seoul", "abroad-kr-mobile"),
    ("223.200.80.0/20", 3462, "Data Communication Business Group", "TW", "isp", "Taipei", "abroad-tw"),
    ("114.45.48.0/20", 3462, "Data Communication Business Group", "TW", "isp", "Taipei", "abroad-tw"),
    ("118.161.128.0/20", 3462, "Data Communication Business Group", "TW", "isp", "Taipei", "abroad-tw"),
    ("101.12.224.0/20", 24158, "Taiwan Mobile Co., Ltd.", "TW", "mobile", "Taipei", "abroad-tw-mobile"),
    ("49.215.244.0/22", 24158, "Taiwan Mobile Co., Ltd.", "TW", "mobile", "Taipei", "abroad-tw-mobile"),
    ("203.144.136.0/21", 7470, "TRUE INTERNET Co.,Ltd.", "TH", "isp", "Bangkok", "abroad-th"),
    ("110.170.250.0/23", 7470, "TRUE INTERNET Co.,Ltd.", "TH", "isp", "Bangkok", "abroad-th"),
    ("27.130.176.0/20", 45758, "Triple T Broadband Public Company Limited", "TH", "isp", "Bangkok", "abroad-th"),
    ("27.130.192.0/20", 45758, "Triple T Broadband Public Company Limited", "TH", "isp", "Bangkok", "abroad-th"),
)

PREFIXES: tuple[Prefix, ...] = tuple(Prefix(*row) for row in _ROWS)


@dataclass(frozen=True, slots=True)
class Destination:
    """A server the mail gateway talks to in normal operation (Zeek sees these)."""

    name: str  # DNS name / TLS SNI
    ip: str
    port: int
    proto: str
    service: str  # Zeek service: ssl, dns, ntp, smtp, http
    as_org: str  # as the bundled data names it ("" for private addresses)
    country: str  # "" for private addresses


DESTINATIONS: tuple[Destination, ...] = (
    # NICT's public NTP service (ntp.nict.jp)
    Destination(
        "ntp.nict.jp",
        "133.243.238.163",
        123,
        "udp",
        "ntp",
        "National Institute of Information and Communications Technology",
        "JP",
    ),
    Destination(
        "ntp.nict.jp",
        "133.243.238.164",
        123,
        "udp",
        "ntp",
        "National Institute of Information and Communications Technology",
        "JP",
    ),
    Destination(
        "ntp.nict.jp",
        "133.243.238.243",
        123,
        "udp",
        "ntp",
        "National Institute of Information and Communications Technology",
        "JP",
    ),
    Destination(
        "ntp.nict.jp",
        "133.243.238.244",
        123,
        "udp",
        "ntp",
        "National Institute of Information and Communications Technology",
        "JP",
    ),
    # the organisation's own resolvers
    Destination("", "10.10.0.53", 53, "udp", "dns", "", ""),
    Destination("", "10.10.0.54", 53, "udp", "dns", "", ""),
    # the gateway vendor's signature / rule / reputation services (fictional vendor, real AWS space)
    Destination("av-update.example-mailsec.com", "54.214.96.23", 443, "tcp", "ssl", "AMAZON-02", "US"),
    Destination("rules.example-mailsec.com", "54.214.97.140", 443, "tcp", "ssl", "AMAZON-02", "US"),
    Destination("reputation.example-mailsec.com", "54.199.64.77", 443, "tcp", "ssl", "AMAZON-02", "JP"),
    Destination("telemetry.example-mailsec.com", "54.214.98.9", 443, "tcp", "ssl", "AMAZON-02", "US"),
    # certificate revocation checks made by the gateway's TLS stack
    Destination("ocsp.digicert.com", "104.18.32.10", 80, "tcp", "http", "CLOUDFLARENET", "US"),
)

# Mail exchangers of hosted mail services partners use (Exchange Online Protection, Google).
EOP_MX_IPS: tuple[str, ...] = ("52.101.229.10", "52.101.229.11", "52.101.228.5", "52.101.229.12")
GOOGLE_MX_IPS: tuple[str, ...] = ("142.250.157.26", "172.253.118.27", "64.233.187.26", "74.125.200.27")


@cache
def groups() -> dict[str, tuple[Prefix, ...]]:
    """Prefixes by pool name, in table order (deterministic)."""
    out: dict[str, list[Prefix]] = {}
    for p in PREFIXES:
        out.setdefault(p.group, []).append(p)
    return {k: tuple(v) for k, v in out.items()}


def group(name: str) -> tuple[Prefix, ...]:
    """The prefixes of one pool; KeyError for an unknown pool (a typo must not pass silently)."""
    return groups()[name]


@cache
def _span(cidr: str) -> tuple[int, int]:
    net = ipaddress.IPv4Network(cidr)
    return int(net.network_address), net.num_addresses


def random_ip(cidr: str, rng: random.Random) -> str:
    """A host address in the block, never its network or broadcast address."""
    base, size = _span(cidr)
    v = base + (1 + int(rng.random() * (size - 2)) if size > 2 else 0)
    return f"{v >> 24}.{(v >> 16) & 255}.{(v >> 8) & 255}.{v & 255}"


@cache
def _index() -> tuple[tuple[int, int, Prefix], ...]:
    return tuple(sorted((*_span(p.cidr), p) for p in PREFIXES))


@cache
def _by_cidr() -> dict[str, Prefix]:
    return {p.cidr: p for p in PREFIXES}


def by_cidr(cidr: str) -> Prefix:
    """The table entry of a CIDR exactly as written in the table (KeyError otherwise)."""
    return _by_cidr()[cidr]


def prefix_of(ip: str) -> Prefix | None:
    """The table entry containing an address (linear scan of ~200 blocks: used off the hot path)."""
    value = int(ipaddress.IPv4Address(ip))
    for base, size, p in _index():
        if base <= value < base + size:
            return p
    return None


def network_at(p: Prefix, ip: str, net_class: str | None = None) -> Network:
    """A Network for an address of ``p`` (``net_class`` overrides, e.g. "office")."""
    return Network(ip, p.country, p.asn, p.as_org, net_class or p.net_class, p.city)
