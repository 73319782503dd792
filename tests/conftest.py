"""Shared test fixtures: where the third-party samples live, and skipping when they do not."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_FIXTURES = REPO.parent / "shared" / "fixtures"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def shared_fixtures() -> Path:
    """../shared/fixtures, or skip: those samples are under licences that keep them out of the repo."""
    if not SHARED_FIXTURES.is_dir():
        pytest.skip(f"third-party samples not found at {SHARED_FIXTURES} (they live beside the repo, not in it)")
    return SHARED_FIXTURES
