"""Who may see and change what: the one place pages, the API, the CLI and templates ask.

Authoring. A course comes from its folder in ``course_content/``; a quiz either from a file in
``quizzes/`` (``source == "toml"``: the finals and lesson quizzes) or from an import or the
bank editor. A quiz has an owner (whoever imported it; ``None`` for the server operator's
command line) and a course or quiz may have co-owners (:class:`lms.store.CoOwner`). A trainer or
manager changes only what they own or co-own; an admin changes any course and any imported quiz.
A quiz loaded from ``quizzes/`` changes only through its file: nobody edits, imports over or
replaces it from a browser or a command. A draft quiz is seen only by those who may change it.

In-person classes. Trainers and managers act only inside their own unit: a province-level person
in the province and its communes, a commune-level person in that commune (admins anywhere).
Nobody records or confirms their own result, and the manager who confirms a pass without a
qualifying score is never the person who recorded it.

Reports and unit administration. An admin sees every unit; a manager sees their own unit and,
for a province, its communes; nobody else sees a unit's reports, mandates, population or
sign-in policy.

Pages. Who may open which group of pages at all (``may_open_reports``, ``can_author``,
``is_admin``, ``has_duties``): the web layer builds its decorators and the template's menu from
these, never from role names of its own.

Every function takes the acting account (``None`` is the server operator at the command line,
where the rule says so) and returns a bool; services raise Forbidden on False.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.services.errors import Forbidden, NotFound
from lms.services.units import unit_and_descendants
from lms.store import Attendance, CoOwner, Course, Quiz, Role, TrainingClass, Unit, User

__all__ = [
    "AUTHOR_ROLES",
    "EDITOR_ROLES",
    "FILE_SOURCE",
    "MANAGER_ROLES",
    "can_author",
    "can_confirm_result",
    "can_edit_course",
    "can_edit_quiz",
    "can_grant",
    "can_hand_out_setup_code",
    "can_manage_class",
    "can_record_result",
    "can_replace_quiz",
    "can_see_quiz",
    "can_see_unit",
    "co_owner_ids",
    "has_duties",
    "in_scope",
    "is_admin",
    "is_file_quiz",
    "may_edit_lessons",
    "may_open_reports",
    "scope_units",
    "unit_scope",
]

AUTHOR_ROLES = (Role.TRAINER, Role.MANAGER, Role.ADMIN)
EDITOR_ROLES = (Role.TRAINER, Role.ADMIN)  # courses' lessons: a manager's scope is units, not courses
MANAGER_ROLES = (Role.MANAGER, Role.ADMIN)
FILE_SOURCE = "toml"  # Quiz.source of quizzes loaded from quizzes/*.toml


def _active(user: User | None) -> bool:
    return user is not None and bool(user.is_active)


def can_author(user: User | None) -> bool:
    """May open the authoring pages at all (what they may change is decided per object)."""
    return _active(user) and user is not None and user.role in AUTHOR_ROLES


def is_admin(user: User | None) -> bool:
    """The site's administrator: every unit, course and imported quiz, and the site's settings."""
    return user is not None and user.role == Role.ADMIN


def may_open_reports(user: User | None) -> bool:
    """May open the managers' pages at all (reports, mandates, teams, set-up codes); which units
    they show is :func:`can_see_unit`'s."""
    return user is not None and user.role in MANAGER_ROLES


def may_edit_lessons(user: User | None) -> bool:
    """May edit some course's lessons in the browser (which courses: :func:`can_edit_course`)."""
    return can_author(user) and user is not None and user.role in EDITOR_ROLES


def has_duties(user: User | None) -> bool:
    """Has mandated training to do (an official on a unit's roster or not)."""
    return user is not None and user.role == Role.OFFICIAL


def co_owner_ids(session: Session, object_type: str, object_id: str) -> set[int]:
    return set(session.scalars(select(CoOwner.user_id).where(CoOwner.object_type == object_type,
                                                             CoOwner.object_id == object_id)))


def _co_owns(session: Session, user: User, object_type: str, object_id: str) -> bool:
    return session.scalar(select(CoOwner.id).where(CoOwner.object_type == object_type, CoOwner.object_id == object_id,
                                                   CoOwner.user_id == user.id)) is not None


def is_file_quiz(quiz: Quiz) -> bool:
    return quiz.source == FILE_SOURCE


def can_edit_course(session: Session, user: User | None, course: Course | str) -> bool:
    """Edit the course's lessons in the browser: an admin, or a trainer co-owning the course
    (a manager's scope is units, not courses)."""
    if not may_edit_lessons(user):
        return False
    assert user is not None
    if user.role == Role.ADMIN:
        return True
    course_id = course if isinstance(course, str) else course.id
    return _co_owns(session, user, "course", course_id)


