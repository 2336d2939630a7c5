"""The programme's calendar: Vietnam's year, day and deadlines, whatever zone a time comes in."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from lms.domain import calendar


def test_the_default_zone_is_vietnam_and_another_can_be_named() -> None:
    assert calendar.zone() is calendar.VN and calendar.zone("Asia/Ho_Chi_Minh") is calendar.VN
    paris = calendar.zone("Europe/Paris")
    assert datetime(2026, 7, 1, 12, tzinfo=UTC).astimezone(paris).hour == 14


def test_local_dates_and_how_they_are_written() -> None:
    late = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)  # already 1 January 2027 in Hà Nội
    assert calendar.local_date(late) == date(2027, 1, 1)
    assert calendar.show_date(late) == "01/01/2027"
    assert calendar.show_time(late) == "00:30"
    assert calendar.show_datetime(late) == "00:30 01/01/2027"
    assert calendar.show_date(late, "UTC") == "31/12/2026"
    assert calendar.vietnamese_date(late) == "ngày 01 tháng 01 năm 2027"


def test_year_bounds_are_vietnamese_midnights() -> None:
    start, end = calendar.year_bounds(2026)
    assert start == datetime(2025, 12, 31, 17, tzinfo=UTC) and end == datetime(2026, 12, 31, 17, tzinfo=UTC)
    assert start <= datetime(2025, 12, 31, 17, 0, tzinfo=UTC) < end
    assert not start <= datetime(2025, 12, 31, 16, 59, tzinfo=UTC)


def test_year_end_keeps_the_zone_it_was_given() -> None:
    plus_one = timezone(timedelta(hours=1))
    moment = datetime(2026, 6, 1, tzinfo=plus_one)
    end = calendar.year_end(moment)
    assert end.tzinfo is plus_one and end == datetime(2026, 12, 31, 16, 59, 59, tzinfo=UTC)


def test_deadlines() -> None:
    assert calendar.training_year_due(2026) == date(2026, 12, 31)
    assert calendar.month_day_due(2028, 2, 29) == date(2028, 2, 28)  # the same day in every year
    assert calendar.month_day_due(2027, 3, 31) == date(2027, 3, 31)
