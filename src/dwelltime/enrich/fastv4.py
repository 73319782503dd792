"""Vectorized enrichment of canonical IPv4 addresses with the bundled data.

The per-address path (parse with ``ipaddress``, geoip2fast lookup, City reader lookup, net
class rules) costs ~90 us an address; an M365 batch can hold 100k distinct addresses.  Here
the same answers come from numpy over arrays built once per process:

* geoip2fast's own sorted network lists, flattened (``np.searchsorted`` reproduces its two-level
  ``bisect``, including a miss when the address falls in a gap after its network, and its
  "private" country ids below 16);
* the City database's IPv4 range table (:mod:`dwelltime.enrich.mmdbtable`);
* per AS name, the AS number and both AS-based verdicts (memoised per name on first use);
* the IANA special ranges, the user's IPv4 CIDRs and the Tor exit list as integer arrays.

Only strings already in canonical dotted-quad form take this path (for them the text *is* the
canonical address); anything else -- IPv6, ports, brackets, garbage -- goes through the
per-address path, and ``tests/enrich/test_enrich_fastv4.py`` checks both agree.  The build
checks the invariants its semantics rely on (sorted lists, chunk heads, prefix lengths, name
formats) and returns None when they do not hold, which falls back to the per-address path.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import os
import tempfile
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from dwelltime.enrich.geoip import BundledResolver, _city_db_path, _country_code, _str
from dwelltime.enrich.ipaddr import _RANGES
from dwelltime.enrich.mmdbtable import LocationTable, _pack_strings, _unpack_strings, cache_dir, location_table
from dwelltime.enrich.netclass import NET_CLASSES, NetClassifier, asn_for_org

__all__ = ["IPV4_CANONICAL", "BundledV4", "V4Classes", "bundled_v4", "ipv4_ints"]

# Dotted quad without leading zeros, whitespace, port or zone: exactly str(IPv4Address(text)).
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
IPV4_CANONICAL = rf"^(?:{_OCTET}\.){{3}}{_OCTET}$"
_MAX_V4 = 1 << 32
_CLASS_CODE = {c: i for i, c in enumerate(NET_CLASSES)}
_NO_CLASS = -1


def ipv4_ints(texts: pa.Array) -> npt.NDArray[np.int64]:
    """Integers of canonical dotted quads (the caller has matched :data:`IPV4_CANONICAL`)."""
    if len(texts) == 0:
        return np.zeros(0, np.int64)
    parts = pc.split_pattern(texts, ".").flatten()
    octets = pc.cast(parts, pa.int64()).to_numpy(zero_copy_only=False).reshape(-1, 4)
    out: npt.NDArray[np.int64] = (octets[:, 0] << 24) | (octets[:, 1] << 16) | (octets[:, 2] << 8) | octets[:, 3]
    return out


@dataclass
class BundledV4:
    """The bundled data as arrays; see the module docstring.  Shared by every Enricher."""

    net_first: npt.NDArray[np.uint32]  # geoip2fast country networks (IPv4 part, sorted)
    net_last: npt.NDArray[np.uint32]
    net_country: npt.NDArray[np.int32]  # index into codes, -1 for a code _country_code rejects
    net_private: npt.NDArray[np.bool_]  # country id < 16: geoip2fast's special/unknown entries
    asn_first: npt.NDArray[np.uint32]
    asn_last: npt.NDArray[np.uint32]  # geoip2fast only checks AS gaps in its IPv4-only files
    asn_name: npt.NDArray[np.int32]  # index into orgs (the name table), -1 for no name
    codes: list[str]
    orgs: list[str | None]
    org_asn: npt.NDArray[np.int64]
    org_has_asn: npt.NDArray[np.bool_]
    city: LocationTable
    city_country: npt.NDArray[np.int32]  # location -> index into codes, -2 if not among them
    codes_arr: pa.Array = field(init=False)
    orgs_arr: pa.Array = field(init=False)
    cities_arr: pa.Array = field(init=False)

    def __post_init__(self) -> None:
        # Each with a trailing null, the target of index -1 remapped to len().
        self.codes_arr = pa.array([*self.codes, None], pa.string())
        self.orgs_arr = pa.array([*self.orgs, None], pa.string())
        self.cities_arr = pa.array([*self.city.city, None], pa.string())

    def nbytes(self) -> int:
        """Approximate memory held (arrays and strings), for reports."""
        arrays: tuple[npt.NDArray[Any], ...] = (
            self.net_first,
            self.net_last,
            self.net_country,
            self.net_private,
            self.asn_first,
            self.asn_last,
            self.asn_name,
            self.org_asn,
            self.org_has_asn,
            self.city_country,
        )
        arrow: int = self.codes_arr.nbytes + self.orgs_arr.nbytes + self.cities_arr.nbytes
        return sum(int(a.nbytes) for a in arrays) + arrow + self.city.nbytes()


_LOCK = threading.Lock()
_STATE: dict[str, BundledV4 | None] = {}


def bundled_v4(resolver: BundledResolver) -> BundledV4 | None:
    """The arrays for the bundled data (loaded on first use, once per process); None if unusable.

    Building them from geoip2fast's lists takes ~2 s (unpickling its tables, flattening and
    checking millions of entries), paid by every ingest process; so the result is cached per
    machine beside the City table (:func:`dwelltime.enrich.mmdbtable.cache_dir`), keyed by the
    data files it derives from, and a later process loads it in a few tens of milliseconds.
    """
    with _LOCK:
        if "v4" not in _STATE:
            key = _cache_key()
            data = _load_cached(key) if key is not None else None
            if data is None:
                data = _build(resolver)
                if data is not None and key is not None:
                    _save_cached(key, data)
            _STATE["v4"] = data
        return _STATE["v4"]


# --- per-machine cache ---------------------------------------------------------------------

#: Bumped whenever the cached layout or the meaning of its arrays changes.
_CACHE_FORMAT = 1
_CACHED_ARRAYS = (
    "net_first",
    "net_last",
    "net_country",
    "net_private",
    "asn_first",
    "asn_last",
    "asn_name",
    "org_asn",
    "org_has_asn",
    "city_country",
)


def _cache_key() -> str | None:
    """A name that changes whenever an input of :func:`_build` does (data files or curated lists)."""
    from importlib import resources

    from dwelltime.enrich import geoip, netclass

    try:
        g2f = Path(str(resources.files("geoip2fast").joinpath(geoip._GEOIP2FAST_FILE)))
        inputs = [g2f, _city_db_path(), *sorted(Path(str(netclass._data_path("x"))).parent.glob("net_*.csv"))]
        digest = hashlib.sha256(str(_CACHE_FORMAT).encode())
        for path in inputs:
            stat = path.stat()
            digest.update(f"{path}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    except OSError:
        return None
    return f"bundled-v4-{digest.hexdigest()[:24]}.npz"


def _load_cached(key: str) -> BundledV4 | None:
    path = cache_dir() / key
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {name: z[name] for name in _CACHED_ARRAYS}
            codes = _unpack_strings(z["codes_blob"], z["codes_off"])
            org_names = _unpack_strings(z["orgs_blob"], z["orgs_off"])
            org_known = z["orgs_known"].astype(np.bool_, copy=False)
    except (OSError, KeyError, ValueError, UnicodeDecodeError, EOFError, zipfile.BadZipFile):
        return None
    if len(org_names) != len(org_known) or len(arrays["org_asn"]) != len(org_names):
        return None
    city = location_table(_city_db_path())
    if len(arrays["city_country"]) != len(city.country):
        return None
    orgs = [name if known else None for name, known in zip(org_names, org_known, strict=True)]
    return BundledV4(
        net_first=arrays["net_first"].astype(np.uint32, copy=False),
        net_last=arrays["net_last"].astype(np.uint32, copy=False),
        net_country=arrays["net_country"].astype(np.int32, copy=False),
        net_private=arrays["net_private"].astype(np.bool_, copy=False),
        asn_first=arrays["asn_first"].astype(np.uint32, copy=False),
        asn_last=arrays["asn_last"].astype(np.uint32, copy=False),
        asn_name=arrays["asn_name"].astype(np.int32, copy=False),
        codes=codes,
        orgs=orgs,
        org_asn=arrays["org_asn"].astype(np.int64, copy=False),
        org_has_asn=arrays["org_has_asn"].astype(np.bool_, copy=False),
        city=city,
        city_country=arrays["city_country"].astype(np.int32, copy=False),
    )


def _save_cached(key: str, data: BundledV4) -> None:
    directory = cache_dir()
    codes_blob, codes_off = _pack_strings(data.codes)
    orgs_blob, orgs_off = _pack_strings([o or "" for o in data.orgs])
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("bundled-v4-*.npz"):
            stale.unlink(missing_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=key, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                np.savez(
                    handle,
                    codes_blob=codes_blob,
                    codes_off=codes_off,
                    orgs_blob=orgs_blob,
                    orgs_off=orgs_off,
                    orgs_known=np.array([o is not None for o in data.orgs], np.bool_),
                    **{name: getattr(data, name) for name in _CACHED_ARRAYS},
                )
            Path(tmp).replace(directory / key)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        return  # a read-only home or a full disk only costs the rebuild next time


def _flat(chunks: list[list[Any]]) -> list[Any]:
    return list(itertools.chain.from_iterable(chunks))


def _build(resolver: BundledResolver) -> BundledV4 | None:
    g2f = resolver.loaded()
    import geoip2fast.geoip2fast as m  # geoip2fast keeps the loaded lists in module globals

    if not (g2f.country and g2f.asn and not g2f.city):
        return None
    index, firsts = m.mainIndex, m.mainListFirstIP
    a_index, a_firsts = m.mainIndexASN, m.mainListFirstIPASN
    if [c[0] for c in firsts] != list(index) or [c[0] for c in a_firsts] != list(a_index):
        return None  # the two-level bisect equals one flat bisect only if chunk heads are the index
    first, netlen, cc = _flat(firsts), _flat(m.mainListNetlength), _flat(m.mainListIDCountryCodes)
    a_first, a_netlen, a_id = _flat(a_firsts), _flat(m.mainListNetlengthASN), _flat(m.mainListIDASN)
    names_country: list[str] = list(m.mainListNamesCountry)
    names_asn: list[str] = list(m.mainListNamesASN)
    n4, a4 = bisect.bisect_left(first, _MAX_V4), bisect.bisect_left(a_first, _MAX_V4)
    ok = (
        n4 > 0
        and a4 > 0
        and first[0] == 0
        and a_first[0] == 0
        and all(x < y for x, y in itertools.pairwise(first))
        and all(x < y for x, y in itertools.pairwise(a_first))
        and all(0 <= n <= 32 for n in netlen[:n4])
        and all(0 <= n <= 32 for n in a_netlen[:a4])
        and all(0 <= c < len(names_country) for c in cc[:n4])
        and all(0 <= i < len(names_asn) for i in a_id[:a4])
        and all(name.count(":") == 1 for name in names_country)
    )
    if not ok:
        return None

    net_first = np.array(first[:n4], np.int64)
    net_last = net_first + (np.int64(1) << (32 - np.array(netlen[:n4], np.int64))) - 1
    cc_ids = np.array(cc[:n4], np.int32)
    codes: list[str] = []
    code_index: dict[str, int] = {}
    country_of_id = np.full(len(names_country), -1, np.int32)
    for i, name in enumerate(names_country):
        code = _country_code(name.split(":")[0])
        if code is not None:
            country_of_id[i] = code_index.setdefault(code, len(codes))
            if len(codes) < len(code_index):
                codes.append(code)
    asn_first = np.array(a_first[:a4], np.int64)
    if g2f.ipv6:
        # In a file with IPv6 data geoip2fast sizes every AS network as an IPv6 one
        # (2**(128-netlen) addresses), so an IPv4 address never falls in an AS gap.
        asn_last = np.full(a4, _MAX_V4 - 1, np.int64)
    else:
        asn_last = asn_first + (np.int64(1) << (32 - np.array(a_netlen[:a4], np.int64))) - 1
    orgs: list[str | None] = []
    for raw in names_asn:
        org = _str(raw)
        orgs.append(None if org == "<unknown>" else org)
    org_asn_list = [asn_for_org(o) if o else None for o in orgs]
    city = location_table(_city_db_path())
    city_country = np.array([code_index.get(c, -2) for c in city.country], np.int32)
    return BundledV4(
        net_first=net_first.astype(np.uint32),
        net_last=net_last.astype(np.uint32),
        net_country=country_of_id[cc_ids],
        net_private=cc_ids < 16,
        asn_first=asn_first.astype(np.uint32),
        asn_last=asn_last.astype(np.uint32),
        asn_name=np.array(a_id[:a4], np.int32),
        codes=codes,
        orgs=orgs,
        org_asn=np.array([a if a is not None else 0 for a in org_asn_list], np.int64),
        org_has_asn=np.array([a is not None for a in org_asn_list], np.bool_),
        city=city,
        city_country=city_country,
    )


class V4Classes:
    """One classifier's rules as arrays, with the AS-based verdicts memoised per AS name."""

    def __init__(self, classifier: NetClassifier, data: BundledV4) -> None:
        self._classifier = classifier
        self.data = data
        starts, ends, _, kinds = _RANGES[4]
        self._special = [(s, e, _CLASS_CODE[k]) for s, e, k in sorted(zip(starts, ends, kinds, strict=True))]
        self._cidrs: list[tuple[int, npt.NDArray[np.int64], npt.NDArray[np.int8]]] = []
        for plen, table in classifier.ipv4_cidr_tables():
            nets = sorted(table)
            self._cidrs.append(
                (plen, np.array(nets, np.int64), np.array([_CLASS_CODE[table[n][0]] for n in nets], np.int8))
            )
        self._tor = np.unique(np.array(classifier.ipv4_tor_exits(), np.int64))
        n = len(data.orgs)
        self._done = np.zeros(n, np.bool_)
        self._user_as = np.full(n, _NO_CLASS, np.int8)
        self._listed = np.full(n, _CLASS_CODE["unknown"], np.int8)
        self._lock = threading.Lock()

    def _as_classes(self, names: npt.NDArray[np.int32]) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int8]]:
        """(user-AS class or -1, listed class) per AS name index (-1: no name -> unknown)."""
        data = self.data
        with self._lock:
            todo = np.unique(names[names >= 0])
            todo = todo[~self._done[todo]]
            for i in todo.tolist():
                asn = int(data.org_asn[i]) if data.org_has_asn[i] else None
                user_as, listed = self._classifier.as_verdicts(asn, data.orgs[i])
                self._user_as[i] = _NO_CLASS if user_as is None else _CLASS_CODE[user_as.net_class]
                self._listed[i] = _CLASS_CODE[listed.net_class]
                self._done[i] = True
        has = names >= 0
        safe = np.where(has, names, 0)
        user_as_cls = np.where(has, self._user_as[safe], np.int8(_NO_CLASS)).astype(np.int8)
        listed_cls = np.where(has, self._listed[safe], np.int8(_CLASS_CODE["unknown"])).astype(np.int8)
        return user_as_cls, listed_cls

    def special(self, ips: npt.NDArray[np.int64]) -> npt.NDArray[np.int8]:
        """Private/reserved class code per address, -1 for ordinary addresses."""
        out = np.full(len(ips), _NO_CLASS, np.int8)
        for start, end, code in self._special:  # ascending starts: a nested block wins
            out[(ips >= start) & (ips <= end)] = code
        return out

    def classify(
        self, ips: npt.NDArray[np.int64], special: npt.NDArray[np.int8], names: npt.NDArray[np.int32]
    ) -> npt.NDArray[np.int8]:
        """Class codes with NetClassifier.classify's precedence (names: -1 where geo is empty)."""
        user_as_cls, out = self._as_classes(names)
        out = out.copy()
        if len(self._tor):
            pos = np.minimum(np.searchsorted(self._tor, ips), len(self._tor) - 1)
            out[self._tor[pos] == ips] = _CLASS_CODE["tor"]
        out = np.where(user_as_cls >= 0, user_as_cls, out).astype(np.int8)
        for plen, nets, codes in self._cidrs:  # shortest first, so the longest prefix wins
            masked = ips & ((_MAX_V4 - 1) ^ ((1 << (32 - plen)) - 1))
            pos = np.minimum(np.searchsorted(nets, masked), len(nets) - 1)
            hit = nets[pos] == masked
            out[hit] = codes[pos[hit]]
        return np.where(special >= 0, special, out).astype(np.int8)


