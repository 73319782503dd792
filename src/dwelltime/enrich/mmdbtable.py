"""A MaxMind DB's IPv4 locations as a flat, sorted range table (for vectorized lookups).

Looking up a hundred thousand addresses one by one in the bundled City database costs about a
second (the reader decodes every record in full, names in eight languages included), while
``np.searchsorted`` over a sorted table of range starts answers them in milliseconds.  So the
database's IPv4 search tree is flattened once into ``starts`` (first address of each network)
and ``loc`` (index of its location, -1 for none), merged where neighbours share a location.

Only what :func:`dwelltime.enrich.geoip._extract` reads for country/city/coordinates is decoded
from each record (its country, city and location keys, through the same ``_extract``), so a
table answer equals the per-address answer exactly -- the tests compare the two.  A location
without a city or a country is stored as -1: the bundled resolver uses a City record only when
it names a city in a known country.

Flattening the 2018 GeoLite2-City database (3.6M tree nodes, 450k distinct records) takes a few
seconds, so the result is cached under the user's cache directory, keyed by the database file's
size and modification time; the cache is derived from installed package data, never fetched.
Where the cache cannot be written the table is simply rebuilt once per process.
"""

from __future__ import annotations

import itertools
import os
import struct
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from dwelltime.enrich.geoip import _extract

__all__ = ["LocationTable", "cache_dir", "location_table"]

# Bumped whenever the cached layout or the meaning of its arrays changes.
_FORMAT = 1
_METADATA_MARKER = b"\xab\xcd\xefMaxMind.com"
_POINTER_BIAS = (0, 2048, 526336, 0)


