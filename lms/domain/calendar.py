"""The programme's calendar: its time zone, local dates and how they are written, calendar-year
bounds and the deadlines counted from them. Pure: ``now`` is always an argument.

Times are stored in UTC; every rule that speaks of "a year", "a day" or "a deadline" means the
year, day or deadline in Vietnam (Asia/Ho_Chi_Minh, UTC+7 all year). The site may show times in
another zone (``Settings.timezone``, from ``LMS_TIMEZONE``): the display helpers take the zone's
name, the rules keep Vietnam's calendar, because that is the one the mandates are written in."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

__all__ = [
    "DEFAULT_TIMEZONE",
    "VN",
    "local",
    "local_date",
    "month_day_due",
    "show_date",
    "show_datetime",
    "show_time",
    "training_year_due",
    "vietnamese_date",
    "year_bounds",
    "year_end",
    "zone",
]

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
VN = timezone(timedelta(hours=7), DEFAULT_TIMEZONE)  # no daylight saving: a fixed offset is exact


@lru_cache(maxsize=8)  # keyed by the zone's name only: the same answer in every process and site
def zone(name: str | None = None) -> tzinfo:
    """The time zone called ``name`` (a settings value); Vietnam's for none or the default."""
    if not name or name == DEFAULT_TIMEZONE:
        return VN
    return ZoneInfo(name)


def local(moment: datetime, tz: str | tzinfo | None = None) -> datetime:
    """An aware time in the given zone (Vietnam's by default)."""
    return moment.astimezone(tz if isinstance(tz, tzinfo) else zone(tz))


def local_date(moment: datetime, tz: str | tzinfo | None = None) -> date:
    """The calendar day an aware time falls on, in the given zone (Vietnam's by default)."""
    return local(moment, tz).date()


def show_date(moment: datetime, tz: str | tzinfo | None = None) -> str:
    """dd/mm/yyyy, the way dates are written in Vietnam."""
    return local(moment, tz).strftime("%d/%m/%Y")


def show_time(moment: datetime, tz: str | tzinfo | None = None) -> str:
    """HH:MM on the 24-hour clock."""
    return local(moment, tz).strftime("%H:%M")


def show_datetime(moment: datetime, tz: str | tzinfo | None = None) -> str:
    """HH:MM dd/mm/yyyy."""
    return local(moment, tz).strftime("%H:%M %d/%m/%Y")


def vietnamese_date(moment: datetime) -> str:
    """'ngày 05 tháng 3 năm 2026', as official documents write it (days below 10 with a zero,
    months 1 and 2 too, so that nobody can add a digit)."""
    day = local(moment)
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """A calendar year in Vietnam, as UTC-comparable bounds: ``start <= t < end``."""
    return datetime(year, 1, 1, tzinfo=VN), datetime(year + 1, 1, 1, tzinfo=VN)


def year_end(moment: datetime) -> datetime:
    """The last second of the Vietnamese calendar year ``moment`` falls in, in ``moment``'s zone."""
    year = local(moment).year
    return datetime(year, 12, 31, 23, 59, 59, tzinfo=VN).astimezone(moment.tzinfo)


def training_year_due(year: int) -> date:
    """The default deadline of a year's mandated training: the end of the training year."""
    return date(year, 12, 31)


def month_day_due(year: int, month: int, day: int) -> date:
    """A deadline that recurs on the same day every year. 29 February is kept as 28 February, so
    that it falls on the same day in every year, leap or not."""
    return date(year, month, min(day, 28) if month == 2 else day)