_CLASSES_ARR = pa.array(NET_CLASSES, pa.string())


def enrich_ipv4(data: BundledV4, classes: V4Classes, ips: npt.NDArray[np.int64]) -> list[pa.Array]:
    """The seven enrichment columns (ENRICHMENT_COLUMNS order) for canonical IPv4 addresses."""
    # Sorted queries make the binary searches walk the tables in order (cache-friendly,
    # about 5x faster for 100k addresses); the per-address indices are put back at the end.
    order = np.argsort(ips, kind="stable")
    country, loc, names, net_class = _indices(data, classes, ips[order].astype(np.uint32))
    back = np.empty_like(order)
    back[order] = np.arange(len(order))
    country, loc, names, net_class = country[back], loc[back], names[back], net_class[back]
    tab = data.city
    safe_loc = np.maximum(loc, 0)
    has_loc = loc >= 0
    safe_names = np.maximum(names, 0)
    has_asn = (names >= 0) & data.org_has_asn[safe_names]

    def pick(values: pa.Array, idx: npt.NDArray[Any]) -> pa.Array:
        return values.take(pa.array(np.where(idx >= 0, idx, len(values) - 1)))

    return [
        pick(data.codes_arr, country),
        pick(data.cities_arr, loc),
        pa.array(tab.lat[safe_loc], pa.float64(), mask=~(has_loc & tab.has_lat[safe_loc])),
        pa.array(tab.lon[safe_loc], pa.float64(), mask=~(has_loc & tab.has_lon[safe_loc])),
        pa.array(data.org_asn[safe_names], pa.int64(), mask=~has_asn),
        pick(data.orgs_arr, names),
        _CLASSES_ARR.take(pa.array(net_class)),
    ]


def _indices(
    data: BundledV4, classes: V4Classes, ips: npt.NDArray[np.uint32]
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], npt.NDArray[np.int32], npt.NDArray[np.int8]]:
    """(country code index, location index, AS name index, class code) per address; -1 = null."""
    wide = ips.astype(np.int64)
    special = classes.special(wide)
    pos = np.searchsorted(data.net_first, ips, side="right") - 1  # net_first[0] == 0: pos >= 0
    found = ips <= data.net_last[pos]
    geo = found & ~data.net_private[pos] & (special < 0)
    country = np.where(geo, data.net_country[pos], -1)
    apos = np.searchsorted(data.asn_first, ips, side="right") - 1
    names = np.where(geo & (ips <= data.asn_last[apos]), data.asn_name[apos], -1)
    loc = data.city.lookup(ips)
    safe_loc = np.maximum(loc, 0)
    has_loc = (loc >= 0) & (country >= 0) & (data.city_country[safe_loc] == country)
    loc = np.where(has_loc, loc, -1)
    net_class = classes.classify(wide, special, names)
    return country.astype(np.int32), loc.astype(np.int32), names.astype(np.int32), net_class
