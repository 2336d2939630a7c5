"""Certificate rules: when one is earned, how long it is valid, what its status is, and the
Vietnamese way of writing its date. Pure: ``now`` is always an argument."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

__all__ = ["eligible", "expiry", "status", "vietnamese_date"]

VN = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")  # no daylight saving: a fixed offset is exact


def eligible(*, lessons_done: int, lesson_count: int, final_passed: bool, has_final: bool) -> bool:
    """Earned when every required lesson is done and the final assessment (if any) is passed."""
    return lesson_count > 0 and lessons_done >= lesson_count and (final_passed or not has_final)


def expiry(validity: str, issued_at: datetime) -> datetime | None:
    """Mandated training is valid until the end of its training year (31 December, Vietnam time);
    citizen courses do not expire."""
    if validity != "training_year":
        return None
    local = issued_at.astimezone(VN)
    return datetime(local.year, 12, 31, 23, 59, 59, tzinfo=VN).astimezone(issued_at.tzinfo)


def status(*, revoked: bool, expires_at: datetime | None, now: datetime) -> str:
    if revoked:
        return "revoked"
    if expires_at is not None and now > expires_at:
        return "expired"
    return "valid"


def vietnamese_date(moment: datetime) -> str:
    """'ngày 05 tháng 3 năm 2026', as official documents write it (days below 10 with a zero,
    months 1 and 2 too, so that nobody can add a digit)."""
    local = moment.astimezone(VN)
    month = f"{local.month:02d}" if local.month < 3 else str(local.month)
    return f"ngày {local.day:02d} tháng {month} năm {local.year}"
