"""xAPI 1.0.3 statements as plain dictionaries: pure functions, no I/O.

A statement names its learner by an opaque account (an HMAC of the user id under a key of the
installation), never by login, phone, e-mail or name; activities are URLs under the site's public
address; the course is the parent activity; the learner's commune and province codes go into
``context.extensions`` so that an LRS can add records up by unit."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "ASSESSMENT",
    "COMPLETED",
    "COURSE",
    "EARNED",
    "FAILED",
    "LESSON",
    "PASSED",
    "VOIDED",
    "Place",
    "actor_name",
    "attempt_graded",
    "certificate_earned",
    "certificate_voided",
    "lesson_completed",
]

_ADL = "http://adlnet.gov/expapi/verbs/"
COMPLETED = _ADL + "completed"
PASSED = _ADL + "passed"
FAILED = _ADL + "failed"
VOIDED = _ADL + "voided"
EARNED = "http://id.tincanapi.com/verb/earned"
LESSON = "http://adlnet.gov/expapi/activities/lesson"
ASSESSMENT = "http://adlnet.gov/expapi/activities/assessment"
COURSE = "http://adlnet.gov/expapi/activities/course"
CERTIFICATE = "https://www.opigno.org/en/tincan_registry/activity_type/certificate"

_VERB_NAMES = {
    COMPLETED: ("đã hoàn thành", "completed"),
    PASSED: ("đã đạt", "passed"),
    FAILED: ("chưa đạt", "failed"),
    EARNED: ("đã được cấp", "earned"),
    VOIDED: ("đã hủy", "voided"),
}


@dataclass(frozen=True)
class Place:
    """Who did it and where, as the statement may tell it: the site, the opaque name, the units."""

    public_url: str
    actor: str  # from actor_name(); never a login, phone, e-mail or name
    commune: str | None = None
    province: str | None = None


def actor_name(key: str, user_id: int) -> str:
    """The learner's stable, opaque account name. Whoever holds the key (an auditor with the
    LMS's ``lms xapi actor`` command) can recompute it from an account, but not reverse it."""
    return hmac.new(key.encode(), f"user:{user_id}".encode(), hashlib.sha256).hexdigest()[:32]


def _timestamp(now: datetime) -> str:
    return now.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _verb(iri: str) -> dict[str, Any]:
    vi, en = _VERB_NAMES[iri]
    return {"id": iri, "display": {"vi": vi, "en-US": en}}


def _activity(iri: str, kind: str, title: str, title_en: str = "") -> dict[str, Any]:
    name = {"vi": title, "en": title_en} if title_en else {"vi": title}
    return {"objectType": "Activity", "id": iri, "definition": {"type": kind, "name": name}}


def _url(place: Place, *parts: str) -> str:
    from urllib.parse import quote

    return place.public_url.rstrip("/") + "/" + "/".join(quote(p, safe="") for p in parts)


def _base(statement_id: str, place: Place, verb: str, obj: dict[str, Any], now: datetime,
          course: tuple[str, str, str] | None) -> dict[str, Any]:
    context: dict[str, Any] = {"language": "vi"}
    if obj.get("objectType") == "Activity":  # xAPI allows a platform only for an activity
        context["platform"] = "Bình dân học vụ số LMS"
    if course is not None:
        context["contextActivities"] = {"parent": [_activity(_url(place, "courses", course[0]), COURSE, course[1],
                                                                  course[2])]}
    extensions = {}
    if place.commune:
        extensions[_url(place, "xapi", "extensions", "commune")] = place.commune
    if place.province:
        extensions[_url(place, "xapi", "extensions", "province")] = place.province
    if extensions:
        context["extensions"] = extensions
    return {"id": statement_id,
            "actor": {"objectType": "Agent", "account": {"homePage": place.public_url.rstrip("/"),
                                                         "name": place.actor}},
            "verb": _verb(verb), "object": obj, "context": context, "timestamp": _timestamp(now)}


def lesson_completed(statement_id: str, place: Place, *, lesson_id: str, lesson_title: str, course_id: str,
                     course_title: str, now: datetime, lesson_title_en: str = "",
                     course_title_en: str = "") -> dict[str, Any]:
    obj = _activity(_url(place, "lessons", lesson_id), LESSON, lesson_title, lesson_title_en)
    st = _base(statement_id, place, COMPLETED, obj, now, (course_id, course_title, course_title_en))
    st["result"] = {"completion": True}
    return st


def attempt_graded(statement_id: str, place: Place, *, quiz_id: str, quiz_title: str, course_id: str,
                   course_title: str, score: float, max_score: float, passed: bool, attempt_number: int,
                   now: datetime, course_title_en: str = "") -> dict[str, Any]:
    """``passed`` or ``failed`` with the score: ``scaled`` is raw/max, kept within [-1, 1] as
    xAPI requires (a quiz may allow negative marks), and ``min`` no higher than ``raw``."""
    score_part: dict[str, Any] = {"raw": score, "min": min(0.0, score)}
    if max_score > 0:
        score_part["max"] = max(max_score, score)
        score_part["scaled"] = round(max(-1.0, min(1.0, score / max_score)), 4)
    obj = _activity(_url(place, "quizzes", quiz_id), ASSESSMENT, quiz_title)
    st = _base(statement_id, place, PASSED if passed else FAILED, obj, now, (course_id, course_title, course_title_en))
    st["result"] = {"score": score_part, "success": passed, "completion": True}
    st["context"]["extensions"] = {**st["context"].get("extensions", {}),
                                   _url(place, "xapi", "extensions", "attempt"): attempt_number}
    return st


def certificate_earned(statement_id: str, place: Place, *, course_id: str, course_title: str,
                       now: datetime, course_title_en: str = "") -> dict[str, Any]:
    # The course's certificate, not the one with this code: its verification page shows the
    # holder's name, which would undo the opaque actor.
    obj = _activity(_url(place, "courses", course_id, "certificate"), CERTIFICATE, f"Chứng nhận: {course_title}",
                    f"Certificate: {course_title_en}" if course_title_en else "")
    return _base(statement_id, place, EARNED, obj, now, (course_id, course_title, course_title_en))


def certificate_voided(statement_id: str, place: Place, *, earned_id: str, now: datetime) -> dict[str, Any]:
    """A revoked certificate voids the statement that recorded it (xAPI's own way to withdraw a
    statement: an LRS leaves voided statements out of its answers), rather than a verb of our own."""
    return _base(statement_id, place, VOIDED, {"objectType": "StatementRef", "id": earned_id}, now, None)
