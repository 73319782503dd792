"""The Japanese working calendar the simulated staff live by.

Detectors trip over calendars: a Monday after a three-day weekend, Golden Week, the
year-end closure and Obon all change who signs in, when and from where.  Public holidays
follow the Act on National Holidays (国民の祝日に関する法律): fixed dates, "Happy Monday"
holidays, the equinoxes, substitute holidays (振替休日: a holiday on a Sunday moves to the
next non-holiday) and citizens' holidays (国民の休日: a day between two holidays).  Offices
also close 29 December - 3 January by custom (not law).  Obon (13-16 August) is NOT a
public holiday: offices stay open and people take leave around it, as they do on the
working days inside Golden Week.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

__all__ = [
    "holiday_name",
    "holidays",
    "is_holiday",
    "is_office_closed",
    "is_working_day",
    "leave_propensity",
]


def _nth_monday(year: int, month: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(7 - first.weekday()) % 7 + 7 * (n - 1))


def _vernal_equinox_day(year: int) -> int:
    # The standard approximation used for the Cabinet Office's announcements (valid 1980-2099).
    return int(20.8431 + 0.242194 * (year - 1980) - (year - 1980) // 4)


def _autumnal_equinox_day(year: int) -> int:
    return int(23.2488 + 0.242194 * (year - 1980) - (year - 1980) // 4)


@cache
def holidays(year: int) -> dict[date, str]:
    """Public holidays of one year (2020-2099 rules) with their names, substitutes included."""
    if not 2020 <= year <= 2099:
        raise ValueError(f"holiday rules are implemented for 2020-2099, not {year}")
    base: dict[date, str] = {
        date(year, 1, 1): "元日",
        _nth_monday(year, 1, 2): "成人の日",
        date(year, 2, 11): "建国記念の日",
        date(year, 2, 23): "天皇誕生日",
        date(year, 3, _vernal_equinox_day(year)): "春分の日",
        date(year, 4, 29): "昭和の日",
        date(year, 5, 3): "憲法記念日",
        date(year, 5, 4): "みどりの日",
        date(year, 5, 5): "こどもの日",
        _nth_monday(year, 7, 3): "海の日",
        date(year, 8, 11): "山の日",
        _nth_monday(year, 9, 3): "敬老の日",
        date(year, 9, _autumnal_equinox_day(year)): "秋分の日",
        _nth_monday(year, 10, 2): "スポーツの日",
        date(year, 11, 3): "文化の日",
        date(year, 11, 23): "勤労感謝の日",
    }
    out = dict(base)
    # Citizens' holiday: a non-holiday weekday sandwiched between two holidays.
    for d in sorted(base):
        mid = d + timedelta(days=1)
        if mid not in base and (mid + timedelta(days=1)) in base and mid.weekday() != 6:
            out[mid] = "国民の休日"
    # Substitute holiday: a holiday on Sunday makes the next non-holiday day a holiday.
    for d in sorted(base):
        if d.weekday() == 6:
            sub = d + timedelta(days=1)
            while sub in out:
                sub += timedelta(days=1)
            out[sub] = "休日"
    return out


def holiday_name(d: date) -> str | None:
    return holidays(d.year).get(d)


def is_holiday(d: date) -> bool:
    return d in holidays(d.year)


def is_office_closed(d: date) -> bool:
    """Weekend, public holiday, or the year-end/new-year closure (29 Dec - 3 Jan)."""
    if d.weekday() >= 5 or is_holiday(d):
        return True
    return (d.month == 12 and d.day >= 29) or (d.month == 1 and d.day <= 3)


def is_working_day(d: date) -> bool:
    return not is_office_closed(d)


def leave_propensity(d: date) -> float:
    """Chance that an ordinary employee takes paid leave on a working day ``d``.

    About 1 in 25 working days otherwise (≈10 days a year); much higher in the Obon week and on
    the working days that bridge Golden Week or the year-end closure, and on a single working
    day wedged between closed days.
    """
    if is_office_closed(d):
        return 0.0
    p = 0.04
    if d.month == 8 and 10 <= d.day <= 18:
        p = 0.35
    elif (d.month == 4 and d.day >= 30) or (d.month == 5 and d.day <= 6):
        p = 0.30
    elif d.month == 12 and d.day >= 26:
        p = 0.15
    elif is_office_closed(d - timedelta(days=1)) and is_office_closed(d + timedelta(days=1)):
        p = 0.20
    return p
