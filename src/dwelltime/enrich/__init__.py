"""Offline IP enrichment: country, city, coordinates, AS and network class for ``src_ip``.

Everything comes from data installed with dwelltime or supplied by the user; nothing is
fetched at run time.  See :func:`enrich_info` for what data is in force and where it is from.
"""

from dwelltime.enrich.enrich import Enricher, enrich_info
from dwelltime.enrich.geoip import BundledResolver, ChainResolver, GeoInfo, GeoResolver, MmdbResolver
from dwelltime.enrich.ipaddr import canonical_ip, canonical_ips
from dwelltime.enrich.netclass import NET_CLASSES, NetClassifier, Verdict

__all__ = [
    "NET_CLASSES",
    "BundledResolver",
    "ChainResolver",
    "Enricher",
    "GeoInfo",
    "GeoResolver",
    "MmdbResolver",
    "NetClassifier",
    "Verdict",
    "canonical_ip",
    "canonical_ips",
    "enrich_info",
]
