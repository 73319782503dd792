"""Registry-wide conventions: every source is well formed, documented, and recognises its own samples only."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from dwelltime.sources.reader import read_head
from dwelltime.sources.registry import SOURCE_MODULES, all_sources, detect

DATA = Path(__file__).parent / "data"
#: Our own samples, by the source that must claim them.
OWN_SAMPLES = {
    "m365": "m365-audit",
    "entra": "entra-signin",
    "gworkspace": "gws-reports",
    "zeek": "zeek",
    "dovecot": "dovecot",
    "postfix": "postfix",
}


def test_ids_unique_well_formed_and_documented() -> None:
    sources = all_sources()
    ids = [s.id for s in sources]
    assert len(ids) == len(set(ids))
    for source in sources:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", source.id), source.id
        assert source.title.strip()
    for name in SOURCE_MODULES:
        doc = importlib.import_module(name).__doc__ or ""
        assert len(doc.strip()) > 80, f"{name} needs a docstring that says what it reads and why"


def test_sniffers_answer_a_confidence_and_nothing_for_empty_input() -> None:
    for source in all_sources():
        assert source.sniff(b"", "empty.log") == 0
        for path in DATA.rglob("*"):
            if path.is_file():
                confidence = source.sniff(read_head(path), path.name)
                assert 0.0 <= confidence <= 1.0


@pytest.mark.parametrize("folder", sorted(OWN_SAMPLES))
def test_each_sample_is_detected_as_its_own_format(folder: str) -> None:
    # (malformed samples and Zeek's dns.log, a log kind we deliberately do not read, are not claimed)
    samples = [
        p
        for p in sorted((DATA / folder).iterdir())
        if p.is_file() and "malformed" not in p.name and p.name != "dns.log"
    ]
    assert samples, f"no samples in tests/data/{folder}"
    detected = {p.name: detect(p).id for p in samples}
    assert set(detected.values()) == {OWN_SAMPLES[folder]}, detected
