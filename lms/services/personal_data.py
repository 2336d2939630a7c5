"""A learner's own data (Law 91/2025/QH15 on personal data protection): download all of it, and
close the account.

Closing an account deletes the login, password, birth year, commune, consent, tokens, lesson
progress and saved answers, and replaces the name on the account. Certificates stay, with the
holder's name as printed on them, because employers and agencies must still be able to verify
them; the learner may ask for one to be revoked as well. Graded attempts stay without answers,
so reports and item analysis keep their counts. (See docs/security.md.)"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lms.services import audit
from lms.store import ApiToken, Attempt, AttemptAnswer, AttemptStatus, Certificate, LessonCompletion, User

__all__ = ["close_account", "export"]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def export(session: Session, user: User) -> dict[str, Any]:
    attempts = session.scalars(select(Attempt).where(Attempt.user_id == user.id)).all()
    answers: dict[str, list[dict[str, Any]]] = {}
    for row in session.scalars(select(AttemptAnswer).where(AttemptAnswer.attempt_id.in_([a.id for a in attempts]))):
        answers.setdefault(row.attempt_id, []).append({"question_id": row.question_id, "response": row.response,
                                                       "saved_at": _iso(row.saved_at)})
    completions = session.scalars(select(LessonCompletion).where(LessonCompletion.user_id == user.id)).all()
    return {
        "account": {"login": user.login, "full_name": user.full_name, "role": user.role,
                    "birth_year": user.birth_year, "unit_code": user.unit_code, "position": user.position,
                    "created_at": _iso(user.created_at), "consent_at": _iso(user.consent_at)},
        "lesson_completions": [{"lesson_id": c.lesson_id, "course_id": c.course_id,
                                "completed_at": _iso(c.completed_at)} for c in completions],
        "attempts": [{"id": a.id, "quiz_id": a.quiz_id, "status": a.status, "started_at": _iso(a.started_at),
                      "submitted_at": _iso(a.submitted_at), "score": a.score, "max_score": a.max_score,
                      "passed": a.passed, "answers": answers.get(a.id, [])} for a in attempts],
        "certificates": [{"code": c.code, "course_id": c.course_id, "holder_name": c.holder_name,
                          "issued_at": _iso(c.issued_at), "expires_at": _iso(c.expires_at),
                          "revoked_at": _iso(c.revoked_at)} for c in session.scalars(
                              select(Certificate).where(Certificate.user_id == user.id))],
    }


def close_account(session: Session, user: User, *, now: datetime) -> None:
    attempt_ids = list(session.scalars(select(Attempt.id).where(Attempt.user_id == user.id)))
    if attempt_ids:
        session.execute(delete(AttemptAnswer).where(AttemptAnswer.attempt_id.in_(attempt_ids)))
    session.execute(delete(Attempt).where(Attempt.user_id == user.id, Attempt.status == AttemptStatus.IN_PROGRESS))
    session.execute(delete(LessonCompletion).where(LessonCompletion.user_id == user.id))
    session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    audit.record(session, "user.close", "user", user.id, now=now)
    user.login = f"closed-{user.id}-{secrets.token_hex(4)}"
    user.full_name = "Tài khoản đã đóng"
    user.password_hash = "!closed"
    user.birth_year = user.unit_code = user.position = user.consent_at = None
    user.agency_id = None
    user.is_active = False
    user.credentials_version += 1
    session.flush()
