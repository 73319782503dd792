"""Where an address is and whose network it belongs to, from local databases only.

Nothing is downloaded: dwelltime runs on incident-response machines that are often offline,
and an enrichment that changed with whatever a remote service said today would make stored
data irreproducible.  Two kinds of resolver:

* :class:`BundledResolver` -- the data that ships in installed packages: country and AS
  organisation from geoip2fast (GeoLite2-derived, June 2024), city and coordinates from the
  2018 GeoLite2-City database in maxminddb-geolite2, and AS numbers from dwelltime's curated
  name table (the geoip2fast data has AS names only).
* :class:`MmdbResolver` -- databases the user supplies (MaxMind GeoIP2/GeoLite2, IPinfo, DB-IP;
  the type is read from the file's metadata), several files at once (e.g. City + ASN).

:class:`ChainResolver` layers them: the first resolver that knows a field wins.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import maxminddb

from dwelltime.enrich.netclass import ListInfo, asn_for_org

__all__ = [
    "EMPTY",
    "BundledResolver",
    "ChainResolver",
    "GeoInfo",
    "GeoResolver",
    "MmdbResolver",
    "bundled_resolver",
]

_GEOIP2FAST_FILE = "geoip2fast-asn-ipv6.dat.gz"


@dataclass(frozen=True, slots=True)
class GeoInfo:
    """What the databases say about one address; None where they say nothing."""

    country: str | None = None
    city: str | None = None
    lat: float | None = None
    lon: float | None = None
    asn: int | None = None
    as_org: str | None = None


EMPTY = GeoInfo()


class GeoResolver(Protocol):
    """Looks up canonical, globally routed addresses (callers filter private/reserved first)."""

    def lookup(self, ip: str) -> GeoInfo: ...

    def provenance(self) -> list[ListInfo]: ...


def _country_code(value: object) -> str | None:
    if isinstance(value, str) and len(value) == 2 and value.isalpha() and value.isupper():
        return value
    return None


def _float(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _epoch_date(epoch: int) -> str:
    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC).date().isoformat()


class BundledResolver:
    """Country + AS organisation from geoip2fast; city/coordinates from the 2018 City database.

    The City database is six years older than the country data, and address blocks move
    between organisations and countries (IPv4 transfers, cloud expansion).  Its city is only
    used when its country agrees with geoip2fast's current one: a disagreement means the block
    changed hands, and a stale city in the wrong country would invent impossible travel.  It is
    also only used when it names a city: a record without one carries a country centroid, which
    is no location at all.  Loading takes about a second and some 200 MB, so it is deferred to
    the first lookup and done once per process (geoip2fast keeps its tables in module globals,
    so one loaded instance is all a process can have anyway).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._g2f: Any = None
        self._city: Any = None

    def _load(self) -> None:
        with self._lock:
            if self._g2f is not None:
                return
            from geoip2fast import GeoIP2Fast  # deferred: importing loads nothing, but keep CLI start fast

            path = Path(str(resources.files("geoip2fast").joinpath(_GEOIP2FAST_FILE)))
            g2f = GeoIP2Fast(geoip2fast_data_file=str(path))
            self._city = maxminddb.open_database(str(_city_db_path()))
            self._g2f = g2f

    def loaded(self) -> Any:
        """The loaded geoip2fast instance (its lists are what the vectorized path searches)."""
        if self._g2f is None:
            self._load()
        return self._g2f

    def lookup(self, ip: str) -> GeoInfo:
        if self._g2f is None:
            self._load()
        r = self._g2f.lookup(ip)
        if r.is_private:
            return EMPTY
        country = _country_code(r.country_code)
        org = _str(r.asn_name)
        if org == "<unknown>":
            org = None
        city = lat = lon = None
        rec = self._city.get(ip)
        if isinstance(rec, Mapping) and country is not None:
            loc = _extract(rec)
            if loc.country == country and loc.city is not None:
                city, lat, lon = loc.city, loc.lat, loc.lon
        return GeoInfo(country, city, lat, lon, asn_for_org(org) if org else None, org)

    def provenance(self) -> list[ListInfo]:
        city_meta = maxminddb.open_database(str(_city_db_path())).metadata()
        return [
            ListInfo(
                "geoip2fast",
                "country+as-org",
                _GEOIP2FAST_FILE,
                "geoip2fast 1.2.2 (MaxMind GeoLite2 Country+ASN, CC BY-SA 4.0)",
                "2024-06-18",
                0,
            ),
            ListInfo(
                "geolite2-city-2018",
                "city",
                _city_db_path().name,
                f"maxminddb-geolite2 2018.703 ({city_meta.database_type}); used only where its country agrees",
                _epoch_date(city_meta.build_epoch),
                city_meta.node_count,
            ),
        ]


def _city_db_path() -> Path:
    return Path(str(resources.files("_maxminddb_geolite2").joinpath("GeoLite2-City.mmdb")))