def can_edit_quiz(session: Session, user: User | None, quiz: Quiz) -> bool:
    """Change a quiz's bank, title, pass mark or publication: never a file quiz; otherwise an
    admin, the quiz's owner or a co-owner."""
    if is_file_quiz(quiz) or not can_author(user):
        return False
    assert user is not None
    if user.role == Role.ADMIN or (quiz.owner_id is not None and quiz.owner_id == user.id):
        return True
    return _co_owns(session, user, "quiz", quiz.id)


def can_replace_quiz(session: Session, actor: User | None, quiz: Quiz) -> bool:
    """Import a file over a quiz (``--replace``): only a quiz that was itself imported, and only
    by its owner; at the command line the operator owns the quizzes imported there."""
    if is_file_quiz(quiz):
        return False
    if actor is None:
        return quiz.owner_id is None
    return can_author(actor) and quiz.owner_id == actor.id


def can_see_quiz(session: Session, user: User | None, quiz: Quiz) -> bool:
    """A published quiz is for everyone; a draft only for those who may change it."""
    return bool(quiz.published) or can_edit_quiz(session, user, quiz)


def can_grant(session: Session, actor: User | None, object_type: str, object_id: str) -> bool:
    """Add or remove a co-owner: the operator (CLI), an admin, or the owner of an imported quiz."""
    if actor is None:
        return True
    if not can_author(actor):
        return False
    if actor.role == Role.ADMIN:
        return True
    if object_type == "quiz":
        quiz = session.get(Quiz, object_id)
        return quiz is not None and not is_file_quiz(quiz) and quiz.owner_id == actor.id
    return False


# ------------------------------------------------------------------ units and classes
def can_see_unit(session: Session, user: User, unit_code: str) -> bool:
    """A unit's reports and administration: an admin everywhere; a manager in their unit and,
    for a province, its communes."""
    if user.role == Role.ADMIN:
        return True
    if user.role != Role.MANAGER or not user.unit_code:
        return False
    return unit_code in unit_and_descendants(session, user.unit_code)


def unit_scope(session: Session, viewer: User, unit_code: str) -> list[str]:
    """The unit and its communes, when the viewer may see them (NotFound / Forbidden otherwise)."""
    if session.get(Unit, unit_code) is None:
        raise NotFound("unit.not_found")
    if not can_see_unit(session, viewer, unit_code):
        raise Forbidden("auth.forbidden")
    return unit_and_descendants(session, unit_code)


def scope_units(session: Session, user: User | None) -> set[str] | None:
    """The units a trainer or manager acts in (``None``: everywhere, for an admin)."""
    if not can_author(user):
        return set()
    assert user is not None
    if user.role == Role.ADMIN:
        return None
    return set(unit_and_descendants(session, user.unit_code)) if user.unit_code else set()


def in_scope(session: Session, user: User | None, unit_code: str | None) -> bool:
    scope = scope_units(session, user)
    return scope is None or (unit_code is not None and unit_code in scope)


def can_manage_class(session: Session, user: User | None, klass: TrainingClass) -> bool:
    """The class's own trainer or a manager, each only inside their unit; or an admin."""
    if not can_author(user) or not in_scope(session, user, klass.unit_code):
        return False
    assert user is not None
    if user.role == Role.TRAINER:
        return klass.trainer_id == user.id
    return True


def can_record_result(session: Session, user: User | None, klass: TrainingClass, learner: User) -> bool:
    """Tick a learner present and write down their paper test: never one's own, and only for a
    learner registered inside the actor's unit (so figures land where the class was)."""
    if not can_manage_class(session, user, klass):
        return False
    assert user is not None
    return learner.id != user.id and in_scope(session, user, learner.unit_code)


def can_confirm_result(session: Session, user: User | None, klass: TrainingClass, row: Attendance,
                       learner: User) -> bool:
    """The second confirmation of a pass: a manager (or admin) of the unit who neither recorded
    the result nor is the learner."""
    if user is None or user.role not in MANAGER_ROLES or not can_record_result(session, user, klass, learner):
        return False
    return row.recorded_by_id is not None and row.recorded_by_id != user.id


def can_hand_out_setup_code(session: Session, actor: User | None, official: User) -> bool:
    """Make a one-time first-password code for someone: the operator (CLI) or an admin for anyone;
    a manager for a learner or trainer of a unit they see (never for another manager or admin)."""
    if actor is None or actor.role == Role.ADMIN:
        return True
    if actor.role != Role.MANAGER or official.role not in (Role.OFFICIAL, Role.CITIZEN, Role.TRAINER):
        return False
    return official.unit_code is not None and can_see_unit(session, actor, official.unit_code)
