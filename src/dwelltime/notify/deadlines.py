"""The regulators' clocks, computed from the moment of discovery.

* GDPR Art. 33(1): notify the supervisory authority without undue delay and, where feasible,
  not later than 72 hours after becoming aware: an exact instant, awareness + 72 h.
* APPI (個人情報保護法 Art. 26, 施行規則 Art. 8): a preliminary report (速報) "promptly" —
  the PPC's guidelines read this as about 3–5 days from discovery — and a final report (確報)
  within 30 days, or 60 days when the leak was or may have been done with an improper purpose
  (不正の目的), which includes unauthorised access by an outsider.  These are counted in
  calendar days in Japan, so the dates are taken in JST.

Day counts follow the Civil Code's rule for periods (Art. 140: the day of discovery is not
counted, the period ends at the end of its last day).  The PPC also counts Saturdays, Sundays
and holidays; when the last day of the final-report period is a closed day it accepts the next
business day — weekends are flagged here, national holidays are not (no holiday calendar is
bundled), and the targets never rely on that extension.  The preliminary target is the 3-day
date, the early end of the guideline's range: a report filed early can be corrected in the
final one, a late one cannot be undone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dwelltime.notify.text import iso

JST = ZoneInfo("Asia/Tokyo")
GDPR_HOURS = 72
PPC_PRELIMINARY_DAYS = (3, 5)
PPC_FINAL_DAYS = 30
PPC_FINAL_DAYS_IMPROPER_PURPOSE = 60


@dataclass(frozen=True)
class DayDeadline:
    days: int
    day: date  # last day of the period, in JST
    due: datetime  # end of that day (23:59:59 JST), aware

    @property
    def weekend(self) -> bool:
        return self.day.weekday() >= 5

    def to_json(self) -> dict[str, Any]:
        return {
            "days": self.days,
            "date_jst": self.day.isoformat(),
            "due": iso(self.due),
            "due_jst": self.due.astimezone(JST).isoformat(),
            "weekday": self.day.strftime("%A"),
            "weekend": self.weekend,
        }


@dataclass(frozen=True)
class Deadlines:
    discovered_at: datetime  # aware, UTC
    discovered_source: str  # "option" | "exposure" | "incident" | "now"
    gdpr_due: datetime
    ppc_preliminary: tuple[DayDeadline, DayDeadline]
    ppc_preliminary_target: DayDeadline
    ppc_final: DayDeadline
    ppc_final_standard: DayDeadline
    improper_purpose: bool

    def to_json(self, now: datetime | None = None) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "discovered_at": iso(self.discovered_at),
            "discovered_at_jst": self.discovered_at.astimezone(JST).isoformat(),
            "discovered_at_source": self.discovered_source,
            "gdpr_art33": {
                "hours": GDPR_HOURS,
                "due": iso(self.gdpr_due),
                "due_jst": self.gdpr_due.astimezone(JST).isoformat(),
            },
            "ppc_preliminary": {
                "basis": "速報: promptly, about 3-5 days from discovery (PPC guidelines)",
                "earliest": self.ppc_preliminary[0].to_json(),
                "latest": self.ppc_preliminary[1].to_json(),
                "target": self.ppc_preliminary_target.to_json(),
            },
            "ppc_final": {
                "basis": (
                    "確報: 60 days, the leak results from unauthorised access (不正の目的)"
                    if self.improper_purpose
                    else "確報: 30 days"
                ),
                **self.ppc_final.to_json(),
                "standard_30_days": self.ppc_final_standard.to_json(),
            },
            "day_counting": "calendar days in JST; the day of discovery is not counted (Civil Code Art. 140)",
        }
        if now is not None:
            doc["computed_at"] = iso(now)
            doc["gdpr_art33"]["overdue"] = now > self.gdpr_due
            doc["ppc_preliminary"]["target"]["overdue"] = now > self.ppc_preliminary_target.due
            doc["ppc_final"]["overdue"] = now > self.ppc_final.due
        return doc


def day_deadline(discovered_at: datetime, days: int) -> DayDeadline:
    """The period of ``days`` calendar days from discovery, counted in JST from the next day."""
    last = discovered_at.astimezone(JST).date() + timedelta(days=days)
    return DayDeadline(days=days, day=last, due=datetime.combine(last, time(23, 59, 59), tzinfo=JST))


def compute_deadlines(discovered_at: datetime, source: str, *, improper_purpose: bool = True) -> Deadlines:
    """Every clock from one discovery instant (aware)."""
    if discovered_at.tzinfo is None:
        raise ValueError("discovered_at must be timezone-aware")
    early, late = (day_deadline(discovered_at, d) for d in PPC_PRELIMINARY_DAYS)
    final_days = PPC_FINAL_DAYS_IMPROPER_PURPOSE if improper_purpose else PPC_FINAL_DAYS
    return Deadlines(
        discovered_at=discovered_at,
        discovered_source=source,
        gdpr_due=discovered_at + timedelta(hours=GDPR_HOURS),
        ppc_preliminary=(early, late),
        ppc_preliminary_target=early,
        ppc_final=day_deadline(discovered_at, final_days),
        ppc_final_standard=day_deadline(discovered_at, PPC_FINAL_DAYS),
        improper_purpose=improper_purpose,
    )