def _extract(rec: Mapping[str, Any]) -> GeoInfo:
    """Map a record of any supported vendor layout onto GeoInfo.

    MaxMind GeoIP2/GeoLite2 and DB-IP use nested maps (``country.iso_code``,
    ``city.names.en``, ``location.latitude``, ``autonomous_system_number``); IPinfo uses flat
    keys (``country`` as a code, or ``country_code`` in IPinfo Lite where ``country`` is the
    name; ``city``; ``latitude``/``lat``; ``asn`` as "AS15169"; ``as_name``).
    """
    country_v = rec.get("country")
    if isinstance(country_v, Mapping):
        country = _country_code(country_v.get("iso_code"))
    else:
        country = _country_code(rec.get("country_code")) or _country_code(country_v)
    if country is None:
        reg = rec.get("registered_country")
        if isinstance(reg, Mapping):
            country = _country_code(reg.get("iso_code"))
    city_v = rec.get("city")
    if isinstance(city_v, Mapping):
        names = city_v.get("names")
        city = _str(names.get("en")) if isinstance(names, Mapping) else None
    else:
        city = _str(city_v)
    loc = rec.get("location")
    if isinstance(loc, Mapping):
        lat, lon = _float(loc.get("latitude")), _float(loc.get("longitude"))
    else:
        lat = _float(rec.get("latitude", rec.get("lat")))
        lon = _float(rec.get("longitude", rec.get("lng", rec.get("lon"))))
    asn_v = rec.get("autonomous_system_number", rec.get("asn"))
    asn: int | None = None
    if isinstance(asn_v, int) and not isinstance(asn_v, bool):
        asn = asn_v
    elif isinstance(asn_v, str) and asn_v.upper().removeprefix("AS").isdigit():
        asn = int(asn_v.upper().removeprefix("AS"))
    org = _str(rec.get("autonomous_system_organization")) or _str(rec.get("as_name"))
    return GeoInfo(country, city, lat, lon, asn, org)


_FIELD_GROUPS = ("country", "location", "asn")


def _detect_provides(database_type: str) -> frozenset[str]:
    """Which field groups a database is authoritative for, from its metadata database_type.

    Known names: GeoLite2-/GeoIP2-City, -Country, -ASN, GeoIP2-ISP, GeoIP2-Enterprise;
    DBIP-City-Lite, DBIP-Country-Lite, DBIP-ASN-Lite (compat=GeoLite2-ASN); IPinfo
    "ipinfo country_asn.mmdb", "ipinfo standard_location.mmdb", "ipinfo lite.mmdb".  An unknown
    type is trusted for whatever its records carry.
    """
    t = database_type.lower()
    provides: set[str] = set()
    if "asn" in t or "isp" in t or "lite.mmdb" in t:
        provides.add("asn")
    if "city" in t or "location" in t or "enterprise" in t:
        provides.update(("country", "location"))
    if "country" in t or "lite.mmdb" in t:
        provides.add("country")
    return frozenset(provides) if provides else frozenset(_FIELD_GROUPS)


def _mask(info: GeoInfo, provides: frozenset[str]) -> GeoInfo:
    keep_country = "country" in provides
    keep_loc = "location" in provides
    keep_asn = "asn" in provides
    return GeoInfo(
        info.country if keep_country else None,
        info.city if keep_loc else None,
        info.lat if keep_loc else None,
        info.lon if keep_loc else None,
        info.asn if keep_asn else None,
        info.as_org if keep_asn else None,
    )


class MmdbResolver:
    """User-supplied .mmdb files, merged in the order given (earlier files win per field)."""

    def __init__(self, paths: Sequence[Path | str]) -> None:
        if not paths:
            raise ValueError("MmdbResolver needs at least one .mmdb path")
        self._dbs: list[tuple[Any, frozenset[str], ListInfo]] = []
        for p in paths:
            path = Path(p)
            reader = maxminddb.open_database(str(path))
            meta = reader.metadata()
            provides = _detect_provides(meta.database_type)
            info = ListInfo(
                path.stem,
                "mmdb:" + "+".join(g for g in _FIELD_GROUPS if g in provides),
                str(path),
                meta.database_type,
                _epoch_date(meta.build_epoch),
                meta.node_count,
            )
            self._dbs.append((reader, provides, info))

    def lookup(self, ip: str) -> GeoInfo:
        found = [
            _mask(_extract(rec), provides)
            for reader, provides, _ in self._dbs
            if isinstance(rec := reader.get(ip), Mapping)
        ]
        return merge(found)

    def provenance(self) -> list[ListInfo]:
        return [info for _, _, info in self._dbs]


def merge(infos: Sequence[GeoInfo]) -> GeoInfo:
    """First-wins merge that keeps each group coherent.

    Country: the first known.  Location (city, lat, lon): from the first source that has one
    and does not contradict that country.  AS (number, organisation): from the first source
    that has either, never mixing a number from one database with a name from another.
    """
    if not infos:
        return EMPTY
    if len(infos) == 1:
        return infos[0]
    country = next((i.country for i in infos if i.country), None)
    loc = next(
        (i for i in infos if (i.city or i.lat is not None) and (i.country is None or i.country == country)),
        EMPTY,
    )
    asi = next((i for i in infos if i.asn is not None or i.as_org), EMPTY)
    return GeoInfo(country, loc.city, loc.lat, loc.lon, asi.asn, asi.as_org)


class ChainResolver:
    """Several resolvers, the first knowing a field winning (user databases before bundled)."""

    def __init__(self, resolvers: Sequence[GeoResolver]) -> None:
        self._resolvers = list(resolvers)

    def lookup(self, ip: str) -> GeoInfo:
        return merge([r.lookup(ip) for r in self._resolvers])

    def provenance(self) -> list[ListInfo]:
        return [p for r in self._resolvers for p in r.provenance()]


_BUNDLED: BundledResolver | None = None
_BUNDLED_LOCK = threading.Lock()


def bundled_resolver() -> BundledResolver:
    """The process-wide bundled resolver (its data loads on first lookup)."""
    global _BUNDLED
    with _BUNDLED_LOCK:
        if _BUNDLED is None:
            _BUNDLED = BundledResolver()
        return _BUNDLED
