from __future__ import annotations

from datetime import UTC, datetime

from lms.domain.certificates import eligible, expiry, status, vietnamese_date


def test_eligibility_needs_every_lesson_and_the_final() -> None:
    assert eligible(lessons_done=6, lesson_count=6, final_passed=True, has_final=True)
    assert not eligible(lessons_done=5, lesson_count=6, final_passed=True, has_final=True)
    assert not eligible(lessons_done=6, lesson_count=6, final_passed=False, has_final=True)
    assert eligible(lessons_done=3, lesson_count=3, final_passed=False, has_final=False)
    assert not eligible(lessons_done=0, lesson_count=0, final_passed=True, has_final=True)


def test_training_year_ends_on_31_december_vietnam_time() -> None:
    issued = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)  # already 00:30 on 1 January 2027 in Hà Nội
    assert expiry("training_year", issued) == datetime(2027, 12, 31, 16, 59, 59, tzinfo=UTC)
    assert expiry("training_year", datetime(2026, 3, 1, tzinfo=UTC)) == datetime(2026, 12, 31, 16, 59, 59, tzinfo=UTC)
    assert expiry("none", issued) is None


def test_status() -> None:
    now = datetime(2026, 11, 25, tzinfo=UTC)
    assert status(revoked=False, expires_at=None, now=now) == "valid"
    assert status(revoked=False, expires_at=datetime(2026, 1, 1, tzinfo=UTC), now=now) == "expired"
    assert status(revoked=True, expires_at=None, now=now) == "revoked"


def test_vietnamese_date() -> None:
    assert vietnamese_date(datetime(2026, 3, 5, 2, tzinfo=UTC)) == "ngày 05 tháng 3 năm 2026"
    assert vietnamese_date(datetime(2026, 2, 9, 2, tzinfo=UTC)) == "ngày 09 tháng 02 năm 2026"
    assert vietnamese_date(datetime(2026, 11, 30, 20, tzinfo=UTC)) == "ngày 01 tháng 12 năm 2026"
