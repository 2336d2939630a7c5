"""The editorial rules of lms.content.style: each fires on a bad sample and stays quiet on a good one."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from click.testing import CliRunner

from lms.cli import main
from lms.config import PROJECT_ROOT
from lms.content.courses import check_courses
from lms.content.quizzes import check_quizzes
from lms.content.style import Finding, check_style, page_word_counts, sentences
from lms.services.content import check_all

TODAY = date(2026, 12, 2)
_SOURCES = """sources:
  - title: "Nghị định 69/2024/NĐ-CP"
    url: https://vneid.gov.vn
    checked: 2026-11-30
review_by: {review_by}
"""
_PAGE = " ".join(["Bạn mở ứng dụng VNeID trên điện thoại của mình."] * 30)  # 300 words, short sentences
_PRACTICE = f"\n## Thực hành\n\n{_PAGE}\n"


def _course(root: Path, *, body: str = f"## Trang một\n\n{_PAGE}\n", front: str | None = None,
            competences: str = '["4.2", "2.6"]') -> Path:
    folder = root / "khoa-mau"
    (folder / "assets").mkdir(parents=True, exist_ok=True)
    (folder / "course.toml").write_text(f'''id = "khoa-mau"
title = "Khóa mẫu"
title_en = "Sample"
summary = "Một khóa học mẫu."
summary_en = "A sample course."
audience = ["citizen"]
competences = {competences}
version = "1"
lessons = ["01-bai"]
''', encoding="utf-8")
    meta = front if front is not None else _SOURCES.format(review_by="2027-06-30")
    (folder / "01-bai.md").write_text(f'''---
id: khoa-mau-01
title: "Bài mẫu"
competences: ["4.2"]
{meta}---
{body}''' + ("" if "Thực hành" in body else _PRACTICE), encoding="utf-8")
    return folder / "01-bai.md"


def _quiz(root: Path, name: str, body: str, *, kind: str = "final", draw: int | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"{name}.toml"
    lesson = 'lesson = "khoa-mau-01"\n' if kind == "lesson" else ""
    if kind == "final":  # a final caps its attempts (the attempt-policy rule)
        lesson = "max_attempts = 3\nattempt_window_hours = 24\n"
    draw_table = f"\n[draw]\ncount = {draw}\n" if draw else ""
    path.write_text(f'id = "{name}"\ncourse = "khoa-mau"\ntitle = "Bài kiểm tra"\nkind = "{kind}"\n{lesson}'
                    f"{draw_table}\n{body}", encoding="utf-8")
    return path


def _single(qid: str, text: str, options: int = 4, competence: str = "4.2") -> str:
    choices = "".join(f'  [[questions.choices]]\n  text = "Lựa chọn {n}"\n' + ("  correct = true\n" if n == 0 else "")
                      for n in range(options))
    return f'[[questions]]\nid = "{qid}"\ntype = "single"\ntext = "{text}"\ncompetences = ["{competence}"]\n{choices}\n'


def _findings(tmp_path: Path) -> list[Finding]:
    courses, problems = check_courses(tmp_path / "courses")
    quizzes, quiz_problems = check_quizzes(tmp_path / "quizzes")
    assert problems == [] and quiz_problems == []
    return check_style(courses, quizzes, today=TODAY)


def _messages(findings: list[Finding], *, warning: bool) -> list[str]:
    return [f.message for f in findings if f.warning is warning]


def test_the_project_content_has_no_editorial_errors() -> None:
    problems, summary, _ = check_all(PROJECT_ROOT / "course_content", PROJECT_ROOT / "quizzes", today=TODAY)
    assert [str(p) for p in problems] == []
    assert summary.startswith(f"{len(list((PROJECT_ROOT / 'course_content').glob('*/course.toml')))} courses")


def test_the_project_content_has_no_editorial_warnings() -> None:
    """Issue 20: every sentence of the shipped lessons is 25 words or fewer and every page 150-450
    words, so a long sentence or page added later fails here instead of joining a list of warnings.
    TODAY is fixed, so a lesson's review date passing on the calendar does not fail the suite."""
    _, _, warnings = check_all(PROJECT_ROOT / "course_content", PROJECT_ROOT / "quizzes", today=TODAY)
    assert [str(w) for w in warnings] == []