@dataclass(frozen=True)
class LocationTable:
    """IPv4 ranges -> location.  ``loc[i]`` applies from ``starts[i]`` up to ``starts[i+1]-1``.

    Locations are de-duplicated (country, city, lat, lon) tuples; a coordinate the record
    lacks is NaN with its ``has_lat``/``has_lon`` flag False (NaN alone would be ambiguous).
    """

    starts: npt.NDArray[np.uint32]
    loc: npt.NDArray[np.int32]
    country: list[str]
    city: list[str]
    lat: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    has_lat: npt.NDArray[np.bool_]
    has_lon: npt.NDArray[np.bool_]

    def nbytes(self) -> int:
        """Approximate memory held, for reports."""
        arrays = (self.starts, self.loc, self.lat, self.lon, self.has_lat, self.has_lon)
        strings = sum(len(s) + 49 for s in self.country) + sum(len(s) + 49 for s in self.city)
        return sum(a.nbytes for a in arrays) + strings + 16 * (len(self.country) + len(self.city))

    def lookup(self, ips: npt.NDArray[np.uint32]) -> npt.NDArray[np.int32]:
        """Location index of each address (-1: none)."""
        if len(self.starts) == 0 or len(ips) == 0:
            return np.full(len(ips), -1, np.int32)
        pos = np.searchsorted(self.starts, ips, side="right") - 1
        out = self.loc[np.maximum(pos, 0)]
        return np.where(pos >= 0, out, np.int32(-1)).astype(np.int32, copy=False)


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/dwelltime`` or ``~/.cache/dwelltime``."""
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "dwelltime"


def location_table(db_path: Path, cache: Path | None = None, *, use_cache: bool = True) -> LocationTable:
    """The range table of ``db_path``, from the cache when it matches the file, else built."""
    st = db_path.stat()
    directory = cache if cache is not None else cache_dir()
    name = f"{db_path.stem}-ipv4-{st.st_size}-{st.st_mtime_ns}-v{_FORMAT}.npz"
    cached = directory / name
    if use_cache:
        table = _load(cached)
        if table is not None:
            return table
    table = build(db_path)
    if use_cache:
        _save(table, cached)
    return table


# --- cache ---------------------------------------------------------------------------------


def _pack_strings(values: list[str]) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    blobs = [v.encode("utf-8") for v in values]
    offsets = np.zeros(len(blobs) + 1, np.int64)
    np.cumsum([len(b) for b in blobs], out=offsets[1:])
    return np.frombuffer(b"".join(blobs), np.uint8), offsets


def _unpack_strings(blob: npt.NDArray[np.uint8], offsets: npt.NDArray[np.int64]) -> list[str]:
    raw = blob.tobytes()
    bounds = offsets.tolist()
    return [raw[a:b].decode("utf-8") for a, b in itertools.pairwise(bounds)]


def _save(table: LocationTable, path: Path) -> None:
    country_blob, country_off = _pack_strings(table.country)
    city_blob, city_off = _pack_strings(table.city)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(
                    fh,
                    starts=table.starts,
                    loc=table.loc,
                    country_blob=country_blob,
                    country_off=country_off,
                    city_blob=city_blob,
                    city_off=city_off,
                    lat=table.lat,
                    lon=table.lon,
                    has_lat=table.has_lat,
                    has_lon=table.has_lon,
                )
            Path(tmp).replace(path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        return  # a read-only home or a full disk only costs the rebuild next time


def _load(path: Path) -> LocationTable | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            table = LocationTable(
                starts=z["starts"].astype(np.uint32, copy=False),
                loc=z["loc"].astype(np.int32, copy=False),
                country=[sys.intern(c) for c in _unpack_strings(z["country_blob"], z["country_off"])],
                city=_unpack_strings(z["city_blob"], z["city_off"]),
                lat=z["lat"].astype(np.float64, copy=False),
                lon=z["lon"].astype(np.float64, copy=False),
                has_lat=z["has_lat"].astype(np.bool_, copy=False),
                has_lon=z["has_lon"].astype(np.bool_, copy=False),
            )
    except (OSError, KeyError, ValueError, UnicodeDecodeError, EOFError):
        return None
    n = len(table.country)
    sizes_ok = len(table.city) == n and all(len(a) == n for a in (table.lat, table.lon, table.has_lat, table.has_lon))
    loc_ok = len(table.loc) == len(table.starts) and (len(table.loc) == 0 or int(table.loc.max()) < n)
    return table if sizes_ok and loc_ok else None


# --- building ------------------------------------------------------------------------------


def build(db_path: Path) -> LocationTable:
    """Flatten the IPv4 part of a MaxMind DB's search tree and decode each distinct record once."""
    data = db_path.read_bytes()
    meta_at = data.rfind(_METADATA_MARKER)
    if meta_at < 0:
        raise ValueError(f"{db_path}: not a MaxMind DB (no metadata marker)")
    meta, _ = _Decoder(data, meta_at + len(_METADATA_MARKER)).decode(0)
    if not isinstance(meta, dict):
        raise ValueError(f"{db_path}: malformed metadata")
    node_count = int(meta["node_count"])
    record_size = int(meta["record_size"])
    tree_size = node_count * record_size // 4
    left, right = _node_records(data, node_count, record_size)
    starts, records = _walk_ipv4(left, right, node_count, int(meta["ip_version"]))

    decoder = _Decoder(data, tree_size + 16)
    key_of: dict[tuple[str, str, float | None, float | None], int] = {}
    countries: list[str] = []
    cities: list[str] = []
    lats: list[float | None] = []
    lons: list[float | None] = []
    distinct, inverse = np.unique(records, return_inverse=True)
    loc_of_record = np.full(len(distinct), -1, np.int32)
    for i, rec in enumerate(distinct.tolist()):
        if rec <= node_count:  # node_count itself: no data for this network
            continue
        fields = decoder.record_fields(rec - node_count - 16)
        if fields is None:
            continue
        geo = _extract(fields)
        if geo.country is None or geo.city is None:
            continue
        key = (geo.country, geo.city, geo.lat, geo.lon)
        idx = key_of.get(key)
        if idx is None:
            idx = key_of[key] = len(countries)
            countries.append(sys.intern(geo.country))
            cities.append(geo.city)
            lats.append(geo.lat)
            lons.append(geo.lon)
        loc_of_record[i] = idx
    loc = loc_of_record[inverse.reshape(-1)]
    keep = np.ones(len(loc), np.bool_)
    keep[1:] = loc[1:] != loc[:-1]
    return LocationTable(
        starts=starts[keep].astype(np.uint32),
        loc=loc[keep],
        country=countries,
        city=cities,
        lat=np.array([np.nan if v is None else v for v in lats], np.float64),
        lon=np.array([np.nan if v is None else v for v in lons], np.float64),
        has_lat=np.array([v is not None for v in lats], np.bool_),
        has_lon=np.array([v is not None for v in lons], np.bool_),
    )


