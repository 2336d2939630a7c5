"""The lesson editor's use cases: preview, publish, history, and how `lms content sync` treats
lessons published in the browser (docs/content-format.md, "Editing lessons in the browser")."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lms.config import PROJECT_ROOT
from lms.services import audit, catalogue, lessons
from lms.services.content import sync_all
from lms.services.errors import Conflict, Forbidden, NotFound
from lms.store import AuditEvent, Lesson, LessonVersion
from tests import factories
from tests.factories import now

COURSE = "an-toan-so"
LESSON = "an-toan-so-01"
OTHER = "an-toan-so-02"
FOLDER = PROJECT_ROOT / "course_content" / COURSE


def _lesson(session: Session, lesson_id: str = LESSON) -> Lesson:
    lesson = session.get(Lesson, lesson_id)
    assert lesson is not None
    return lesson


def _versions(session: Session, lesson_id: str = LESSON) -> int:
    return session.scalar(select(func.count()).select_from(LessonVersion).where(
        LessonVersion.lesson_id == lesson_id)) or 0


def _publish(session: Session, role: str = "trainer", *, title: str = "Cuộc gọi giả danh (bản sửa)",
             markdown: str = "## Mới\n\nNội dung mới của bài.", base_version: int | None = None) -> lessons.Published:
    user = factories.user(session, role=role)
    if role == "trainer":
        factories.co_owner(session, user, "course", "an-toan-so")
    token = audit.acting(user, "203.0.113.7")
    try:
        return lessons.publish(session, user, LESSON, title=title, markdown=markdown, base_version=base_version,
                               course_folder=FOLDER, now=now())
    finally:
        audit.done(token)


def test_sync_stores_the_markdown_source_and_a_first_version(session: Session) -> None:
    lesson = _lesson(session)
    text = (FOLDER / lesson.source).read_text(encoding="utf-8")
    assert lesson.markdown and text.endswith(lesson.markdown) and not lesson.markdown.lstrip().startswith("id:")
    assert lesson.version >= 1 and lesson.edited_at is None
    assert session.scalar(select(LessonVersion.origin).where(LessonVersion.lesson_id == LESSON,
                                                            LessonVersion.version == lesson.version)) == "file"


def test_preview_sanitises_and_stores_nothing(session: Session) -> None:
    lesson = _lesson(session)
    before = (lesson.html, lesson.version, _versions(session))
    draft = lessons.preview(lesson, " Tiêu đề ", "## Xin chào\n\n<script>alert(1)</script>Chữ **đậm** "
                                                 "<img src=x onerror=alert(2)> [x](javascript:alert(3))",
                            course_folder=FOLDER)
    assert "<h2>Xin chào</h2>" in draft.html and "<strong>đậm</strong>" in draft.html
    assert "<script" not in draft.html and "alert(1)" not in draft.html
    assert "onerror" not in draft.html and "javascript:" not in draft.html
    assert draft.title == "Tiêu đề" and draft.problems == []
    session.flush()
    assert (lesson.html, lesson.version, _versions(session)) == before
    assert not session.dirty and not session.new


def test_preview_reports_body_problems_with_lines(session: Session) -> None:
    draft = lessons.preview(_lesson(session), "T", "Dòng một\r\n\r\n![](assets/khong-co.svg)\n![Ảnh](https://x.vn/a.png)",
                            course_folder=FOLDER)
    found = [(p.line, p.key) for p in draft.problems]
    assert found == [(3, "image.no_alt"), (3, "image.missing"), (4, "image.remote")]
    assert lessons.preview(_lesson(session), "T", "  \n", course_folder=FOLDER).problems[0].key == "body.empty"


def test_publish_stores_a_new_version_the_learner_sees_and_audits_it(session: Session) -> None:
    lesson = _lesson(session)
    old_version = lesson.version
    result = _publish(session, markdown="## Mới\n\nNội dung mới.<script>alert(1)</script>",
                      base_version=old_version)
    assert result.changed and result.version == old_version + 1
    seen = catalogue.get_lesson(session, LESSON)
    assert "Nội dung mới." in seen.html and "<script" not in seen.html and "alert(1)" not in seen.html
    assert seen.title == "Cuộc gọi giả danh (bản sửa)" and seen.edited_at is not None
    assert seen.updated_at is not None
    [latest, *_] = lessons.history(session, LESSON)
    assert (latest.version, latest.origin, latest.title) == (result.version, "browser", seen.title)
    assert latest.author_id is not None and latest.markdown == seen.markdown
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "lesson.publish",
                                                       AuditEvent.object_id == LESSON))
    assert event.detail["version"] == result.version and event.detail["previous_version"] == old_version
    assert event.source == "203.0.113.7" and event.actor_id == latest.author_id
    again = _publish(session, markdown=seen.markdown, title=seen.title)
    assert not again.changed and again.version == result.version


def test_publish_refuses_invalid_text_and_stale_versions(session: Session) -> None:
    lesson = _lesson(session)
    before = (lesson.html, lesson.version, _versions(session))
    with pytest.raises(lessons.DraftInvalid) as exc:
        _publish(session, markdown="Chữ\n\n![](assets/a.svg)")
    assert exc.value.fields == {"body": "lesson.body_invalid"} and exc.value.problems[0].line == 3
    with pytest.raises(lessons.DraftInvalid) as exc:
        _publish(session, title="   ")
    assert "title" in exc.value.fields
    with pytest.raises(Conflict):
        _publish(session, base_version=lesson.version - 1)
    assert (lesson.html, lesson.version, _versions(session)) == before


@pytest.mark.parametrize("role", ["citizen", "official", "manager"])
def test_only_trainers_and_admins_may_edit(session: Session, role: str) -> None:
    with pytest.raises(Forbidden):
        _publish(session, role=role)
    with pytest.raises(Forbidden):
        lessons.editable_lesson(session, factories.user(session, role=role), "khong-co-bai-nay")
    assert lessons.editable_lesson(session, factories.user(session, role="admin"), LESSON).id == LESSON
    with pytest.raises(NotFound):
        lessons.editable_lesson(session, factories.user(session, role="trainer"), "khong-co-bai-nay")


def test_a_trainer_who_does_not_co_own_the_course_may_not_edit_it(session: Session) -> None:
    stranger = factories.user(session, role="trainer")
    with pytest.raises(Forbidden):
        lessons.editable_lesson(session, stranger, LESSON)
    factories.co_owner(session, stranger, "course", "dich-vu-cong")  # another course is not this one
    with pytest.raises(Forbidden):
        lessons.editable_lesson(session, stranger, LESSON)
    factories.co_owner(session, stranger, "course", "an-toan-so")
    assert lessons.editable_lesson(session, stranger, LESSON).id == LESSON


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "course_content"
    shutil.copytree(PROJECT_ROOT / "course_content", root)
    return root


def _sync(session: Session, root: Path) -> dict[str, object]:
    return sync_all(session, root, None, now=now())


def test_sync_keeps_browser_edits_until_the_file_changes(session: Session, tmp_path: Path) -> None:
    root = _copy(tmp_path)
    published = _publish(session, markdown="## Bản sửa trên trình duyệt\n\nGiữ lại khi tệp chưa đổi.")
    report = _sync(session, root)
    assert report["lessons_kept"] == [LESSON]
    lesson = _lesson(session)
    assert "Giữ lại khi tệp chưa đổi." in lesson.html and lesson.version == published.version

    # Another lesson of the same course changes: that course is synced again, the edit stays.
    other = root / COURSE / _lesson(session, OTHER).source
    other.write_text(other.read_text(encoding="utf-8") + "\nĐoạn thêm vào bài hai.\n", encoding="utf-8")
    report = _sync(session, root)
    assert report["lessons_kept"] == [LESSON]
    assert report["courses"]["updated"] == 1  # type: ignore[index]
    assert "Đoạn thêm vào bài hai." in _lesson(session, OTHER).html
    assert "Giữ lại khi tệp chưa đổi." in _lesson(session).html

    # The lesson's own file changes: the file wins, the browser text stays in the history.
    own = root / COURSE / lesson.source
    own.write_text(own.read_text(encoding="utf-8") + "\nĐoạn mới trong tệp.\n", encoding="utf-8")
    report = _sync(session, root)
    assert report["lessons_kept"] == []
    lesson = _lesson(session)
    assert "Đoạn mới trong tệp." in lesson.html and "Giữ lại khi tệp chưa đổi." not in lesson.html
    assert lesson.version == published.version + 1 and lesson.edited_at is None
    history = lessons.history(session, LESSON)
    assert [(v.version, v.origin) for v in history[:2]] == [(lesson.version, "file"),
                                                             (published.version, "browser")]
    assert "Giữ lại khi tệp chưa đổi." in history[1].markdown
    assert _sync(session, root)["lessons_kept"] == []


def test_sync_fills_the_source_of_lessons_synced_before_it_was_stored(session: Session) -> None:
    lesson = _lesson(session)
    markdown = lesson.markdown
    lesson.markdown = ""
    session.execute(LessonVersion.__table__.delete().where(LessonVersion.lesson_id == LESSON))  # type: ignore[attr-defined]
    session.flush()
    report = _sync(session, PROJECT_ROOT / "course_content")
    assert report["courses"]["updated"] == 1  # type: ignore[index]
    assert _lesson(session).markdown == markdown and _versions(session) == 1