def test_a_good_sample_raises_nothing(tmp_path: Path) -> None:
    _course(tmp_path / "courses")
    _quiz(tmp_path / "quizzes", "khoa-mau-cuoi-khoa", "".join(_single(f"q{n}", f"Câu hỏi số {n}?") for n in range(6)),
          draw=2)
    assert _findings(tmp_path) == []


def test_long_sentences_warn_above_25_words_and_fail_above_40(tmp_path: Path) -> None:
    thirty = " ".join(["chữ"] * 30) + "."
    fifty = " ".join(["chữ"] * 50) + "."
    lesson = _course(tmp_path / "courses", body=f"## Trang một\n\n{_PAGE}\n\n{thirty}\n\n- {thirty}\n\n{fifty}\n")
    findings = _findings(tmp_path)
    body_start = lesson.read_text(encoding="utf-8").split("\n").index("## Trang một") + 1
    assert [(f.line, f.warning) for f in findings if "sentence" in f.message] == [
        (body_start + 4, True),  # 30 words in running text; the same in a list item is allowed
        (body_start + 8, False),
    ]
    assert str(next(f for f in findings if not f.warning)).startswith(f"{lesson}:{body_start + 8}: sentence of 50")


def test_sentences_split_like_a_reader_and_skip_tables() -> None:
    found = sentences('Một câu. Hai câu!\n\n| Cột | Cột |\n|---|---|\n\n1. **Bước** một.\n')
    assert [(line, text, in_list) for line, text, in_list in found] == [
        (1, "Một câu.", False), (1, "Hai câu!", False), (6, "Bước một.", True)]


def test_pages_outside_150_to_450_words_warn(tmp_path: Path) -> None:
    long_page = " ".join(["Chữ."] * 500)
    _course(tmp_path / "courses", body=f"## Ngắn\n\nChỉ vài chữ.\n\n## Vừa\n\n{_PAGE}\n\n## Dài\n\n{long_page}\n")
    assert [m.split(" has")[0] for m in _messages(_findings(tmp_path), warning=True)] == ["page 'Ngắn'", "page 'Dài'"]
    assert [words for _, _, words in page_word_counts(f"## A\n\n{_PAGE}\n")] == [300]


def test_sources_and_review_by_are_required(tmp_path: Path) -> None:
    _course(tmp_path / "courses", front="")
    errors = _messages(_findings(tmp_path), warning=False)
    assert sorted(m.split(":")[0] for m in errors) == ["front matter needs 'review_by'", "front matter needs 'sources'"]


def test_a_source_without_its_checked_date_is_a_load_error(tmp_path: Path) -> None:
    lesson = _course(tmp_path / "courses", front='sources:\n  - title: "Luật"\nreview_by: 2027-01-01\n')
    _, problems = check_courses(tmp_path / "courses")
    assert [str(p) for p in problems] == [
        f"{lesson}:5: source 1 needs 'checked': the date it was last read, YYYY-MM-DD"]


def test_a_passed_review_date_warns_and_check_still_exits_0(tmp_path: Path) -> None:
    lesson = _course(tmp_path / "courses", front=_SOURCES.format(review_by="2025-01-31"))
    findings = _findings(tmp_path)
    assert [str(f) for f in findings] == [
        f"{lesson}:2: warning: review date 2025-01-31 has passed: check the lesson against its sources and set a "
        "new 'review_by'"]
    result = CliRunner().invoke(main, ["content", "check", str(tmp_path / "courses")], catch_exceptions=False)
    assert result.exit_code == 0 and f"{lesson}:2: warning: review date 2025-01-31 has passed" in result.stderr


def test_final_pool_must_be_three_times_the_draw(tmp_path: Path) -> None:
    _course(tmp_path / "courses")
    quiz = _quiz(tmp_path / "quizzes", "khoa-mau-cuoi-khoa",
                 "".join(_single(f"q{n}", f"Câu hỏi số {n}?") for n in range(5)), draw=2)
    assert [str(f) for f in _findings(tmp_path)] == [
        f"{quiz}:8: final draws 2 questions from a pool of 5; the pool needs at least 6"]