def _node_records(data: bytes, node_count: int, record_size: int) -> tuple[npt.NDArray[np.int64], ...]:
    """Left and right record of every search-tree node (24-, 28- and 32-bit records)."""
    width = record_size // 4
    raw = np.frombuffer(data, np.uint8, count=node_count * width).reshape(node_count, width)

    def col(i: int) -> npt.NDArray[np.int64]:
        return raw[:, i].astype(np.int64)

    if record_size == 24:
        left = (col(0) << 16) | (col(1) << 8) | col(2)
        right = (col(3) << 16) | (col(4) << 8) | col(5)
    elif record_size == 28:
        mid = col(3)
        left = ((mid & 0xF0) << 20) | (col(0) << 16) | (col(1) << 8) | col(2)
        right = ((mid & 0x0F) << 24) | (col(4) << 16) | (col(5) << 8) | col(6)
    elif record_size == 32:
        left = (col(0) << 24) | (col(1) << 16) | (col(2) << 8) | col(3)
        right = (col(4) << 24) | (col(5) << 16) | (col(6) << 8) | col(7)
    else:
        raise ValueError(f"unsupported record size {record_size}")
    return left, right


def _walk_ipv4(
    left: npt.NDArray[np.int64], right: npt.NDArray[np.int64], node_count: int, ip_version: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Every IPv4 network of the tree as (first address, record), sorted by address.

    An IPv6 tree keeps IPv4 under ::/96, reached by 96 left turns from the root (as the
    reference reader does).  Level by level, each frontier node splits into its two children;
    a child that is not a node (data, or node_count for "no data") ends a network there.
    """
    node = 0
    if ip_version == 6:
        for _ in range(96):
            if node >= node_count:
                break
            node = int(left[node])
    if node >= node_count:  # the whole IPv4 space is one record
        return np.zeros(1, np.int64), np.array([node], np.int64)
    nodes = np.array([node], np.int64)
    prefixes = np.zeros(1, np.int64)
    starts: list[npt.NDArray[np.int64]] = []
    records: list[npt.NDArray[np.int64]] = []
    for depth in range(32):
        children = np.concatenate([left[nodes], right[nodes]])
        values = np.concatenate([prefixes, prefixes | (1 << (31 - depth))])
        leaf = children >= node_count
        starts.append(values[leaf])
        records.append(children[leaf])
        nodes, prefixes = children[~leaf], values[~leaf]
        if len(nodes) == 0:
            break
    if len(nodes):
        raise ValueError("search tree deeper than 32 bits below the IPv4 root")
    all_starts = np.concatenate(starts)
    order = np.argsort(all_starts, kind="stable")
    return all_starts[order], np.concatenate(records)[order]


class _Decoder:
    """The MaxMind DB data-section format (spec 2.0), decoding only what is asked for.

    Records are decoded through a *projection* (key -> sub-projection, None meaning "all of
    it"): of a City record's eight-language name maps, postal codes and subdivisions only the
    handful of values ``_extract`` reads are materialised, and everything else is skipped.
    Shared sub-records and key strings are reached through pointers, so pointer targets are
    memoised (per projection): each is decoded once for the whole database.
    """

    def __init__(self, data: bytes, base: int) -> None:
        self._data = data
        self._base = base
        self._memo: dict[tuple[int, int], Any] = {}

    def _ctrl(self, offset: int) -> tuple[int, int, int]:
        """(type, size or pointer ctrl, offset after the control bytes), offsets data-relative."""
        d = self._data
        pos = self._base + offset
        ctrl = d[pos]
        kind = ctrl >> 5
        pos += 1
        if kind == 1:
            return 1, ctrl, pos - self._base
        if kind == 0:
            kind = 7 + d[pos]
            pos += 1
        size = ctrl & 0x1F
        if size == 29:
            size = 29 + d[pos]
            pos += 1
        elif size == 30:
            size = 285 + int.from_bytes(d[pos : pos + 2], "big")
            pos += 2
        elif size == 31:
            size = 65821 + int.from_bytes(d[pos : pos + 3], "big")
            pos += 3
        return kind, size, pos - self._base

    def _pointer(self, ctrl: int, offset: int) -> tuple[int, int]:
        """(target, offset after the pointer)."""
        n = ((ctrl >> 3) & 0x3) + 1
        raw = int.from_bytes(self._data[self._base + offset : self._base + offset + n], "big")
        if n < 4:
            raw = ((ctrl & 0x7) << (8 * n)) | raw
        return raw + _POINTER_BIAS[n - 1], offset + n

    def decode(self, offset: int, proj: _Projection | None = None) -> tuple[Any, int]:
        """The value at ``offset`` (restricted to ``proj`` where it is a map), and the offset after it."""
        d = self._data
        b = self._base + offset
        ctrl = d[b]
        if ctrl >> 5 == 1:
            # Memoised on the pointer's own bytes (the ctrl byte is never 0, so lengths cannot collide).
            end = b + ((ctrl >> 3) & 0x3) + 2
            raw = int.from_bytes(d[b:end], "big")
            key = (raw, id(proj))
            try:
                return self._memo[key], end - self._base
            except KeyError:
                pass
            target, _ = self._pointer(ctrl, offset + 1)
            value = self._memo[key] = self.decode(target, proj)[0]
            return value, end - self._base
        kind, size, pos = self._ctrl(offset)
        b = self._base + pos
        if kind == 7:
            out: dict[Any, Any] = {}
            if proj is None:
                for _ in range(size):
                    k, pos = self.decode(pos)
                    out[k], pos = self.decode(pos)
                return out, pos
            for _ in range(size):
                k, pos = self.decode(pos)
                if k in proj:
                    out[k], pos = self.decode(pos, proj[k])
                else:
                    pos = self.skip(pos)
            return out, pos
        if kind == 2:
            return d[b : b + size].decode("utf-8"), pos + size
        if kind == 3:
            return struct.unpack(">d", d[b : b + 8])[0], pos + 8
        if kind == 4:
            return d[b : b + size], pos + size
        if kind in (5, 6, 9, 10):
            return int.from_bytes(d[b : b + size], "big"), pos + size
        if kind == 8:
            return int.from_bytes(d[b : b + size], "big", signed=size == 4), pos + size
        if kind == 15:
            return struct.unpack(">f", d[b : b + 4])[0], pos + 4
        if kind == 14:
            return size != 0, pos
        if kind == 11:
            items: list[Any] = []
            for _ in range(size):
                value, pos = self.decode(pos)
                items.append(value)
            return items, pos
        raise ValueError(f"unsupported MaxMind DB data type {kind} at {offset}")

    def skip(self, offset: int) -> int:
        """The offset after the value at ``offset``, without decoding it."""
        kind, size, pos = self._ctrl(offset)
        if kind == 1:
            return pos + ((size >> 3) & 0x3) + 1
        if kind == 7:
            for _ in range(2 * size):
                pos = self.skip(pos)
            return pos
        if kind == 11:
            for _ in range(size):
                pos = self.skip(pos)
            return pos
        if kind == 14:
            return pos
        return pos + size

    def record_fields(self, offset: int) -> dict[str, Any] | None:
        """What ``_extract`` reads for location from the record at ``offset``; None if no map."""
        value, _ = self.decode(offset, _RECORD)
        return value if isinstance(value, dict) else None


_Projection = dict[str, "_Projection | None"]
# Exactly the paths _extract reads for country, city and coordinates.
_CODE: _Projection = {"iso_code": None}
_RECORD: _Projection = {
    "country": _CODE,
    "registered_country": _CODE,
    "country_code": None,
    "city": {"names": {"en": None}},
    "location": {"latitude": None, "longitude": None},
    "latitude": None,
    "lat": None,
    "longitude": None,
    "lng": None,
    "lon": None,
}
