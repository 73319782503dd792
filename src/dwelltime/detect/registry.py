"""The catalogue: every module under :mod:`dwelltime.detect.rules` that defines ``DETECTION``."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from dwelltime.detect import rules
from dwelltime.detect.base import Detection


@cache
def all_detections() -> tuple[Detection, ...]:
    """Detections in id order.  Modules are listed from the package (explicit, no entry points)."""
    found = []
    for info in sorted(pkgutil.iter_modules(rules.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{rules.__name__}.{info.name}")
        detection = getattr(module, "DETECTION", None)
        if isinstance(detection, Detection):
            found.append(detection)
    ids = [d.id for d in found]
    if len(ids) != len(set(ids)):
        raise RuntimeError(f"duplicate detection ids: {sorted(ids)}")
    return tuple(sorted(found, key=lambda d: d.id))
