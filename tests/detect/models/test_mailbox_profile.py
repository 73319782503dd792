"""The mailbox-access profile: its terms by hand, its discounts, and that a crawl never becomes the baseline."""

from __future__ import annotations

import doctest
import math
from datetime import UTC, datetime, timedelta

import pytest

from dwelltime.detect.models import mailbox_profile
from dwelltime.detect.models.mailbox_profile import LEARN_BELOW, AccessSession, MailboxProfile
from dwelltime.detect.rules import model_mailbox_access

T0 = datetime(2024, 4, 1, 1, tzinfo=UTC)


def test_doctests() -> None:
    assert doctest.testmod(mailbox_profile).failed == 0
    assert doctest.testmod(model_mailbox_access).failed == 0


def _owner(days: int = 20, folders: tuple[str, ...] = ("INBOX", "Projects", "Budget", "Minutes")) -> MailboxProfile:
    """One session a day at 01h UTC, 3 messages, cycling through four folders, one client, one network."""
    profile = MailboxProfile()
    for day in range(days):
        folder = folders[day % len(folders)]
        profile.learn_one(AccessSession("ito", T0 + timedelta(days=day), 3, 9000, (folder,), "Thunderbird", "as2516"))
    return profile


def _session(**changes: object) -> AccessSession:
    base: dict[str, object] = {
        "user": "ito",
        "time": T0 + timedelta(days=21),
        "items": 3,
        "bytes": 9000,
        "folders": ("INBOX",),
        "client": "Thunderbird",
        "network": "as2516",
    }
    base.update(changes)
    return AccessSession(**base)  # type: ignore[arg-type]


def test_new_folder_costs_the_witten_bell_escape_probability() -> None:
    # 20 folder visits over 4 folders: P(new) = 4 / (20 + 4), so a new folder costs log10(6).
    parts = _owner().parts(_session(folders=("Archive/2019",)))
    assert parts["folders"] == pytest.approx(math.log10(24 / 4))
    assert parts["volume"] == 0.0  # 3 messages: the owner's usual
    # Two new folders cost twice; a known one nothing.
    two = _owner().parts(_session(folders=("Archive/2019", "Archive/2020", "INBOX")))
    assert two["folders"] == pytest.approx(2 * math.log10(6))


def test_volume_is_a_pareto_tail_beyond_the_owners_record() -> None:
    profile = _owner()
    # 30 messages against a record of 3: 2 * log10(31 / 4); bytes 90 kB against 9 kB: 2 * log10(90001 / 9001).
    parts = profile.parts(_session(items=30, bytes=90_000, folders=("Archive/2019",)))
    assert parts["volume"] == pytest.approx(2 * math.log10(90_001 / 9_001))
    # The same volume in the owner's own folders counts half (a new phone filling its Inbox).
    own = profile.parts(_session(items=30, bytes=90_000, folders=("INBOX",)))
    assert own["volume"] == pytest.approx(parts["volume"] / 2)


def test_new_client_on_the_owners_network_is_a_new_device_and_counts_half() -> None:
    profile = _owner()
    crawl = _session(items=60, bytes=0, folders=("Archive/2019", "Archive/2020"), client="Outlook-iOS")
    on_home = profile.parts(crawl)
    elsewhere = profile.parts(
        _session(items=60, bytes=0, folders=crawl.folders, client="Outlook-iOS", network="as63949")
    )
    assert profile.new_device(crawl)
    assert on_home["volume"] == pytest.approx(elsewhere["volume"] / 2)
    assert on_home["folders"] == pytest.approx(elsewhere["folders"] / 2)
    # The client term itself: one client over 20 sessions, P(new) = 1 / 21.
    assert on_home["client"] == pytest.approx(math.log10(21))


def test_off_hours_for_this_owner() -> None:
    profile = _owner()
    usual = profile.parts(_session())
    night = profile.parts(_session(time=T0 + timedelta(days=21, hours=12)))
    assert usual["hour"] == 0.0
    assert night["hour"] > 0.5


def test_a_crawl_does_not_become_the_owners_normal() -> None:
    profile = _owner()
    scores = []
    for k in range(30):
        crawl = _session(
            time=T0 + timedelta(days=21, hours=3 * k),
            items=40,
            bytes=120_000,
            folders=(f"Archive/{2010 + k % 5}",),
        )
        scores.append(profile.observe_one(crawl))
    assert min(scores) >= LEARN_BELOW  # the 30th is as far from the owner's habits as the first
    # Without the filter the 30th would look ordinary.
    naive = _owner()
    for k in range(30):
        crawl = _session(time=T0 + timedelta(days=21, hours=3 * k), items=40, bytes=120_000, folders=("Archive/2010",))
        last = naive.score_one(crawl)
        naive.learn_one(crawl)
    assert last < 1.0


def test_newcomers_wait_for_history_before_their_own_habits_count() -> None:
    profile = MailboxProfile()
    for day in range(3):
        profile.learn_one(AccessSession("new", T0 + timedelta(days=day), 2, 0, ("INBOX",), "Mail", "as1"))
    parts = profile.parts(AccessSession("new", T0 + timedelta(days=3), 2, 0, ("Archive",), "Other", "as2"))
    assert parts["folders"] == parts["client"] == parts["hour"] == 0.0


def test_explanation_names_each_unusual_aspect() -> None:
    text = _owner().explain(_session(items=66, bytes=150_000, folders=("Archive/2019", "INBOX")))
    assert "66 messages" in text and "largest of 20 earlier sessions: 3 messages" in text
    assert "Archive/2019" in text and "folders in 20 earlier folder visits" in text
