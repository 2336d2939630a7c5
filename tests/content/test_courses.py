from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.config import PROJECT_ROOT
from lms.content.courses import check_courses
from lms.content.rendering import render_markdown
from lms.services.catalogue import sync_courses
from lms.store import Course, Lesson
from tests.factories import now

CONTENT = PROJECT_ROOT / "course_content"


def test_every_real_course_loads_without_problems() -> None:
    courses, problems = check_courses(CONTENT)
    assert problems == []
    assert len(courses) >= 3
    for course in courses:
        assert len(course.lessons) >= 5, course.id
        for lesson in course.lessons:
            words = len(lesson.markdown.split())
            assert words >= 400, f"{lesson.source}: {words} words"
            assert "admonition warning" in lesson.html, f"{lesson.source} has no warning box"
            assert "Tự kiểm tra" in lesson.markdown, f"{lesson.source} has no self-check"


@pytest.fixture()
def broken(tmp_path: Path) -> Path:
    root = tmp_path / "course_content"
    shutil.copytree(CONTENT, root, ignore=shutil.ignore_patterns("*.txt"))
    return root


def _first_lesson(root: Path) -> Path:
    return sorted(root.glob("*/01-*.md"))[0]


def test_unterminated_front_matter_is_reported_with_file_and_line(broken: Path) -> None:
    lesson = _first_lesson(broken)
    lines = lesson.read_text(encoding="utf-8").split("\n")
    close = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    del lines[close]
    lesson.write_text("\n".join(lines), encoding="utf-8")
    _, problems = check_courses(broken)
    expected = f"{lesson}:1: front matter opened on line 1 is never closed with a '---' line"
    assert [str(p) for p in problems] == [expected]


def test_bad_yaml_unknown_code_missing_image_and_alt(broken: Path) -> None:
    lesson = _first_lesson(broken)
    text = lesson.read_text(encoding="utf-8")
    text = text.replace("competences: [", "competences: [\"9.9\", ", 1)
    text += "\n\n![](assets/khong-co.png)\n\n![Ảnh minh họa](assets/cung-khong-co.svg)\n"
    lesson.write_text(text, encoding="utf-8")
    _, problems = check_courses(broken)
    messages = {(Path(p.file).name, p.message) for p in problems}
    assert (lesson.name, "unknown competence code '9.9'") in messages
    assert (lesson.name, "image 'assets/khong-co.png' has no alt text") in messages
    assert (lesson.name, "missing image 'assets/cung-khong-co.svg'") in messages
    last = len(text.split("\n"))
    lines = {p.line for p in problems if "cung-khong-co" in p.message}
    assert lines == {last - 1}


def test_invalid_yaml_points_at_its_line(broken: Path) -> None:
    lesson = _first_lesson(broken)
    lines = lesson.read_text(encoding="utf-8").split("\n")
    lines.insert(2, "title: [chưa đóng")
    lesson.write_text("\n".join(lines), encoding="utf-8")
    _, problems = check_courses(broken)
    assert len(problems) == 1 and problems[0].file == str(lesson)
    assert problems[0].line in (3, 4) and "invalid front matter" in problems[0].message


def test_duplicate_lesson_id_is_reported(broken: Path) -> None:
    first, second = sorted(broken.glob("*/0[12]-*.md"))[:2]
    first_id = next(line for line in first.read_text(encoding="utf-8").splitlines() if line.startswith("id:"))
    text = second.read_text(encoding="utf-8").split("\n")
    text = [first_id if line.startswith("id:") else line for line in text]
    second.write_text("\n".join(text), encoding="utf-8")
    _, problems = check_courses(broken)
    assert any("duplicate lesson id" in p.message and p.file == str(second) for p in problems)


def test_course_toml_errors(broken: Path) -> None:
    toml = sorted(broken.glob("*/course.toml"))[0]
    toml.write_text(toml.read_text(encoding="utf-8").replace("version =", "version = 12 #", 1), encoding="utf-8")
    _, problems = check_courses(broken)
    found = [(Path(p.file).name, p.message) for p in problems]
    assert found == [("course.toml", "'version' must be a non-empty string")]


def test_sanitiser_removes_scripts_and_keeps_callouts() -> None:
    html = render_markdown('!!! warning "Cảnh báo"\n    Đừng bấm <script>alert(1)</script>'
                           '<img src=x onerror=alert(1)> [x](javascript:alert(1))\n\n| a | b |\n|---|---|\n| 1 | 2 |')
    assert "<script" not in html and "onerror" not in html and "javascript:" not in html
    assert '<div class="admonition warning">' in html and '<table class="reflow">' in html and 'data-label="a"' in html


def test_sync_is_idempotent_and_refreshes_changes(session: Session, broken: Path) -> None:
    first = sync_courses(session, CONTENT, now=now())
    assert first.created == 0 and first.updated == 0
    lesson = _first_lesson(broken)
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\n\nMột đoạn mới thêm.\n", encoding="utf-8")
    changed = sync_courses(session, broken, now=now())
    assert changed.updated == 1 and changed.unchanged == first.unchanged - 1
    course_id = lesson.parent.name
    html = session.scalars(select(Lesson.html).where(Lesson.course_id == course_id, Lesson.position == 1)).one()
    assert "Một đoạn mới thêm." in html
    assert session.get(Course, course_id) is not None
