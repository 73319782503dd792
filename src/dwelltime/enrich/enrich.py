"""Fill the enrichment columns of an event table from ``src_ip``.

This runs on the ingest hot path (target: 250k events/s end to end on two cores).  Each
distinct address is resolved once and the answers are spread back to the rows with Arrow
``dictionary_encode`` + ``take`` -- no per-row Python.  With the bundled data, the distinct
addresses in canonical IPv4 form are resolved together with numpy (:mod:`.fastv4`), since a
batch can hold 100k of them and the per-address path costs ~90 us each; everything else
(IPv6, non-canonical text, user databases) is resolved one by one in Python, cached across
batches.  Both give identical values (tests/enrich/test_enrich_fastv4.py).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dwelltime.enrich.fastv4 import IPV4_CANONICAL, V4Classes, bundled_v4, enrich_ipv4, ipv4_ints
from dwelltime.enrich.geoip import (
    EMPTY,
    BundledResolver,
    ChainResolver,
    GeoInfo,
    GeoResolver,
    MmdbResolver,
    bundled_resolver,
)
from dwelltime.enrich.ipaddr import parse_ip, special_class
from dwelltime.enrich.netclass import ListInfo, NetClassifier, Verdict
from dwelltime.schema import ENRICHMENT_COLUMNS, EVENT_SCHEMA

__all__ = ["Enricher", "Enrichment", "enrich_info"]

Enrichment = tuple[str | None, str | None, float | None, float | None, int | None, str | None, str | None]
_NULLS: Enrichment = (None, None, None, None, None, None, None)
_TYPES = [EVENT_SCHEMA.field(c).type for c in ENRICHMENT_COLUMNS]


class Enricher:
    """Resolve addresses to country, city, coordinates, AS and network class.

    ``mmdb_paths``: user databases, consulted before the bundled data (``use_bundled=False``
    to use them alone).  ``user_lists``: a directory of CSVs (cidr or asn, class, note) that
    override the shipped network lists.  ``tor_exit_file``: a Tor exit list.  ``cache_size``
    bounds the per-address cache shared by all calls on this instance.
    """

    def __init__(
        self,
        mmdb_paths: Sequence[Path | str] = (),
        *,
        use_bundled: bool = True,
        user_lists: Path | None = None,
        tor_exit_file: Path | None = None,
        cache_size: int = 1 << 18,
        resolver: GeoResolver | None = None,
    ) -> None:
        if resolver is None:
            layers: list[GeoResolver] = []
            if mmdb_paths:
                layers.append(MmdbResolver(mmdb_paths))
            if use_bundled:
                layers.append(bundled_resolver())
            resolver = layers[0] if len(layers) == 1 else ChainResolver(layers)
        self.resolver = resolver
        self.classifier = NetClassifier(user_lists, tor_exit_file)
        self._cached = lru_cache(maxsize=cache_size)(self._resolve)
        self._v4: V4Classes | None = None
        self._v4_ready = False
        self._v4_lock = threading.Lock()

    def _resolve(self, ip: str) -> tuple[Enrichment, Verdict | None]:
        parsed = parse_ip(ip)
        if parsed is None:
            return _NULLS, None
        canon, addr = parsed
        geo = EMPTY if special_class(addr) is not None else self.resolver.lookup(canon)
        verdict = self.classifier.classify(addr, geo.asn, geo.as_org)
        return (geo.country, geo.city, geo.lat, geo.lon, geo.asn, geo.as_org, verdict.net_class), verdict

    def lookup(self, ip: str) -> Enrichment:
        """Enrichment values for one address, in ENRICHMENT_COLUMNS order (all None if invalid)."""
        return self._cached(ip)[0]

    def explain(self, ip: str) -> Verdict | None:
        """Why an address got its network class (for alert explanations); None if invalid."""
        return self._cached(ip)[1]

    def geo(self, ip: str) -> GeoInfo:
        """The resolver's answer for one address, private/reserved giving EMPTY."""
        v = self.lookup(ip)
        return GeoInfo(v[0], v[1], v[2], v[3], v[4], v[5])

    def enrich(self, table: pa.Table, *, overwrite: bool = False) -> pa.Table:
        """Return ``table`` with the enrichment columns filled from ``src_ip``.

        Values already present are kept unless ``overwrite`` (a source that reports its own
        location keeps it).  Rows whose src_ip is null or not an address get nulls, and a valid
        public address the data does not know gets net class "unknown".  Missing enrichment
        columns are appended.
        """
        ips = table.column("src_ip")
        ips = ips.combine_chunks() if ips.num_chunks != 1 else ips.chunk(0)
        if not pa.types.is_string(ips.type):
            ips = ips.cast(pa.string())
        enc = pc.dictionary_encode(ips)
        columns = self._distinct_columns(enc.dictionary)
        for name, typ, col in zip(ENRICHMENT_COLUMNS, _TYPES, columns, strict=True):
            filled = pc.take(col, enc.indices)
            idx = table.schema.get_field_index(name)
            if idx < 0:
                table = table.append_column(EVENT_SCHEMA.field(name), filled)
                continue
            existing = table.column(idx)
            if not overwrite and existing.null_count < len(existing):
                filled = pc.coalesce(existing.cast(typ), filled)
            table = table.set_column(idx, EVENT_SCHEMA.field(name), filled)
        return table

    def _fast_v4(self) -> V4Classes | None:
        """The vectorized IPv4 path, when this instance uses the bundled data alone."""
        if not self._v4_ready:
            with self._v4_lock:
                if not self._v4_ready:
                    if isinstance(self.resolver, BundledResolver):
                        data = bundled_v4(self.resolver)
                        self._v4 = V4Classes(self.classifier, data) if data is not None else None
                    self._v4_ready = True
        return self._v4

    def _slow_columns(self, texts: pa.Array) -> list[pa.Array]:
        values = [self._cached(v)[0] for v in texts.to_pylist()]
        columns = list(zip(*values, strict=True)) if values else [() for _ in ENRICHMENT_COLUMNS]
        return [pa.array(col, typ) for typ, col in zip(_TYPES, columns, strict=True)]

    def _distinct_columns(self, dictionary: pa.Array) -> list[pa.Array]:
        """The enrichment columns for each distinct src_ip text (dictionary order)."""
        fast = self._fast_v4() if len(dictionary) else None
        if fast is None:
            return self._slow_columns(dictionary)
        is_v4 = pc.match_substring_regex(dictionary, IPV4_CANONICAL).to_numpy(zero_copy_only=False)
        v4_at = np.flatnonzero(is_v4)
        if len(v4_at) == len(dictionary):
            return enrich_ipv4(fast.data, fast, ipv4_ints(dictionary))
        other_at = np.flatnonzero(~is_v4)
        v4_cols = enrich_ipv4(fast.data, fast, ipv4_ints(dictionary.take(pa.array(v4_at))))
        other_cols = self._slow_columns(dictionary.take(pa.array(other_at)))
        # Position of each dictionary entry in the concatenation [v4 answers, other answers].
        where = np.empty(len(dictionary), np.int64)
        where[v4_at] = np.arange(len(v4_at))
        where[other_at] = len(v4_at) + np.arange(len(other_at))
        order = pa.array(where)
        return [pa.concat_arrays([a, b]).take(order) for a, b in zip(v4_cols, other_cols, strict=True)]

    def provenance(self) -> list[ListInfo]:
        """Every database and list in force, highest precedence first."""
        return [*self.resolver.provenance(), *self.classifier.provenance()]


def enrich_info(enricher: Enricher | None = None) -> list[dict[str, object]]:
    """Provenance of the enrichment data, as plain dicts (for ``dwelltime enrich-info``)."""
    e = enricher if enricher is not None else Enricher()
    return [
        {"name": i.name, "kind": i.kind, "path": i.path, "source": i.source, "date": i.date, "entries": i.entries}
        for i in e.provenance()
    ]