def test_single_choice_needs_four_options_and_declared_competences(tmp_path: Path) -> None:
    _course(tmp_path / "courses")
    _quiz(tmp_path / "quizzes", "khoa-mau-bai-01", _single("q1", "Ba lựa chọn?", options=3)
          + _single("q2", "Năng lực lạ?", competence="6.1"), kind="lesson")
    assert _messages(_findings(tmp_path), warning=False) == [
        "single-choice question 'q1' has 3 options; give it 4",
        "question 'q2' is tagged 6.1, which course 'khoa-mau' does not declare",
    ]


def test_a_final_may_not_copy_a_lesson_question_word_for_word(tmp_path: Path) -> None:
    _course(tmp_path / "courses")
    lesson_quiz = _quiz(tmp_path / "quizzes", "khoa-mau-bai-01", _single("q1", "Mật khẩu nào mạnh nhất?"),
                        kind="lesson")
    _quiz(tmp_path / "quizzes", "khoa-mau-cuoi-khoa", _single("q1", "mật khẩu  nào MẠNH nhất?")
          + _single("q2", "Bác Ba nên chọn mật khẩu nào?") + _single("q3", "Câu thứ ba?"), draw=1)
    assert _messages(_findings(tmp_path), warning=False) == [
        f"question 'q1' is copied word for word from {lesson_quiz}:7; a final asks it in new words"]


def test_lesson_images_come_only_from_assets_lazy_and_sized(tmp_path: Path) -> None:
    from lms.content.courses import render_lesson

    folder = tmp_path / "khoa"
    (folder / "assets").mkdir(parents=True)
    (folder / "assets" / "man-hinh.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 320 600"><title>x</title></svg>', encoding="utf-8")
    html = render_lesson("![Màn hình đăng nhập](assets/man-hinh.svg)\n\n![a](https://evil.example/x.png) "
                         "![b](assets/../../secret.svg) ![c](/etc/passwd.svg)\n", "khoa", folder=folder)
    assert ('<img loading="lazy" width="320" height="600" alt="Màn hình đăng nhập" '
            'src="../courses/khoa/assets/man-hinh.svg">') in html
    assert html.count("src=") == 1 and "evil" not in html and "secret" not in html and "passwd" not in html


def test_self_check_answers_fold_into_details_without_javascript(tmp_path: Path) -> None:
    from lms.content.courses import render_lesson

    html = render_lesson('1. Câu hỏi?\n\n<details markdown="1">\n<summary>Xem đáp án</summary>\n\n'
                         "- Câu 1: **Đúng** rồi.\n\n</details>\n\n"
                         '<details open onclick="x()"><summary>y</summary></details>', "khoa")
    assert "<details>\n<summary>Xem đáp án</summary>\n<ul>\n<li>Câu 1: <strong>Đúng</strong> rồi.</li>" in html
    assert "onclick" not in html and "<script" not in html


def test_a_lesson_without_practice_or_with_open_answers_warns(tmp_path: Path) -> None:
    lesson = _course(tmp_path / "courses", body=f"## Trang một\n\n{_PAGE}\n\n### Tự kiểm tra\n\n1. Câu hỏi?\n\n"
                     "Đáp án: câu 1 là thế này.\n")
    text = lesson.read_text(encoding="utf-8").replace("## Thực hành", "## Việc khác")
    lesson.write_text(text, encoding="utf-8")
    assert sorted(m.split(" (")[0].split(":")[0] for m in _messages(_findings(tmp_path), warning=True)) == [
        "no practice section", "self-check answers are not folded in <details markdown=\"1\">"]
    answers = '<details markdown="1">\n<summary>Xem đáp án</summary>\n\nCâu 1.\n\n</details>'
    lesson.write_text(text.replace("## Việc khác", "## Thực hành: trên điện thoại của bạn")
                      .replace("Đáp án: câu 1 là thế này.", answers), encoding="utf-8")
    assert _findings(tmp_path) == []
