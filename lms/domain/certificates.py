"""Certificate rules: when one is earned, how long it is valid, what its status is, and the
Vietnamese way of writing its date (from lms.domain.calendar). Pure: ``now`` is always an argument."""

from __future__ import annotations

from datetime import datetime

from lms.domain.calendar import vietnamese_date, year_end

# vietnamese_date is the calendar's (lms.domain.calendar); named here too because a certificate
# states its dates that way.
__all__ = ["eligible", "expiry", "status", "vietnamese_date"]


def eligible(*, lessons_done: int, lesson_count: int, final_passed: bool, has_final: bool) -> bool:
    """Earned when every required lesson is done and the final assessment (if any) is passed."""
    return lesson_count > 0 and lessons_done >= lesson_count and (final_passed or not has_final)


def expiry(validity: str, issued_at: datetime) -> datetime | None:
    """Mandated training is valid until the end of its training year (31 December, Vietnam time);
    citizen courses do not expire."""
    if validity != "training_year":
        return None
    return year_end(issued_at)


def status(*, revoked: bool, expires_at: datetime | None, now: datetime) -> str:
    if revoked:
        return "revoked"
    if expires_at is not None and now > expires_at:
        return "expired"
    return "valid"

