"""The incident threshold a workspace keeps: default, set once for later runs, broken files named."""

from __future__ import annotations

from pathlib import Path

import pytest

from dwelltime.errors import ConfigError
from dwelltime.incidents.correlate import THRESHOLD
from dwelltime.incidents.threshold import SETTINGS_FILE, load_threshold, save_threshold


def test_default_until_set_then_kept(tmp_path: Path) -> None:
    assert load_threshold(tmp_path) == THRESHOLD
    save_threshold(tmp_path, 35)
    assert load_threshold(tmp_path) == 35
    save_threshold(tmp_path, 60)
    assert load_threshold(tmp_path) == 60


def test_other_settings_survive_a_change(tmp_path: Path) -> None:
    (tmp_path / SETTINGS_FILE).write_text('{"analyst": "ito", "incident_threshold": 50}\n')
    save_threshold(tmp_path, 25)
    assert '"analyst": "ito"' in (tmp_path / SETTINGS_FILE).read_text()
    assert load_threshold(tmp_path) == 25


@pytest.mark.parametrize("value", [0, -5, True, 2.5, "50"])
def test_a_threshold_that_cannot_work_is_refused(tmp_path: Path, value: object) -> None:
    with pytest.raises(ConfigError, match="positive whole number"):
        save_threshold(tmp_path, value)  # type: ignore[arg-type]
    assert not (tmp_path / SETTINGS_FILE).exists()


def test_a_broken_settings_file_is_named_with_its_line(tmp_path: Path) -> None:
    (tmp_path / SETTINGS_FILE).write_text('{\n  "incident_threshold": 5O\n}\n')
    with pytest.raises(ConfigError, match=r"settings\.json: line 2: not JSON"):
        load_threshold(tmp_path)
    (tmp_path / SETTINGS_FILE).write_text('{"incident_threshold": "high"}\n')
    with pytest.raises(ConfigError, match="incident_threshold"):
        load_threshold(tmp_path)
