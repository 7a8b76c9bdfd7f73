"""Evaluation periods: calendar blocks of `top_period_months` months, labelled for humans.

A period is evaluated once it has ended, over the window ending with it; its badges are valid
through the next period and the one after (grace).

3 months → quarters ("2026-Q4"), 1 → months ("2026-11"), 6 → halves ("2026-H2"), 12 → years
("2026"), any other divisor of 12 → "2026-P3". Periods start on the 1st at 00:00 UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from crowd.core.errors import field_error
from crowd.core.i18n import _

PERIOD_MONTHS = (1, 2, 3, 4, 6, 12)


def add_months(at: datetime, months: int) -> datetime:
    """The first of the month `months` after `at`'s month (at must be the 1st, 00:00)."""
    index = at.year * 12 + at.month - 1 + months
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Period:
    label: str
    start: datetime
    end: datetime  # exclusive: the next period's start
    months: int

    def next(self) -> Period:
        return period_starting(self.end, self.months)

    def previous(self) -> Period:
        return period_starting(add_months(self.start, -self.months), self.months)

    def window(self, window_months: int) -> tuple[datetime, datetime]:
        """The rolling window the period's run evaluates: `window_months` ending at its end."""
        return add_months(self.end, -window_months), self.end


def _label(start: datetime, months: int) -> str:
    number = (start.month - 1) // months + 1
    if months == 1:
        return f"{start.year}-{start.month:02d}"
    if months == 12:
        return str(start.year)
    letter = {3: "Q", 6: "H"}.get(months, "P")
    return f"{start.year}-{letter}{number}"


def period_starting(start: datetime, months: int) -> Period:
    return Period(_label(start, months), start, add_months(start, months), months)


def check_months(months: int) -> int:
    if months not in PERIOD_MONTHS:
        raise ValueError(f"top_period_months must divide a year: one of {PERIOD_MONTHS}")
    return months


def period_at(at: datetime, months: int) -> Period:
    """The period containing instant `at`."""
    check_months(months)
    first_month = (at.month - 1) // months * months + 1
    return period_starting(datetime(at.year, first_month, 1, tzinfo=UTC), months)


def parse_period(label: str, months: int) -> Period:
    """The period a label names, in the configured period length (422 on the field otherwise)."""
    check_months(months)
    example = period_at(datetime(2026, 10, 1, tzinfo=UTC), months).label
    match = re.fullmatch(r"(\d{4})(?:-([QHP]?)(\d{1,2}))?", label or "")
    if match is None:
        raise field_error("period", _("not a period label like {example!r}", example=example))
    year, number = int(match[1]), match[3]
    if months == 12:
        index = 1 if number is None else -1
    elif number is None:
        index = -1
    else:
        index = int(number)
    if not (2000 <= year <= 2999 and 1 <= index <= 12 // months):
        raise field_error("period", _("not a period label like {example!r}", example=example))
    period = period_starting(datetime(year, (index - 1) * months + 1, 1, tzinfo=UTC), months)
    if period.label != label:
        raise field_error("period", _("not a period label like {example!r}", example=example))
    return period
