"""The incident threshold a workspace uses, kept in the workspace so every later run uses it too.

``dwelltime tune`` says which threshold fits the team's budget; ``dwelltime detect
--threshold T`` sets it.  It is kept in ``settings.json`` beside the data, not in a global
config file: a workspace is evidence that must re-derive its own incidents when copied
to another machine, and two investigations on one laptop may need different budgets.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from dwelltime.errors import ConfigError
from dwelltime.incidents.correlate import THRESHOLD

SETTINGS_FILE = "settings.json"
KEY = "incident_threshold"


def check_threshold(value: object) -> int:
    """``value`` if it can open incidents at all (a positive number of risk points)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"incident threshold must be a positive whole number of risk points, not {value!r}")
    return value


def _read(path: Path) -> dict[str, object]:
    """The settings in ``path`` ({} when it does not exist); a broken file is an error naming it."""
    if not path.exists():
        return {}
    try:
        settings = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise ConfigError(f"{path}: line {exc.lineno}: not JSON ({exc.msg})") from exc
    if not isinstance(settings, dict):
        raise ConfigError(f"{path}: line 1: not a JSON object of settings")
    return settings


def load_threshold(root: Path) -> int:
    """The workspace's threshold, or the default (:data:`THRESHOLD`) when none was set."""
    path = root / SETTINGS_FILE
    settings = _read(path)
    if KEY not in settings:
        return THRESHOLD
    try:
        return check_threshold(settings[KEY])
    except ConfigError as exc:
        raise ConfigError(f"{path}: {KEY}: {exc}") from exc


def save_threshold(root: Path, value: int) -> None:
    """Keep ``value`` for later runs (other settings in the file are kept; the write is atomic)."""
    path = root / SETTINGS_FILE
    settings = _read(path)
    settings[KEY] = check_threshold(value)
    tmp = path.with_name(SETTINGS_FILE + ".tmp")
    tmp.write_bytes(orjson.dumps(settings, option=orjson.OPT_INDENT_2) + b"\n")
    tmp.replace(path)
